"""``auditor check-snapshot``: one line per file, exit 2 when any is not a valid snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import app


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_valid_and_invalid_files_each_get_one_line(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        "good.json",
        {"platform": "discord", "external_id": "42", "members": [{"id": "1"}], "posts": []},
    )
    bad = write(
        tmp_path,
        "bad.json",
        {"platform": "x", "external_id": "7", "settings": {"visibility": "[bold]everyone"}},
    )
    broken = write(tmp_path, "broken.json", "{not json")
    result = CliRunner().invoke(app, ["check-snapshot", str(good), str(bad), str(broken)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert f"{good}: ok (discord 42, 1 member(s), 0 post(s))" in lines
    assert any(
        line.startswith(f"{bad}: not a valid page snapshot: settings.visibility") for line in lines
    )
    assert "[bold]everyone" in result.output  # quoted, not eaten as markup
    assert any(line.startswith(f"{broken}: not valid JSON (line 1") for line in lines)


def test_all_valid_exits_0(tmp_path: Path) -> None:
    good = write(tmp_path, "g.json", {"platform": "canvas", "external_id": "5"})
    result = CliRunner().invoke(app, ["check-snapshot", str(good)])
    assert result.exit_code == 0
    assert "no member list, no posts" in result.output
