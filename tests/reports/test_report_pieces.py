"""A report re-uses each unchanged page's stored pieces (``reports.pieces``), and what it
writes is byte for byte what it writes with no stored pieces: for a later run (another
run id, date, ages, deadlines and trends), after a page changed (only it is rendered
again), after the templates' version changed (every page is), with a stored piece
corrupt or the stored pieces deleted (rendered again, said in one line), and after the
retention purge (which removes the purged runs' pieces with their evidence)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from report_seed import PageSpec, add_pages
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from auditor.db import store
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import PageAudit, ReportPiece, Run
from auditor.db.store import PageRecord
from auditor.loading import load_config
from auditor.reports import pieces, run_report
from auditor.reports.deadlines import apply_deadlines
from auditor.reports.findings_files import action_plan_csv
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import Evidence, RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
PAGES = [
    PageSpec(f"p{i}", f"Page {i}", school="North High" if i < 3 else "South High") for i in range(6)
]


def results(page: str, note: str = "") -> list[RuleResult]:
    """A failing result with evidence, a manual check, a pass that may be resolved."""
    evidence = [Evidence(kind="member", ref="x", value=f"Stranger {page} {note}".strip())]
    return [
        RuleResult(
            rule="DS2.closed",
            status=Status.FAIL,
            severity=Severity.HIGH,
            message="open to anyone",
            evidence=evidence,
        ),
        RuleResult(
            rule="DS1.approval", status=Status.MANUAL, severity=Severity.LOW, message="check"
        ),
        RuleResult(
            rule="DS2.moderated", status=Status.PASS, severity=Severity.LOW, message="moderated"
        ),
    ]


def night(engine: Engine, day: int, outcomes: dict[str, list[RuleResult]]) -> int:
    """Store one run (started ``day`` days after DAY0) through ``store.record_pages``,
    which shares the rows of a page whose results did not change."""
    started = DAY0 + timedelta(days=day)
    with Session(engine) as session:
        run = Run(started_at=started, status="running", district="D", pages_total=len(outcomes))
        session.add(run)
        session.commit()
        run_id = run.id
    records = [
        PageRecord(page, f"Page {page}", started, found, None, platform="file")
        for page, found in outcomes.items()
    ]
    store.record_pages(engine, run_id, records)
    with Session(engine) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(status="complete", finished_at=started)
        )
        session.commit()
    return run_id


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(params=["split", "inline"])
def layout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Sections and findings split into files of two pages, or all in index.html."""
    if request.param == "split":
        monkeypatch.setattr(run_report, "INLINE_LIMIT", 2)
        monkeypatch.setattr(run_report, "PAGES_PER_FILE", 2)
        monkeypatch.setattr(run_report, "FINDINGS_INLINE_LIMIT", 2)
    return str(request.param)


class Reports:
    """Two runs ten days apart in one database, and report writing with a log of what
    the stored pieces did."""

    def __init__(self, engine: Engine, config: Path, tmp: Path, caplog: pytest.LogCaptureFixture):
        self.engine, self.config, self.tmp, self.caplog = engine, load_config(config), tmp, caplog
        add_pages(engine, PAGES, DAY0)
        self.first = night(engine, 0, {p.id: results(p.id) for p in PAGES})
        changed = {p.id: results(p.id) for p in PAGES} | {"p0": results("p0", "again")}
        self.second = night(engine, 10, changed)  # p0 changed; p1-p5 share run 1's rows

    def write(self, run_id: int, name: str, reuse: bool = True) -> dict[str, bytes]:
        """Write ``run_id``'s report into a new folder; its files."""
        self.caplog.clear()
        view = load_run(self.engine, run_id, evidence=False)
        write_report(view, self.tmp / name, self.config, reuse=reuse)
        return tree(self.tmp / name)

    def said(self) -> list[str]:
        """What the last report logged about its stored pieces."""
        return [r.getMessage() for r in self.caplog.records if "report piece" in r.getMessage()]

    def stored(self) -> int:
        """How many pages' pieces are stored."""
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(ReportPiece)) or 0


