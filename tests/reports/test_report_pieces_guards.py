"""What stored report pieces must never do: outlive the purge of the evidence they quote
(a report saving them while the purge runs), carry a bidi control past the rule-history
strip, grow by a row a run for pages that errored, crash a report when they read back
but do not fit the page, or survive a change of what renders them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import zstandard
from report_seed import PageSpec, add_run
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session
from test_report_pieces import (  # noqa: F401  (layout: a fixture of reports)
    DAY0,
    PAGES,
    Reports,
    add_pages,
    layout,
    night,
    reports,
    results,
    tree,
)

from auditor.config import Config
from auditor.db import pieces as stored
from auditor.db import store
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import PageAudit, ReportPiece, Result, Run
from auditor.db.store import PageRecord
from auditor.loading import load_config
from auditor.reports import pieces
from auditor.reports.pieces import HOLE, Pieces
from auditor.reports.run_report import write_report
from auditor.reports.view import EvidenceGoneError, load_run
from auditor.results import RuleResult, Severity, Status

RLO = "\u202e"


def _engine(db_url: str) -> Engine:
    """A migrated database at ``db_url``."""
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _quoting(engine: Engine, text: bytes) -> list[int]:
    """The runs of the audits whose stored pieces contain ``text``."""
    with Session(engine) as session:
        left = session.execute(
            select(PageAudit.run_id, ReportPiece.body).join(
                ReportPiece, ReportPiece.audit_id == PageAudit.id
            )
        ).all()
    return [run for run, body in left if text in zstandard.decompress(bytes(body))]


def _report_during_a_purge(
    engine: Engine, run_id: int, out: Path, config: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write ``run_id``'s report (loaded before) with the purge of that run committing
    between the rendering of its pieces and their saving."""
    view = load_run(engine, run_id, evidence=False)
    save = stored.save

    def purge_then_save(eng: Engine, rows: object) -> None:
        store.purge(engine, DAY0 + timedelta(days=1))
        save(eng, rows)

    monkeypatch.setattr(stored, "save", purge_then_save)
    with contextlib.suppress(EvidenceGoneError):  # the digests may find the evidence gone
        write_report(view, out, config)
    monkeypatch.setattr(stored, "save", save)


def test_pieces_saved_while_the_purge_runs_are_not_kept(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report that read the evidence before the purge committed stores no piece for
    the purged run, and a later report of that run shows none of its evidence."""
    engine = _engine(db_url)
    config = load_config(make_config({}, db_url=db_url))
    add_pages(engine, PAGES, DAY0)
    first = night(engine, 0, {p.id: results(p.id) for p in PAGES})
    _report_during_a_purge(engine, first, tmp_path / "out", config, monkeypatch)
    with Session(engine) as session:
        assert session.scalar(select(Run.purged_at).where(Run.id == first)) is not None
        assert set(session.scalars(select(Result.message))) == {store.PURGED}
    assert _quoting(engine, b"Stranger p") == []
    write_report(load_run(engine, first, evidence=False), tmp_path / "later", config)
    written = tree(tmp_path / "later")
    assert all(b"Stranger p1" not in body for body in written.values())
    assert b"removed under the retention policy" in written["findings.jsonl"]


def test_pieces_of_a_purged_run_are_not_read_and_the_next_purge_removes_them(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    """Pieces left for a purged run's audits (as a report saving during the purge left
    them before) are not re-used, and the next purge removes them."""
    engine = _engine(db_url)
    config = load_config(make_config({}, db_url=db_url))
    add_pages(engine, PAGES, DAY0)
    first = night(engine, 0, {p.id: results(p.id) for p in PAGES})
    write_report(load_run(engine, first, evidence=False), tmp_path / "before", config)
    with Session(engine) as session:
        kept = session.execute(select(ReportPiece.audit_id, ReportPiece.key, ReportPiece.body))
        kept = [row._asdict() for row in kept]
    assert len(kept) == 6
    store.purge(engine, DAY0 + timedelta(days=1))
    with engine.begin() as conn:  # left behind, as before the save was guarded
        conn.execute(insert(ReportPiece), kept)
    assert list(stored.read(engine, [row["audit_id"] for row in kept])) == []
    write_report(load_run(engine, first, evidence=False), tmp_path / "after", config)
    assert all(b"Stranger p1" not in body for body in tree(tmp_path / "after").values())
    night(engine, 2, {p.id: results(p.id, "later") for p in PAGES})
    store.purge(engine, DAY0 + timedelta(days=3))
    assert _quoting(engine, b"Stranger p") == []


def test_save_keeps_no_piece_of_a_purged_run(db_url: str) -> None:
    """Of one save's pieces, those of a purged run's audit are dropped, the others kept."""
    engine = _engine(db_url)
    add_pages(engine, PAGES, DAY0)
    first = night(engine, 0, {p.id: results(p.id) for p in PAGES})
    second = night(engine, 2, {p.id: results(p.id, "later") for p in PAGES})
    store.purge(engine, DAY0 + timedelta(days=1))
    with Session(engine) as session:
        audits = dict(session.execute(select(PageAudit.run_id, PageAudit.id)).all())
    stored.save(engine, [(audits[first], "k", b"old"), (audits[second], "k", b"new")])
    assert list(stored.read(engine, list(audits.values()))) == [(audits[second], "k", b"new")]


def test_no_bidi_control_or_nul_in_the_rule_history_strip(tmp_path: Path) -> None:
    """The strip is filled in after rendering: a bidi override (or a NUL) in a registered
    page name, the strip's title, is dropped there as everywhere else."""
    engine = _engine(f"sqlite:///{tmp_path / 'a.db'}")
    add_pages(engine, [PageSpec("p1", f"Chess {RLO}gnp.exe\x00")], DAY0)
    failing = [
        RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="open")
    ]
    add_run(engine, DAY0, {"p1": failing})
    run = add_run(engine, DAY0 + timedelta(days=3), {"p1": failing})
    out = tmp_path / "out"
    write_report(load_run(engine, run, evidence=False), out, Config(), reuse=False)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Rule history of Chess gnp.exe\ufffd" in html
    assert RLO not in html and "\x00" not in html


