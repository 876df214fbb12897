"""The catalog commands: ``auditor rules`` and ``auditor connectors``."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from auditor.cli import app
from auditor.rules import catalog


def test_rules_lists_every_rule_with_severity_and_clause() -> None:
    result = CliRunner().invoke(app, ["rules"])
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert rows == [[r.id, r.severity.value, r.clause, r.title] for r in catalog.all_rules()]


def test_connectors_lists_file_connector_settings() -> None:
    result = CliRunner().invoke(app, ["connectors"])
    assert result.exit_code == 0
    assert "file — Page snapshots exported as JSON files in a folder" in result.output
    assert "path" in result.output and "(required)" in result.output
    assert "max_concurrency" in result.output


def test_one_rule_in_full_with_each_platform_fix() -> None:
    result = CliRunner().invoke(app, ["rules", "DS2.closed"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    rule = catalog.get("DS2.closed")
    assert rule.clause_text in result.output
    assert f"Why: {rule.rationale}" in result.output
    assert f"How to fix: {rule.remediation}" in result.output
    assert "on google-groups: Groups admin console" in result.output
    assert "Severity: high" in result.output


def test_one_rule_shows_the_severity_after_the_config_overrides(make_config: Any) -> None:
    path = make_config({"chess": {}}, extra='\n[rules.overrides."DS2.closed"]\nseverity = "low"\n')
    result = CliRunner().invoke(app, ["rules", "DS2.closed", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "Severity: low" in result.output


def test_an_unknown_rule_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["rules", "DS99.[bold]x"])
    assert result.exit_code == 2
    assert "no rule DS99.[bold]x" in result.output


def test_connectors_check_names_the_rules_with_only_general_steps() -> None:
    result = CliRunner().invoke(app, ["connectors", "--check"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("microsoft365:"))
    assert "general steps for" in line and "DS1.approval" in line
    assert "DS2.closed" not in line  # Teams has its own steps for it
