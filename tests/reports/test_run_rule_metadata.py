"""A run keeps the rule metadata it used: re-rendering it later shows that run's titles,
severities and fix steps, whatever the catalog says today."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, null, select, update
from sqlalchemy.orm import Session

from auditor.config import RuleOverride
from auditor.connectors.file import FileConnector
from auditor.connectors.microsoft365 import Microsoft365Connector
from auditor.db import store
from auditor.db.models import PageAudit, Run
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


def platforms_of(engine: Engine, run_id: int) -> set[str]:
    """The platforms the stored pages of run ``run_id`` are on."""
    with Session(engine) as session:
        return set(
            session.scalars(select(PageAudit.platform).where(PageAudit.run_id == run_id))
        ) - {None}


def test_a_file_run_keeps_the_steps_of_the_platforms_its_pages_are_on(
    engine: Engine, db_url: str
) -> None:
    run_id = audit(engine, db_url)  # three sample pages, read by the file connector
    seen = platforms_of(engine, run_id)
    assert seen and len(seen) < len(
        rule_metadata(load_config(SAMPLE_CONFIG).rules)["DS2.closed"].steps
    )
    kept = load_run(engine, run_id).rules
    assert set(kept["DS2.closed"].steps) == seen
    everything = rule_metadata(load_config(SAMPLE_CONFIG).rules)
    for platform in seen:  # the same steps as when every connector's were kept
        assert kept["DS2.closed"].steps[platform] == everything["DS2.closed"].steps[platform]
    again = audit(engine, db_url)  # its pages unchanged: their platforms are their holders'
    with Session(engine) as session:
        unchanged = select(PageAudit.id).where(
            PageAudit.run_id == again, PageAudit.same_as.is_not(None)
        )
        assert len(session.scalars(unchanged).all()) == 3
    assert load_run(engine, again).rules == kept


def test_a_page_on_a_platform_no_connector_is_named_for_keeps_every_platforms_steps(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    config = load_config(SAMPLE_CONFIG)
    config.database.url = db_url
    folder = Path(shutil.copytree(SAMPLE_CONFIG.parent / "pages", tmp_path / "pages"))
    config.connectors[0].path = folder  # type: ignore[attr-defined]
    page = config.pages[0]
    exported = folder / f"{page.external_id}.json"
    snapshot = json.loads(exported.read_text(encoding="utf-8"))
    snapshot["platform"] = "acme-lms"  # a plugin's platform, its connector named otherwise
    exported.write_text(json.dumps(snapshot), encoding="utf-8")
    summary = asyncio.run(Runner(config, engine, now=SAMPLE_AS_OF).run([page]))
    assert platforms_of(engine, summary.run_id) == {"acme-lms"}
    assert load_run(engine, summary.run_id).rules == rule_metadata(config.rules)
