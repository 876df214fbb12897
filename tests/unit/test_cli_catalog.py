"""The catalog commands: ``auditor rules`` and ``auditor connectors``."""

from __future__ import annotations

from typer.testing import CliRunner

from auditor.cli import app
from auditor.rules import catalog


def test_rules_lists_every_rule_with_severity_and_clause() -> None:
    result = CliRunner().invoke(app, ["rules"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for rule in catalog.RULES:
        line = next(x for x in result.output.splitlines() if f" {rule.id} " in x)
        assert rule.severity.value in line and rule.clause in line


def test_connectors_lists_file_connector_settings() -> None:
    result = CliRunner().invoke(app, ["connectors"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "file — Page snapshots exported as JSON files in a folder" in result.output
    assert "path" in result.output and "(required)" in result.output
    assert "max_concurrency" in result.output
