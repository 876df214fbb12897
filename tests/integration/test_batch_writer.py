"""The writer thread (auditor.db.writer): many pages a transaction, a refused batch
written again one page at a time (the refused page becomes its error), and nothing
written once the run lock is lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditor.db import store
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import Page, PageAudit, Result, Run, SyncState
from auditor.db.store import PageRecord
from auditor.db.sync import StateWrite
from auditor.db.writer import NOT_STORED, BatchWriter
from auditor.errors import LeaseLost
from auditor.logs import register_secret
from auditor.results import RuleResult, Severity, Status

NOW = datetime(2026, 11, 2, 2, tzinfo=UTC)
RESULT = RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="m")


@pytest.fixture
def run(db_url: str) -> tuple[Engine, int]:
    """A migrated database with the registered pages p0..p9 and one running run."""
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        session.add_all(
            Page(
                id=f"p{i}",
                name=f"P{i}",
                connector="files",
                kind="club",
                owner="o@district.org",
                supervisor="s@district.org",
                updated_at=NOW,
            )
            for i in range(10)
        )
        row = Run(started_at=NOW, status="running")
        session.add(row)
        session.commit()
        return engine, row.id


def record(page: str) -> PageRecord:
    """An audited page with one failing result."""
    return PageRecord(page, page.upper(), NOW, [RESULT], None, requests=3)


def stored(engine: Engine) -> dict[str, tuple[str, str | None, int]]:
    """Per page: status, error and the number of its result rows."""
    with Session(engine) as session:
        audits = session.execute(
            select(PageAudit.id, PageAudit.page_id, PageAudit.status, PageAudit.error)
        ).all()
        counts = {a.id: 0 for a in audits}
        for (audit_id,) in session.execute(select(Result.page_audit_id)):
            counts[audit_id] += 1
    return {a.page_id: (a.status, a.error, counts[a.id]) for a in audits}


def refuse(monkeypatch: pytest.MonkeyPatch, when: Callable[[PageRecord], bool], why: str) -> None:
    """The database refuses (ValueError ``why``) every write holding a record ``when``
    says."""
    real = store.record_pages

    def refusing(engine: Engine, run_id: int, records: list[PageRecord]) -> None:
        if any(when(r) for r in records):
            raise ValueError(why)
        real(engine, run_id, records)

    monkeypatch.setattr(store, "record_pages", refusing)


def never_stops() -> None:
    """A lease check that always passes."""


def test_pages_queued_together_are_stored_in_one_transaction(
    run: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, run_id = run
    batches: list[int] = []
    real = store.record_pages

    def spy(engine: Engine, run_id: int, records: list[PageRecord]) -> None:
        batches.append(len(records))
        real(engine, run_id, records)

    monkeypatch.setattr(store, "record_pages", spy)
    writer = BatchWriter(engine, run_id, never_stops, str)
    futures = [writer.submit(record(f"p{i}")) for i in range(10)]  # queued before it starts
    writer.start().close()
    assert batches == [10]
    assert [f.result() for f in futures] == [None] * 10
    assert stored(engine) == {f"p{i}": ("audited", None, 1) for i in range(10)}


def test_a_refused_page_becomes_its_error_and_the_others_keep_their_results(
    run: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, run_id = run
    refuse(monkeypatch, lambda r: r.page_id == "p3" and bool(r.results), "value too long")
    writer = BatchWriter(engine, run_id, never_stops, str)
    futures = {f"p{i}": writer.submit(record(f"p{i}")) for i in range(5)}
    writer.start().close()
    assert futures["p3"].result() == f"{NOT_STORED}: value too long"
    assert all(futures[p].result() is None for p in ("p0", "p1", "p2", "p4"))
    rows = stored(engine)
    assert rows["p3"] == ("error", f"{NOT_STORED}: value too long", 0)
    assert all(rows[p] == ("audited", None, 1) for p in ("p0", "p1", "p2", "p4"))


def test_nothing_is_written_once_the_lease_is_lost(run: tuple[Engine, int]) -> None:
    engine, run_id = run

    def lost() -> None:
        raise LeaseLost("another audit holds the lock")

    writer = BatchWriter(engine, run_id, lost, str)
    futures = [writer.submit(record(f"p{i}")) for i in range(3)]
    writer.start().close()
    for future in futures:
        with pytest.raises(LeaseLost):
            future.result()
    assert stored(engine) == {}


def test_a_lock_that_cannot_be_checked_fails_that_batch_not_the_rest(
    run: tuple[Engine, int],
) -> None:
    engine, run_id = run
    checks = iter([RuntimeError("server closed the connection"), None])

    def flaky() -> None:
        problem = next(checks, None)
        if problem is not None:
            raise problem

    writer = BatchWriter(engine, run_id, flaky, str, max_batch=1)
    first, second = writer.submit(record("p0")), writer.submit(record("p1"))
    writer.start().close()

    assert (
        first.result()
        == f"{NOT_STORED}: the run lock could not be checked (server closed the connection)"
    )
    assert second.result() is None  # the next batch is checked again and stored
    assert set(stored(engine)) == {"p1"}


def later_run(engine: Engine) -> int:
    """A second running run (a page is stored once a run)."""
    with Session(engine) as session:
        row = Run(started_at=NOW, status="running")
        session.add(row)
        session.commit()
        return row.id


def states(engine: Engine) -> dict[str, dict[str, object]]:
    """The sync state stored per page."""
    with Session(engine) as session:
        return dict(session.execute(select(SyncState.page_id, SyncState.state)).all())


def store_old_state(engine: Engine, run_id: int) -> None:
    """Page p0 stored by ``run_id`` with the state ``{"delta": "old"}``."""
    writer = BatchWriter(engine, run_id, never_stops, str)
    writer.submit(replace(record("p0"), sync=StateWrite("files", "g0", {"delta": "old"}, True)))
    writer.start().close()


def fetched_in_full(engine: Engine) -> dict[str, datetime]:
    """When each page with a stored state was last fetched in full."""
    with Session(engine) as session:
        rows = session.execute(select(SyncState.page_id, SyncState.full_fetch_at))
        return dict(rows.all())


def test_sync_states_are_written_with_their_pages_in_the_same_transaction(
    run: tuple[Engine, int],
) -> None:
    engine, run_id = run
    writer = BatchWriter(engine, run_id, never_stops, str)
    for i in range(4):
        write = StateWrite("files", f"g{i}", {"delta": f"t{i}"}, full=True)
        writer.submit(replace(record(f"p{i}"), sync=write))
    writer.start().close()
    assert states(engine) == {f"p{i}": {"delta": f"t{i}"} for i in range(4)}
    full_fetch = fetched_in_full(engine)

    writer = BatchWriter(engine, later_run(engine), never_stops, str)  # kept, moved, removed
    writer.submit(replace(record("p0"), sync=StateWrite("files", "g0", {"delta": "u0"}, False)))
    writer.submit(replace(record("p1"), sync=StateWrite("files", "g1", None, False)))
    writer.submit(record("p2"))  # its state unchanged: nothing written
    writer.start().close()
    assert states(engine) == {"p0": {"delta": "u0"}, "p2": {"delta": "t2"}, "p3": {"delta": "t3"}}
    assert fetched_in_full(engine)["p0"] == full_fetch["p0"], "not a full fetch: the date stays"


def test_a_refused_state_leaves_the_older_one_and_the_page_keeps_its_results(
    run: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, run_id = run
    store_old_state(engine, run_id)
    refuse(monkeypatch, lambda r: r.sync is not None, "state too large")
    writer = BatchWriter(engine, later_run(engine), never_stops, str)
    future = writer.submit(replace(record("p0"), sync=StateWrite("files", "g0", {"d": 2}, False)))
    other = writer.submit(record("p1"))
    writer.start().close()
    assert future.result() is None and other.result() is None
    assert states(engine) == {"p0": {"delta": "old"}}
    with Session(engine) as session:
        audits = session.scalars(select(PageAudit.status).where(PageAudit.page_id == "p0")).all()
    assert audits == ["audited", "audited"]


def test_a_page_whose_results_are_refused_is_an_error_and_keeps_its_older_state(
    run: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, run_id = run
    store_old_state(engine, run_id)
    refuse(monkeypatch, lambda r: bool(r.results), "value too long")
    later = later_run(engine)
    writer = BatchWriter(engine, later, never_stops, str)
    future = writer.submit(replace(record("p0"), sync=StateWrite("files", "g0", {"d": 2}, True)))
    writer.start().close()
    assert future.result() == f"{NOT_STORED}: value too long"
    assert states(engine) == {"p0": {"delta": "old"}}, "no state newer than what is stored"
    with Session(engine) as session:
        status = session.scalar(
            select(PageAudit.status).where(PageAudit.run_id == later, PageAudit.page_id == "p0")
        )
    assert status == "error"


def test_a_state_holding_a_secret_is_dropped_and_the_rest_of_its_batch_kept(
    run: tuple[Engine, int],
) -> None:
    engine, run_id = run
    store_old_state(engine, run_id)
    register_secret("s3cret-batch-token-Q7")
    leaking = {"link": "https://graph.example/x?access_token=s3cret-batch-token-Q7"}
    writer = BatchWriter(engine, later_run(engine), never_stops, str)
    writer.submit(replace(record("p0"), sync=StateWrite("files", "g0", leaking, False)))
    writer.submit(replace(record("p1"), sync=StateWrite("files", "g1", {"delta": "t1"}, True)))
    writer.start().close()
    assert states(engine) == {"p1": {"delta": "t1"}}, "the leaking state removed, not kept"
    assert set(stored(engine)) == {"p0", "p1"}
