"""Storage that grows with change: a page whose results did not change since its previous
audit stores no result rows (``page_audits.same_as`` names the audit holding them), and
every reader answers exactly as on a database that stored every row: the run load (pages,
results, first-seen dates, trends, rule history strips, whole picture), the history
queries, the digests, findings.json and the retention purge."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from report_seed import PageSpec, add_pages
from sqlalchemy import Engine, func, inspect, select, text, update
from sqlalchemy.orm import Session

from auditor.config import Config
from auditor.db import store
from auditor.db.engine import alembic_config, make_engine, upgrade
from auditor.db.models import PageAudit, Result, Run, results_holder
from auditor.db.store import PageRecord
from auditor.reports import history
from auditor.reports.digest import build_digests
from auditor.reports.export import findings
from auditor.reports.view import load_run
from auditor.results import Evidence, RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
PAGES = [PageSpec("a", "A"), PageSpec("b", "B", school="Other High"), PageSpec("c", "C")]


def res(
    rule: str, status: Status, note: str = "", severity: Severity = Severity.HIGH
) -> RuleResult:
    """A result with one piece of evidence (so a purge has something to remove)."""
    evidence = [Evidence(kind="member", ref="x", value=f"Stranger {note}".strip())]
    return RuleResult(
        rule=rule, status=status, severity=severity, message=f"{rule} {status}", evidence=evidence
    )


BASE = {
    "a": [res("DS2.closed", Status.FAIL), res("DS2.moderated", Status.PASS)],
    "b": [res("DS2.closed", Status.WARN, severity=Severity.MEDIUM)],
    "c": [res("DS2.closed", Status.FAIL), res("DS4.members", Status.FAIL, "one")],
}
Outcome = list[RuleResult] | str

# Eight nights: unchanged, changed, a one-page run, an error, back to an earlier state.
NIGHTS: list[dict[str, Outcome]] = [
    BASE,
    BASE,
    BASE | {"c": [res("DS2.closed", Status.FAIL), res("DS4.members", Status.FAIL, "two")]},
    {"a": BASE["a"]},
    BASE | {"b": "connector timed out"},
    BASE,
    BASE | {"a": [res("DS2.closed", Status.PASS), res("DS2.moderated", Status.PASS)]},
    BASE,
]


def write_nights(engine: Engine, nights: list[dict[str, Outcome]], first_day: int = 0) -> list[int]:
    """Store each night as a run through ``store.record_pages`` (a batch per night)."""
    add_pages(engine, PAGES, DAY0)
    ids = []
    for i, night in enumerate(nights, start=first_day):
        started = DAY0 + timedelta(days=i)
        with Session(engine) as session:
            run = Run(started_at=started, status="running", district="D", pages_total=len(night))
            session.add(run)
            session.commit()
            run_id = run.id
        records = [
            PageRecord(
                page,
                f"Page {page}",
                started,
                [] if isinstance(outcome, str) else outcome,
                outcome if isinstance(outcome, str) else None,
                platform=None if isinstance(outcome, str) else "file",
                finished_at=started + timedelta(minutes=1),
            )
            for page, outcome in night.items()
        ]
        store.record_pages(engine, run_id, records)
        status = "incomplete" if any(isinstance(o, str) for o in night.values()) else "complete"
        with Session(engine) as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(status=status, finished_at=started + timedelta(minutes=5))
            )
            session.commit()
        ids.append(run_id)
    return ids


def everything_read(engine: Engine, run_ids: list[int]) -> list[Any]:
    """What every reader says about every run, as plain data."""
    said: list[Any] = []
    config = Config()
    for run_id in run_ids:
        view = load_run(engine, run_id)
        # What the view says, not where it is stored: the database and each page's
        # results holder (which differ between the two databases by design) left out.
        pages = [dataclasses.replace(p, holder=None) for p in view.pages]
        said.append(dataclasses.asdict(dataclasses.replace(view, pages=pages, database=None)))
        said.append(json.dumps(findings(view), sort_keys=True, default=str))
        said.append([(d.recipient, d.subject, d.text) for d in build_digests(view, config)])
        with Session(engine) as session:
            said.append(history.first_seen(session, run_id))
            said.append(history.previous_results(session, run_id, whole=True))
            runs = history.recent_runs(session, run_id)
            said.append(history.run_trend(session, runs))
            said.append(history.rule_history(session, runs))
    return said


def test_unchanged_pages_share_rows_and_every_reader_answers_as_before(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = make_engine(db_url)
    upgrade(shared)
    ids = write_nights(shared, NIGHTS)
    with Session(shared) as session:
        pointers = session.scalar(select(func.count()).where(PageAudit.same_as.is_not(None)))
        rows = session.scalar(select(func.count(Result.id)))
    # Audits equal to their page's newest earlier audited one: night 2 (a, b, c), 3 (a, b),
    # 4 (a), 5 (a), 6 (a; b, compared across its error with night 3; c), 7 (b, c), 8 (b, c).
    assert pointers == 14
    said = everything_read(shared, ids)
    purged = store.purge(shared, DAY0 + timedelta(days=2, hours=1))
    said_after_purge = everything_read(shared, ids)
    shared.dispose()

    monkeypatch.setattr(store, "_reusable_holders", lambda *args: {})  # no sharing
    plain = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    upgrade(plain)
    write_nights(plain, NIGHTS)
    with Session(plain) as session:
        assert session.scalar(select(func.count()).where(PageAudit.same_as.is_not(None))) == 0
        assert session.scalar(select(func.count(Result.id))) > rows  # sharing saved rows
    assert everything_read(plain, ids) == said
    assert store.purge(plain, DAY0 + timedelta(days=2, hours=1)) == purged
    assert everything_read(plain, ids) == said_after_purge


def test_a_purged_holder_is_never_shared_and_later_runs_keep_their_evidence(
    engine: Engine,
) -> None:
    ids = write_nights(engine, [BASE, BASE, BASE])
    store.purge(engine, DAY0 + timedelta(hours=12))  # run 1 only
    view = load_run(engine, ids[2])
    a = next(p for p in view.pages if p.id == "a")
    assert any("Stranger" in json.dumps(r.evidence) for r in a.results)
    later = write_nights(engine, [BASE], first_day=3)  # run 4: its newest earlier audit holds rows
    with Session(engine) as session:
        holders = set(
            session.scalars(select(PageAudit.same_as).where(PageAudit.run_id == later[0]))
        )
        purged = set(session.scalars(select(PageAudit.id).where(PageAudit.run_id == ids[0])))
    assert holders and not holders & purged


def test_downgrading_0008_gives_every_audit_its_own_rows_again(engine: Engine) -> None:
    write_nights(engine, NIGHTS)
    with Session(engine) as session:
        per_audit = dict(
            session.execute(
                select(PageAudit.id, func.count(Result.id))
                .join(Result, Result.page_audit_id == results_holder(PageAudit))
                .group_by(PageAudit.id)
            ).all()
        )
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    assert "same_as" not in {c["name"] for c in inspect(engine).get_columns("page_audits")}
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT page_audit_id, count(*) FROM results GROUP BY page_audit_id")
        ).all()
    assert dict(rows) == per_audit
    assert upgrade(engine)[0] == "0005"
