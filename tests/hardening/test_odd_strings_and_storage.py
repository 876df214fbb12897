"""Defect 1 of the hardening issue: one page the database cannot store never aborts the
audit. Strings from platforms are normalised at the snapshot boundary (valid Unicode, no
NULs, names cut to what the schema stores, the cut marked), and recording a page is part
of that page's isolation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.db import store

ODD = (
    '{"platform": "goo\\u0000gle-groups", "external_id": "ext-odd", "kind": "group",'
    ' "name": "\\ud800 Chess ' + "x" * 600 + '",'
    ' "settings": {"visibility": "secret", "join_policy": "invite", "post_moderation": "all"},'
    ' "members": [{"id": "o", "email": "owner@district.org", "role": "owner",'
    ' "name": "Ol\\udcffive"}, {"id": "b", "email": "boss@district.org"}],'
    ' "posts": [{"id": "p1", "author_id": "o", "text": "Practice \\u0000at \\ud83d\\ude00 4"}]}'
)


def run(config: Path, out: Path, *extra: str):
    return CliRunner().invoke(app, ["run", "--config", str(config), "--output", str(out), *extra])


def test_odd_strings_are_audited_stored_and_reported(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"odd": ODD, "fine": {}}, db_url=db_url)
    result = run(config, tmp_path / "out")
    assert result.exit_code in (0, 1), result.output
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    pages = {p["id"]: p for p in findings["pages"]}
    assert pages["odd"]["status"] == "audited" and pages["fine"]["status"] == "audited"
    shown = pages["odd"]["platform_name"]
    assert len(shown) == 500 and shown.endswith("…") and shown.startswith("\ufffd Chess")
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Chess" in html and "\ufffd" in html
    again = CliRunner().invoke(
        app, ["report", "--config", str(config), "--output", str(tmp_path / "again")]
    )
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "index.html").stat().st_size > 1000


def test_a_page_the_database_refuses_is_that_pages_error(
    db_url: str,
    make_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = store.record_pages

    def refuse_bad(engine, run_id, records, *args, **kwargs):
        if any(r.page_id == "bad" and r.results for r in records):  # not its error row
            raise ValueError("value too long for type character varying(500)")
        return record(engine, run_id, records, *args, **kwargs)

    monkeypatch.setattr(store, "record_pages", refuse_bad)
    config = make_config({"bad": {}, "good": {}}, db_url=db_url)
    result = run(config, tmp_path / "out")
    assert result.exit_code == 3, result.output  # some page could not be audited
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    pages = {p["id"]: p for p in findings["pages"]}
    assert pages["good"]["status"] == "audited" and pages["good"]["passing"]
    assert pages["bad"]["status"] == "error"
    assert "could not be stored" in pages["bad"]["error"]
    assert findings["run"]["status"] == "incomplete"
