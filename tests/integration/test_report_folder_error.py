"""A report folder holding files the auditor did not write is refused in one sentence
naming the folder, not a traceback; the run's results are kept."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app


def test_a_foreign_report_folder_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "notes.txt").write_text("someone else's file")
    result = CliRunner().invoke(app, ["demo", "--output", str(folder)])
    assert result.exit_code == 2, result.output
    assert "the report could not be written" in result.output
    assert str(folder) in result.output and "Traceback" not in result.output
    assert "notes.txt" in result.output  # what is in the way
    assert (folder / "notes.txt").read_text() == "someone else's file"