@pytest.fixture
def reports(
    db_url: str,
    make_config: Callable[..., Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    layout: str,
) -> Reports:
    """Two seeded runs (run 2: one page changed), on SQLite and PostgreSQL."""
    caplog.set_level(logging.INFO, logger="auditor.reports.pieces")
    engine = make_engine(db_url)
    upgrade(engine)
    return Reports(engine, make_config({}, db_url=db_url), tmp_path, caplog)


def test_a_later_run_reuses_the_unchanged_pages_pieces_and_writes_the_same_bytes(
    reports: Reports,
) -> None:
    """Run 1's report stores every page's pieces; run 2's report (ten days on: other ages,
    deadlines past, trends "still failing") renders only the changed page, re-uses the
    others, and writes exactly what it writes with no stored pieces."""
    reports.write(reports.first, "first")
    assert reports.said() == ["run 1: report pieces of 0 page(s) re-used, 6 rendered"]
    reused = reports.write(reports.second, "reused")
    assert reports.said() == ["run 2: report pieces of 5 page(s) re-used, 1 rendered"]
    fresh = reports.write(reports.second, "fresh", reuse=False)
    assert reused == fresh
    page = b"".join(v for k, v in fresh.items() if k.endswith(".html") and "digests" not in k)
    assert b"OVERDUE" in page and b"(10 days, run 1)" in page  # filled in for run 2
    assert reports.write(reports.second, "again") == fresh
    assert reports.said() == ["run 2: report pieces of 6 page(s) re-used, 0 rendered"]


def test_the_action_plan_is_the_digest_emails_attachment(reports: Reports) -> None:
    """The action plan written from the pieces is, byte for byte, the one the digest
    email attaches (made from the run loaded with its evidence)."""
    reports.write(reports.first, "first")
    written = reports.write(reports.second, "reused")
    view = load_run(reports.engine, reports.second)
    apply_deadlines(view, reports.config.remediation, reports.config.district.timezone)
    attached = action_plan_csv(view.pages, view.id).encode()
    rows = list(csv.DictReader(io.StringIO(attached.decode(), newline="")))
    # One row per page's failing rule, with run 2's ages, trends and (past) due days.
    assert [(r["page_id"], r["rule"]) for r in rows] == [(p.id, "DS2.closed") for p in PAGES]
    assert {(r["days_open"], r["trend"], r["due_by"]) for r in rows} == {
        ("10", "still-failing", "2026-10-02")
    }
    assert written["action-plans/boss@district.org.csv"] == attached


def test_a_new_templates_version_renders_every_page_again(
    reports: Reports, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports.write(reports.second, "first")
    monkeypatch.setattr(pieces, "code_version", lambda: "another version")
    after = reports.write(reports.second, "after")
    assert reports.said() == ["run 2: report pieces of 0 page(s) re-used, 6 rendered"]
    assert after == reports.write(reports.second, "fresh", reuse=False)


def test_corrupt_or_deleted_pieces_are_rendered_again_and_said_in_one_line(
    reports: Reports,
) -> None:
    fresh = reports.write(reports.second, "fresh", reuse=False)
    reports.write(reports.second, "stored")
    with reports.engine.begin() as conn:
        conn.execute(
            update(ReportPiece)
            .where(ReportPiece.audit_id.in_(select(PageAudit.id).where(PageAudit.page_id == "p0")))
            .values(body=b"not a piece")
        )
    assert reports.write(reports.second, "corrupt") == fresh
    assert reports.said() == [
        "run 2: report pieces of 5 page(s) re-used, 1 rendered",
        "run 2: 1 stored report piece(s) could not be read; rendered again",
    ]
    with reports.engine.begin() as conn:
        conn.execute(delete(ReportPiece))
    assert reports.write(reports.second, "deleted") == fresh
    assert reports.said() == ["run 2: report pieces of 0 page(s) re-used, 6 rendered"]
    assert reports.stored() == 6


def test_a_store_that_cannot_be_used_is_said_in_one_line(reports: Reports) -> None:
    """With the table gone (say, a database restored from before it), the report is
    written all the same, every page rendered, and the log says why in one line."""
    fresh = reports.write(reports.second, "fresh", reuse=False)
    with reports.engine.begin() as conn:
        conn.execute(text("DROP TABLE report_pieces"))
    assert reports.write(reports.second, "without") == fresh
    said = reports.said()
    assert said[0] == "run 2: report pieces of 0 page(s) re-used, 6 rendered"
    assert len(said) == 2 and said[1].startswith("run 2: stored report pieces could not be used")


def test_the_purge_removes_the_purged_runs_pieces(reports: Reports) -> None:
    """Run 1's purge removes the pieces rendered from its results (they quote its
    evidence); run 2's unchanged pages then hold copies of their rows, rendered again."""
    reports.write(reports.second, "stored")
    assert reports.stored() == 6
    store.purge(reports.engine, DAY0 + timedelta(days=1))
    with Session(reports.engine) as session:
        left = session.scalars(
            select(PageAudit.run_id).join(ReportPiece, ReportPiece.audit_id == PageAudit.id)
        ).all()
    assert left == [reports.second]  # p0's own results, from run 2
    fresh = reports.write(reports.second, "fresh", reuse=False)
    assert reports.write(reports.second, "after") == fresh
    assert reports.said() == ["run 2: report pieces of 1 page(s) re-used, 5 rendered"]


def test_a_nul_in_platform_text_cannot_open_a_hole(
    make_config: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A NUL in a message (it marks a piece's holes) is written as U+FFFD, and the page's
    stored pieces still read back as the fresh render. On SQLite only: PostgreSQL's text
    cannot hold a NUL at all (and snapshots drop them from platform text)."""
    db_url = f"sqlite:///{tmp_path / 'nul.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    reports = Reports(engine, make_config({}, db_url=db_url), tmp_path, caplog)
    odd = [
        RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="a\0b")
    ]
    run_id = night(reports.engine, 11, {p.id: odd for p in PAGES})
    fresh = reports.write(run_id, "fresh", reuse=False)
    reports.write(run_id, "stored")
    assert reports.write(run_id, "reused") == fresh
    html = b"".join(v for k, v in fresh.items() if k.endswith(".html"))
    assert "a\ufffdb".encode() in html and b"\0" not in html
