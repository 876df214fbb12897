"""The catalog commands: ``auditor rules`` and ``auditor connectors``."""

from __future__ import annotations

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
