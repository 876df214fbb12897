"""Sync states read for the pages in flight (auditor.state_reads): pages asking at the
same time share a query, each gets its own state (none where it was kept for another
connector or group; a page asked for twice, twice), and a query that fails is the error
of the pages it read, not of those asked later (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from auditor import state_reads
from auditor.db import sync
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import Page
from auditor.db.sync import StateWrite
from auditor.state_reads import StateReads

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    """A database holding the states of pages p0 to p29, kept by connector ``m365`` for
    groups g0 to g29."""
    made = make_engine(db_url)
    upgrade(made)
    ids = [f"p{i}" for i in range(30)]
    page = {"connector": "m365", "kind": "team", "owner": "o@d.org", "supervisor": "s@d.org"}
    with made.begin() as conn:
        conn.execute(insert(Page), [{"id": i, "name": i, "updated_at": NOW, **page} for i in ids])
        writes = [(i, StateWrite("m365", f"g{i[1:]}", {"page": i}, True)) for i in ids]
        sync.save(conn, writes, NOW)
    return made


def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of pages each query asked for."""
    sizes: list[int] = []
    real = sync.load_many

    def load_many(engine: Engine, wanted: Any) -> Any:
        sizes.append(len(wanted))
        return real(engine, wanted)

    monkeypatch.setattr(sync, "load_many", load_many)
    return sizes


async def test_pages_asking_together_share_a_query_and_get_their_own_state(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = counted(monkeypatch)
    reads = StateReads(engine)
    states = await asyncio.gather(
        *(reads.load(f"p{i}", "m365", f"g{i}") for i in range(30)),
        reads.load("p30", "m365", "g30"),  # never kept
    )
    assert [s.data["page"] if s else None for s in states] == [f"p{i}" for i in range(30)] + [None]
    assert sum(sizes) == 31 and len(sizes) <= 2, "the first alone, then all that waited"
    assert await reads.load("p1", "m365", "g1") is not None, "and again once all were read"


async def test_a_page_asked_for_twice_at_once_gets_both_answers(engine: Engine) -> None:
    reads = StateReads(engine)
    both = asyncio.gather(reads.load("p1", "m365", "g1"), reads.load("p1", "m365", "g1"))
    first, second = await asyncio.wait_for(both, timeout=10)
    assert first is not None and second is not None and first.data == second.data


async def test_a_state_kept_for_another_group_or_connector_is_none(engine: Engine) -> None:
    reads = StateReads(engine)
    other_group, other_connector, own = await asyncio.gather(
        reads.load("p1", "m365", "g2"),
        reads.load("p2", "google", "g2"),
        reads.load("p3", "m365", "g3"),
    )
    assert other_group is None and other_connector is None
    assert own is not None and own.full_fetch_at is not None


async def test_queries_hold_at_most_their_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = counted(monkeypatch)
    monkeypatch.setattr(state_reads, "MOST_PER_QUERY", 4)
    reads = StateReads(engine)
    states = await asyncio.gather(*(reads.load(f"p{i}", "m365", f"g{i}") for i in range(30)))
    assert all(s is not None for s in states)
    assert max(sizes) <= 4 and sum(sizes) == 30


async def test_a_failed_query_is_the_error_of_its_pages_only(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sync.load_many
    failures = iter([RuntimeError("database gone")])

    def flaky(engine: Engine, wanted: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(engine, wanted)

    monkeypatch.setattr(sync, "load_many", flaky)
    reads = StateReads(engine)
    first = await asyncio.gather(
        *(reads.load(f"p{i}", "m365", f"g{i}") for i in range(3)), return_exceptions=True
    )
    assert isinstance(first[0], RuntimeError), "the first query failed"
    later = await reads.load("p5", "m365", "g5")
    assert later is not None and later.data == {"page": "p5"}


async def test_a_page_stopped_while_waiting_leaves_the_others_answered(engine: Engine) -> None:
    reads = StateReads(engine)
    stopped = asyncio.create_task(reads.load("p1", "m365", "g1"))
    others = asyncio.gather(*(reads.load(f"p{i}", "m365", f"g{i}") for i in range(2, 6)))
    await asyncio.sleep(0)
    stopped.cancel()
    assert all(s is not None for s in await others)
    assert stopped.cancelled()
