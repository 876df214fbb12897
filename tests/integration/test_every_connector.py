"""A config with one ``[[connectors]]`` block of every installed type runs end to end
through ``auditor run``: each cloud connector talks to the respx mock of its platform
(``tests/connectors/<platform>_platform.py``, all in one router), the facebook connector
reads the example attestation, the file connector an exported snapshot; every page is
audited from its own platform's data and no fake secret reaches the outputs."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from auditor.cli import app
from auditor.connectors.registry import available_connectors
from auditor.rules import catalog
from auditor.sample import SAMPLE_DIR
from tests.snapshots import passing_snapshot

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_sample  # noqa: E402
import google_groups_platform  # noqa: E402  (on sys.path through build_sample)
import mock_platforms  # noqa: E402

FILE_PAGE = "club-export"
CONTENT_RULES = {
    "DS3.respectful-speech",
    "DS6.confidentiality",
    "DS7.no-personal-links",
    "DS8.no-commercial-content",
}


def toml_value(value: Any) -> str:
    """A TOML literal for a string or number (JSON's spelling of them is valid TOML)."""
    return json.dumps(value)


def sample_register() -> dict[str, dict[str, str]]:
    """The sample district's register rows by external id (owners, approvals)."""
    with (SAMPLE_DIR / "pages.csv").open(encoding="utf-8", newline="") as f:
        return {row["external_id"]: row for row in csv.DictReader(f)}


def page_block(page_id: str, connector: str, row: dict[str, str]) -> list[str]:
    """A ``[[pages]]`` block for ``row`` of a register, fetched through ``connector``."""
    keys = ("external_id", "name", "kind", "school", "owner", "supervisor")
    lines = ["[[pages]]", f"id = {toml_value(page_id)}", f"connector = {toml_value(connector)}"]
    lines += [f"{key} = {toml_value(row[key])}" for key in keys]
    lines += [f"{key} = {toml_value(row[key])}" for key in ("approved_by", "approved_on")]
    return [*lines, ""]


def write_config(folder: Path) -> dict[str, tuple[str, str]]:
    """A config of every connector type with one page each; returns page id -> (connector
    type, external id)."""
    register = sample_register()
    lines = [
        "[district]",
        'name = "Every Connector District"',
        'web_domains = ["danbury.k12.ct.us", "district.org"]',
        'staff_email_domains = ["danbury.k12.ct.us", "district.org"]',
        'student_email_domains = ["students.danbury.k12.ct.us", "students.district.org"]',
        'timezone = "America/New_York"',
        "",
        "[database]",
        f"url = {toml_value('sqlite:///' + str(folder / 'audit.db'))}",
        "",
    ]
    pages: list[str] = []
    pages_of: dict[str, tuple[str, str]] = {}
    for platform in build_sample.PLATFORMS:
        lines += ["[[connectors]]", f'name = "{platform.type}-1"', f'type = "{platform.type}"']
        lines += [f"{k} = {toml_value(v)}" for k, v in platform.module.SETTINGS.items()]
        lines.append("")
        if platform.prepare is not None:
            platform.prepare(folder)
        for ref in platform.module.PAGES:
            pages += page_block(ref.id, f"{platform.type}-1", register[ref.external_id])
            pages_of[ref.id] = (platform.type, ref.external_id)
    exports = folder / "exports"
    exports.mkdir()
    snapshot = passing_snapshot("club-7", "Chess Club", "owner@danbury.k12.ct.us")
    (exports / "club-7.json").write_text(json.dumps(snapshot), encoding="utf-8")
    lines += ["[[connectors]]", 'name = "exports"', 'type = "file"', 'path = "exports"', ""]
    row = {
        "external_id": "club-7",
        "name": "Chess Club",
        "kind": "club",
        "school": "Danbury High School",
        "owner": "owner@danbury.k12.ct.us",
        "supervisor": "boss@district.org",
        "approved_by": "boss@district.org",
        "approved_on": "2026-08-20",
    }
    pages += page_block(FILE_PAGE, "exports", row)
    pages_of[FILE_PAGE] = ("file", "club-7")
    (folder / "config.toml").write_text("\n".join(lines + pages), encoding="utf-8")
    return pages_of


def fake_secrets() -> list[str]:
    """Every secret the run handles: the platforms' tokens, keys and client secrets (the
    Google variable names a key file: a line of its private key instead), and the access
    tokens the mocked token endpoints hand out."""
    key_file = google_groups_platform.KEY_FILE
    secrets = [
        value
        for platform in build_sample.PLATFORMS
        for value in platform.module.ENV.values()
        if value != str(key_file)
    ]
    key_lines = json.loads(key_file.read_text())["private_key"].splitlines()
    secrets.append(key_lines[len(key_lines) // 2])  # the first lines are the same for all keys
    for platform, name in (
        ("google", "token"),
        ("google", "gmail-token"),
        ("microsoft365", "token"),
    ):
        secrets.append(mock_platforms.load(platform, name)["access_token"])
    return secrets


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The platforms' fake credentials in the environment, the connectors' clocks frozen."""
    for platform in build_sample.PLATFORMS:
        for name, value in platform.module.ENV.items():
            monkeypatch.setenv(name, value)
    with build_sample.frozen_clocks():
        yield


def test_a_config_of_every_connector_runs_end_to_end(env: None, tmp_path: Path) -> None:
    pages_of = write_config(tmp_path)
    assert {kind for kind, _ in pages_of.values()} == set(available_connectors())
    fetched = {
        json.loads(text)["external_id"]: json.loads(text)
        for text in build_sample.generate().values()
    }
    out = tmp_path / "report"
    with respx.mock(assert_all_called=False) as router:
        build_sample.mount_mocks(router)
        result = CliRunner().invoke(
            app, ["run", "--config", str(tmp_path / "config.toml"), "--output", str(out)]
        )
        called = {r.name.split(":", 1)[0] for r in router.routes if r.called}
    assert result.exit_code == 1, result.output  # rules failed; 3 would mean a page errored
    assert called == {p.type for p in build_sample.PLATFORMS if p.mock is not None}

    data = json.loads((out / "findings.json").read_text())
    pages = {p["id"]: p for p in data["pages"]}
    assert set(pages) == set(pages_of)
    assert data["summary"]["not_audited"] == 0
    rule_ids = {rule.id for rule in catalog.all_rules()}
    platforms = {cls.type: cls.platform or "file" for cls in available_connectors().values()}
    for page_id, (kind, external_id) in pages_of.items():
        page = pages[page_id]
        assert page["status"] == "audited" and page["error"] is None, page_id
        assert page["platform"] == platforms[kind], page_id
        listed = {r["rule"] for r in page["results"]}
        by_id = {*page["passing"], *page["not_applicable"], *page["manual"]}
        assert listed | by_id == rule_ids, page_id
        if kind == "file":
            assert [r for r in page["results"] if r["status"] == "fail"] == [], page_id
            continue
        posts = {post["id"] for post in fetched[external_id]["posts"]}
        found = [
            e["ref"]
            for r in page["results"]
            if r["rule"] in CONTENT_RULES and r["status"] == "fail"
            for e in r["evidence"]
            if e["kind"] == "post"
        ]
        assert found, f"{page_id}: no content rule failed on a post"
        assert set(found) <= posts, f"{page_id}: evidence names posts its connector did not fetch"

    engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    with engine.connect() as conn:
        sent = dict(conn.execute(text("SELECT page_id, requests FROM page_audits")).all())
    engine.dispose()
    for page_id, (kind, _) in pages_of.items():  # each page's fetch counted its own requests
        api = kind not in ("file", "facebook")
        assert (sent[page_id] > 0) if api else (sent[page_id] == 0), (page_id, sent[page_id])
    assert "API requests" in result.output

    outputs = [p for p in out.rglob("*") if p.is_file()]
    outputs += list(tmp_path.glob("audit.db*"))
    assert tmp_path / "audit.db" in outputs and out / "findings.json" in outputs
    for secret in fake_secrets():
        assert secret not in result.output
        for path in outputs:
            assert secret.encode() not in path.read_bytes(), f"{secret[:8]}… in {path.name}"
