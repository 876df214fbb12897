"""A district using both cloud connectors, audited and searched end to end against respx."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import httpx
import pytest
import respx
from mock_platforms import (
    GOOGLE_GROUP,
    GOOGLE_TOKEN,
    GRAPH_TOKEN,
    TEAM,
    TENANT,
    mock_google,
    mock_microsoft,
    write_service_account_key,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import auditor.connectors.http
from auditor import discovery
from auditor.cli import app
from auditor.db.engine import make_engine
from auditor.db.models import DiscoveredGroup, PageAudit, Result
from auditor.loading import load_config

UNREGISTERED = {
    ("workspace", "chess-club@district.org"),
    ("workspace", "esports@district.org"),
    ("m365", "4f6a2b8c-1d3e-4a5b-9c7d-2e1f0a9b8c7d"),
    ("m365", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"),
}


@pytest.fixture
def cloud_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GW_KEY_FILE", str(write_service_account_key(tmp_path / "sa.json")))
    monkeypatch.setenv("M365_SECRET", "client-secret-value-xyz")

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(auditor.connectors.http, "sleep", no_sleep)
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [district]
            name = "Test District"
            web_domains = ["district.org"]
            staff_email_domains = ["district.org"]
            student_email_domains = ["students.district.org"]

            [database]
            url = "sqlite:///{tmp_path / "auditor.db"}"

            [[connectors]]
            name = "workspace"
            type = "google-groups"
            credentials_file_env = "GW_KEY_FILE"
            delegated_admin = "it-admin@district.org"
            audit_mailbox = "groups-audit@district.org"
            requests_per_second = 50

            [[connectors]]
            name = "m365"
            type = "microsoft365"
            tenant_id = "{TENANT}"
            client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
            client_secret_env = "M365_SECRET"
            max_concurrency = 2

            [[pages]]
            id = "robotics"
            connector = "workspace"
            external_id = "{GOOGLE_GROUP.upper()}"
            name = "DHS Robotics"
            owner = "owner@district.org"
            supervisor = "boss@district.org"
            approved_by = "boss@district.org"
            approved_on = 2026-08-01

            [[pages]]
            id = "debate"
            connector = "m365"
            external_id = "{TEAM}"
            name = "DHS Debate Team"
            owner = "owner@district.org"
            supervisor = "boss@district.org"
            approved_by = "boss@district.org"
            approved_on = 2026-08-01
            """
        )
    )
    return path


def both_platforms(router: respx.MockRouter) -> None:
    mock_google(router, prefix="google-")
    mock_microsoft(router, prefix="graph-")
    router.get(
        f"https://admin.googleapis.com/admin/directory/v1/groups/{GOOGLE_GROUP.upper()}"
    ).mock(side_effect=router.routes["google-group"].side_effect)


def test_run_audits_both_cloud_connectors(cloud_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    with respx.mock(assert_all_called=False) as router:
        both_platforms(router)
        result = CliRunner().invoke(
            app, ["run", "--config", str(cloud_config), "--output", str(out)]
        )
    assert result.exit_code in (0, 1), result.output
    findings = json.loads((out / "findings.json").read_text())
    pages = {p["id"]: p for p in findings["pages"]}
    assert {p["status"] for p in pages.values()} == {"audited"}
    assert pages["robotics"]["platform"] == "google-groups"
    assert pages["debate"]["platform"] == "microsoft365"
    results = {(pid, r["rule"]): r["status"] for pid, p in pages.items() for r in p["results"]}
    for pid, p in pages.items():  # passing rules are listed by id
        results |= {(pid, rule): "pass" for rule in p["passing"]}
    assert results[("robotics", "DS2.closed")] == "pass"
    assert results[("robotics", "DS2.invite-only")] == "pass"
    assert results[("debate", "DS2.invite-only")] == "fail"  # private team: join requests
    assert "client-secret-value-xyz" not in result.output + (out / "index.html").read_text()

    engine = make_engine(load_config(cloud_config).database.url)
    with Session(engine) as session:
        rows = session.scalars(select(DiscoveredGroup)).all()
        run_ids = set(session.scalars(select(PageAudit.run_id)))
    assert {(r.connector, r.external_id) for r in rows} == UNREGISTERED
    assert {r.run_id for r in rows} == run_ids
    assert {r.platform for r in rows} == {"google-groups", "microsoft365"}


def test_google_posts_read_through_the_audit_mailbox_reach_the_content_rules(
    cloud_config: Path, tmp_path: Path
) -> None:
    with respx.mock(assert_all_called=False) as router:
        both_platforms(router)
        out = tmp_path / "report"
        result = CliRunner().invoke(
            app, ["run", "--config", str(cloud_config), "--output", str(out)]
        )
    assert result.exit_code == 1, result.output  # rules failed; every page was audited
    engine = make_engine(load_config(cloud_config).database.url)
    with Session(engine) as session:
        audit = session.scalars(select(PageAudit).where(PageAudit.page_id == "robotics")).one()
        rows = session.scalars(select(Result).where(Result.page_audit_id == audit.id)).all()
        results = {r.rule_id: (r.status, r.message) for r in rows}
        status = audit.status
    assert status == "audited"
    # a coach's personal Instagram and a student's cell number, both in posts
    assert results["DS7.no-personal-links"][0] == "fail"
    assert "personal social media" in results["DS7.no-personal-links"][1]
    assert results["DS6.confidentiality"][0] == "fail"
    assert results["DS3.respectful-speech"][0] != "not-applicable"


def test_discover_lists_unregistered_groups(cloud_config: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        both_platforms(router)
        result = CliRunner().invoke(
            app, ["discover", "--config", str(cloud_config)], env={"COLUMNS": "250"}
        )
    assert result.exit_code == 0, result.output
    for _, external_id in UNREGISTERED:
        assert external_id in result.output
    assert "robotics@district.org" not in result.output
    assert TEAM not in result.output


def test_discover_reports_a_failing_connector_and_lists_the_others(cloud_config: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        both_platforms(router)
        router.post(GRAPH_TOKEN).mock(
            return_value=httpx.Response(401, json={"error": "invalid_client"})
        )
        result = CliRunner().invoke(
            app, ["discover", "--config", str(cloud_config)], env={"COLUMNS": "250"}
        )
    assert result.exit_code == 3
    assert "esports@district.org" in result.output
    assert "connector 'm365'" in result.output and "invalid_client" in result.output


async def test_discovery_failure_never_fails_the_run(
    cloud_config: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(config: object, opened: object = None) -> None:
        raise RuntimeError("directory exploded")

    monkeypatch.setattr(discovery, "find_unregistered", broken)
    config = load_config(cloud_config)
    engine = make_engine(config.database.url)
    with caplog.at_level(logging.WARNING):
        await discovery.record_for_run(engine, 1, discovery.list_for_run(config, {}))
    assert "discovery failed: RuntimeError: directory exploded" in caplog.text


def test_connectors_command_lists_all_three() -> None:
    result = CliRunner().invoke(app, ["connectors"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("file", "google-groups", "microsoft365", "credentials_file_env", "tenant_id"):
        assert name in result.output


def test_unknown_connector_setting_is_a_config_error(cloud_config: Path) -> None:
    text = cloud_config.read_text().replace(
        'client_secret_env = "M365_SECRET"', 'client_secret = "pasted"'
    )
    cloud_config.write_text(text)
    result = CliRunner().invoke(app, ["check-config", "--config", str(cloud_config)])
    assert result.exit_code == 2
    assert "connectors[1].client_secret: unknown key" in result.output
    assert "pasted" not in result.output
    assert GOOGLE_TOKEN not in result.output
