"""Sync states read for the pages in flight, many in one query.

A page asks for its own state and waits; the asks that arrive while a query runs go
together into the next one. A run then makes one database round trip, and one hand-off
to a thread, for many pages instead of one for each (on an unchanged 2,000-page Graph run
the hand-offs alone cost a second: tests/bench/RESULTS.md, "Session 10"), and holds the
states of the pages in flight only.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from auditor.db import sync
from auditor.db.sync import StoredState, Wanted

MOST_PER_QUERY = 500
"""Asks one query answers at most (within every database's parameter limit)."""


class StateReads:
    """The stored sync states of one run's pages, read in batches."""

    def __init__(self, engine: Engine) -> None:
        """Read from ``engine``'s database."""
        self._engine = engine
        self._asked: list[tuple[Wanted, asyncio.Future[StoredState | None]]] = []
        self._reading: asyncio.Task[None] | None = None

    async def load(self, page_id: str, connector: str, external_id: str) -> StoredState | None:
        """:func:`auditor.db.sync.load` of the page, read with the others asked meanwhile (a
        failed query is the error of every ask it answered)."""
        future: asyncio.Future[StoredState | None] = asyncio.get_running_loop().create_future()
        self._asked.append(((page_id, connector, external_id), future))
        if self._reading is None:
            self._reading = asyncio.create_task(self._read())
        return await future

    async def _read(self) -> None:
        """Answer the asks, up to :data:`MOST_PER_QUERY` a query, until none wait."""
        try:
            while self._asked:
                asked = self._asked[:MOST_PER_QUERY]
                del self._asked[:MOST_PER_QUERY]
                wanted = [key for key, _ in asked]
                try:
                    found = await asyncio.to_thread(sync.load_many, self._engine, wanted)
                except Exception as exc:
                    for _, future in asked:
                        if not future.done():  # a page stopped meanwhile is not told
                            future.set_exception(exc)
                    continue
                for key, future in asked:
                    if not future.done():
                        future.set_result(found[key])
        finally:
            self._reading = None