def _errored_night(engine: Engine, day: int) -> int:
    """A run where p0-p2 are audited as before and p3-p5 error."""
    started = DAY0 + timedelta(days=day)
    with Session(engine) as session:
        run = Run(started_at=started, status="running", district="D", pages_total=len(PAGES))
        session.add(run)
        session.commit()
        run_id = run.id
    records = [
        PageRecord(p.id, f"Page {p.id}", started, results(p.id), None, platform="file")
        for p in PAGES[:3]
    ] + [
        PageRecord(p.id, f"Page {p.id}", started, (), "token expired", platform="file")
        for p in PAGES[3:]
    ]
    store.record_pages(engine, run_id, records)
    with Session(engine) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(status="incomplete", finished_at=started)
        )
        session.commit()
    return run_id


def test_pages_that_error_store_no_pieces(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    """An errored audit holds its own (empty) results each run: its pieces would never be
    re-used, so none are stored and an unchanged run adds no row; the report is the same."""
    engine = _engine(db_url)
    config = load_config(make_config({}, db_url=db_url))
    add_pages(engine, PAGES, DAY0)
    counts = []
    for day in range(4):
        run_id = _errored_night(engine, day)
        view = load_run(engine, run_id, evidence=False)
        write_report(view, tmp_path / f"r{day}", config)
        with Session(engine) as session:
            counts.append(session.scalar(select(func.count()).select_from(ReportPiece)))
    assert counts == [3, 3, 3, 3]
    write_report(load_run(engine, run_id, evidence=False), tmp_path / "fresh", config, reuse=False)
    assert tree(tmp_path / "r3") == tree(tmp_path / "fresh")


def _bend(held: Reports, change: Callable[[Pieces], None]) -> None:
    """Change page p0's stored pieces (they still read back)."""
    with held.engine.begin() as conn:
        audit, body = conn.execute(
            select(ReportPiece.audit_id, ReportPiece.body)
            .join(PageAudit, PageAudit.id == ReportPiece.audit_id)
            .where(PageAudit.page_id == "p0")
        ).one()
        made = Pieces.unpack(bytes(body))
        change(made)
        conn.execute(
            update(ReportPiece).where(ReportPiece.audit_id == audit).values(body=made.pack())
        )


def _first_hole(made: Pieces) -> str:
    """The marker of the first hole in the pieces' section."""
    return made.html.split(HOLE)[1]


@pytest.mark.parametrize(
    "change",
    [
        lambda p: setattr(p, "results", p.results[:1]),
        lambda p: setattr(p, "csv_results", [*p.csv_results, "x"]),
        lambda p: setattr(p, "plans", p.plans[:-1]),
        lambda p: setattr(p, "plans", [["only one cell"]] * len(p.plans)),
        lambda p: setattr(p, "html", p.html.replace(_first_hole(p), "unknown\x01")),
        lambda p: setattr(p, "html", p.html.replace("dates\x010", "dates\x019")),
        lambda p: setattr(p, "html", p.html.replace("dates\x010", "dates\x01")),
        lambda p: setattr(p, "html", p.html + HOLE),
    ],
    ids=[
        "a result missing",
        "a CSV row too many",
        "a plan missing",
        "a plan of one cell",
        "unknown hole",
        "hole of no result",
        "result hole without one",
        "unclosed hole",
    ],
)
def test_a_piece_that_does_not_fit_the_page_is_rendered_again(
    reports: Reports,  # noqa: F811
    change: Callable[[Pieces], None],
) -> None:
    """Pieces that read back but do not fit the page's results are counted as unreadable
    and rendered again: the report is the fresh one, said in one more log line."""
    fresh = reports.write(reports.second, "fresh", reuse=False)
    reports.write(reports.second, "stored")
    _bend(reports, change)
    assert reports.write(reports.second, "odd") == fresh
    assert reports.said() == [
        "run 2: report pieces of 5 page(s) re-used, 1 rendered",
        "run 2: 1 stored report piece(s) could not be read; rendered again",
    ]


def test_the_code_version_covers_the_libraries_and_the_rule_texts_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Another jinja2 or markupsafe (escaping), or another ``auditor/results.py``
    (``RuleInfo.remediation_for``), is another version of what renders the pieces."""
    version = pieces.code_version.__wrapped__
    before = version()
    real = pieces.metadata.version
    for library in ("jinja2", "markupsafe"):
        monkeypatch.setattr(
            pieces.metadata, "version", lambda n, lib=library: "0" if n == lib else real(n)
        )
        assert version() != before, library
    monkeypatch.setattr(pieces.metadata, "version", real)
    assert version() == before
    other = tmp_path / "results.py"
    other.write_text("# another remediation_for\n")
    monkeypatch.setattr(pieces, "results_module", SimpleNamespace(__file__=str(other)))
    assert version() != before


def test_a_purge_waits_for_a_save_under_way_then_deletes_its_pieces(postgres_url: str) -> None:
    """PostgreSQL, two connections: a save that has locked its run (as ``save`` does
    first) and not yet committed holds the purge back; once it commits, the purge deletes
    what it saved. The purge is seen waiting in ``pg_stat_activity`` before the save
    commits, so the order is certain."""
    engine = _engine(postgres_url)
    add_pages(engine, PAGES, DAY0)
    first = night(engine, 0, {p.id: results(p.id) for p in PAGES})
    with Session(engine) as session:
        audit = session.scalar(select(PageAudit.id).where(PageAudit.run_id == first).limit(1))
    with engine.connect() as saving:
        saving.execute(select(Run.id).where(Run.id == first).with_for_update(read=True)).all()
        purging = threading.Thread(target=store.purge, args=(engine, DAY0 + timedelta(days=1)))
        purging.start()
        try:
            assert _waits_on_a_lock(engine), "the purge did not wait for the save"
            saving.execute(insert(ReportPiece).values(audit_id=audit, key="k", body=b"quote"))
            saving.commit()
        finally:
            purging.join()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ReportPiece)) == 0
        assert session.scalar(select(Run.purged_at).where(Run.id == first)) is not None


def _waits_on_a_lock(engine: Engine) -> bool:
    """Whether another session of the database comes to wait on a lock (polled, for at
    most ten seconds: a bound, not a measure)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    with engine.connect() as conn:
        for _ in range(1000):
            if conn.execute(waiting).scalar():
                return True
            conn.rollback()
            time.sleep(0.01)
    return False
