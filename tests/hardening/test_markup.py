"""Defect 8 of the hardening issue (and point 5 of the reports issue): text in square
brackets from platforms or the config is printed as written, never taken as rich markup."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app


def test_a_snapshot_value_with_markup_leaves_the_run_exit_code_intact(
    make_config: Callable[..., Path], tmp_path: Path
) -> None:
    bad = json.dumps({"platform": "x", "external_id": "ext-bad", "kind": "[/bold]"})
    config = make_config({"bad": bad, "good": {}})
    result = CliRunner().invoke(
        app, ["run", "--config", str(config), "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 3, result.output
    assert "[/bold]" in result.output


def test_config_errors_keep_their_brackets(make_config: Callable[..., Path]) -> None:
    config = make_config({"a": {}})
    config.write_text(config.read_text().replace('connector = "files"', 'connector = "exports"'))
    result = CliRunner().invoke(app, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert "no [[connectors]] named 'exports'" in result.output


def test_help_keeps_brackets_and_has_no_type_noise() -> None:
    result = CliRunner().invoke(app, ["schedule", "--help"], env={"COLUMNS": "200"})
    assert "[schedule] cron strings" in result.output
    flags = CliRunner().invoke(app, ["digest", "--help"], env={"COLUMNS": "200"}).output
    assert "--send" in flags and "<bool>" not in flags
