"""A run keeps the rule metadata it used: re-rendering it later shows that run's titles,
severities and fix steps, whatever the catalog says today."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, null, update
from sqlalchemy.orm import Session

from auditor.config import RuleOverride
from auditor.connectors.file import FileConnector
from auditor.connectors.microsoft365 import Microsoft365Connector
from auditor.db import store
from auditor.db.models import Run
from auditor.loading import load_config
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.rulebook import prepare_database, rule_metadata
from auditor.rules import catalog
from auditor.runner import Runner
from auditor.sample import SAMPLE_AS_OF, SAMPLE_CONFIG


def audit(engine: Engine, db_url: str, **overrides: RuleOverride) -> int:
    config = load_config(SAMPLE_CONFIG)
    config.database.url = db_url
    config.rules.overrides = overrides
    summary = asyncio.run(Runner(config, engine, now=SAMPLE_AS_OF).run(config.pages[:3]))
    return summary.run_id


def test_an_old_run_renders_with_the_rules_it_used(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = audit(engine, db_url, **{"DS2.closed": RuleOverride(severity="low")})
    closed = catalog.get("DS2.closed")
    monkeypatch.setattr(type(closed), "title", "A title the catalog has today")
    monkeypatch.setattr(type(closed), "remediation", "Today's steps")
    view = load_run(engine, run_id)
    assert view.rules["DS2.closed"].title == "Group is closed to non-members"
    assert view.rules["DS2.closed"].severity == "low"  # the override of that run
    write_report(view, tmp_path / "out", load_config(SAMPLE_CONFIG))
    html = (tmp_path / "out" / "index.html").read_text()
    assert "Group is closed to non-members" in html
    assert "A title the catalog has today" not in html


def test_runs_recorded_before_metadata_was_kept_get_todays(engine: Engine, db_url: str) -> None:
    run_id = audit(engine, db_url)
    with Session(engine) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(rules=null())
        )  # as added by migration 0002
        session.commit()
    assert load_run(engine, run_id).rules == {}
    prepare_database(engine, load_config(SAMPLE_CONFIG).rules)
    assert load_run(engine, run_id).rules == rule_metadata(load_config(SAMPLE_CONFIG).rules)


def test_platform_steps_come_from_the_connector() -> None:
    infos = rule_metadata(load_config(SAMPLE_CONFIG).rules)
    closed = infos["DS2.closed"]
    assert "Groups admin console" in closed.remediation_for("google-groups")
    assert closed.remediation_for("a-platform-with-no-connector") == closed.remediation


def test_runs_that_kept_their_metadata_are_left_alone(engine: Engine, db_url: str) -> None:
    audit(engine, db_url)
    made: list[int] = []
    assert store.backfill_rules(engine, lambda: made.append(1) or {}) == 0
    assert made == []  # the metadata is not even made when no run needs it


def test_a_run_keeps_the_steps_of_the_platforms_its_connectors_read() -> None:
    rules = load_config(SAMPLE_CONFIG).rules
    graph = rule_metadata(rules, [Microsoft365Connector])["DS2.closed"]
    assert set(graph.steps) == {"microsoft365"}
    # the sample's file connector reads snapshots of every platform
    assert rule_metadata(rules, [FileConnector]) == rule_metadata(rules)


def test_a_run_over_part_of_the_pages_keeps_the_steps_of_every_page_its_report_shows(
    engine: Engine, db_url: str
) -> None:
    config = load_config(SAMPLE_CONFIG)
    config.database.url = db_url
    asyncio.run(Runner(config, engine, now=SAMPLE_AS_OF).run(config.pages[:2]))
    later = asyncio.run(Runner(config, engine, now=SAMPLE_AS_OF).run(config.pages[:1]))
    view = load_run(engine, later.run_id)
    shown = {page.platform for page in view.pages}
    assert len(shown) == 2  # the other page as its earlier run audited it
    assert shown <= set(view.rules["DS2.closed"].steps)
