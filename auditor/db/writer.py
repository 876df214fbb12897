"""Stores a run's pages from one thread, many pages per transaction, fed by a queue: the
event loop hands a page over and goes on fetching while earlier pages commit.

A batch the database refuses is written again one page per transaction, so a page it
refuses becomes that page's error (stored without its results) and the others keep theirs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace

from sqlalchemy import Engine

from auditor.db import store
from auditor.db.store import PageRecord
from auditor.errors import LeaseLost

log = logging.getLogger(__name__)

MAX_BATCH = 250  # pages per transaction at most (a batch is whatever queued meanwhile)
LINGER_S = 0.05  # how long a batch waits for more pages after its first
NOT_STORED = "the results could not be stored"

Item = tuple[PageRecord, Future[str | None]]


class BatchWriter:
    """A writer thread for one run. :meth:`submit` queues a page and returns a future of
    the error it was stored with (None when stored as given); the future raises what
    ``before_write`` raised (e.g. LeaseLost: then nothing more is written)."""

    def __init__(
        self,
        engine: Engine,
        run_id: int,
        before_write: Callable[[], None],
        describe: Callable[[BaseException], str],
        max_batch: int = MAX_BATCH,
        linger_s: float = LINGER_S,
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self.before_write = before_write
        self.describe = describe
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="page-writer", daemon=True)
        self._stopped: BaseException | None = None

    def start(self) -> BatchWriter:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def submit(self, record: PageRecord) -> Future[str | None]:
        """Queue one page for storing (never blocks)."""
        future: Future[str | None] = Future()
        self._queue.put((record, future))
        return future

    def close(self) -> None:
        """Store everything queued so far, then stop the thread (blocks until done)."""
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        """Take what queues within ``LINGER_S`` of the first page (up to ``max_batch``),
        store it, repeat until closed: fewer, larger transactions (a page's fetch slot is
        free while it waits for its commit)."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, closing = [item], False
            until = time.monotonic() + self.linger_s
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get(timeout=max(until - time.monotonic(), 0.0))
                except queue.Empty:
                    break
                if more is None:
                    closing = True
                    break
                batch.append(more)
            self._write(batch)
            if closing:
                return

    def _write(self, batch: Sequence[Item]) -> None:
        """Store ``batch`` in one transaction, else one page at a time."""
        if self._stopped is None:
            try:
                self.before_write()
            except LeaseLost as exc:  # nothing of this run is written again
                self._stopped = exc
            except Exception as exc:  # the lock could not be checked: not written, said so
                error = f"{NOT_STORED}: the run lock could not be checked ({self.describe(exc)})"
                log.warning("%d page(s) not stored: %s", len(batch), error)
                for _, future in batch:
                    _settle(future, error)
                return
        if self._stopped is not None:
            for _, future in batch:
                _settle(future, exc=self._stopped)
            return
        try:
            store.record_pages(self.engine, self.run_id, [record for record, _ in batch])
        except Exception:
            log.debug("a batch of %d page(s) was refused; storing one at a time", len(batch))
        else:
            for record, future in batch:
                _settle(future, record.error)
            return
        for record, future in batch:
            _settle(future, self._write_one(record))

    def _write_one(self, record: PageRecord) -> str | None:
        """Store one page; if refused, store it without its new sync state (the next run
        reads from the older one), then as an error without its results."""
        try:
            store.record_pages(self.engine, self.run_id, [record])
            return record.error
        except Exception as exc:
            log.debug("page %s: results not stored", record.page_id, exc_info=True)
            refused = self.describe(exc)
            error = f"{NOT_STORED}: {refused}"
        if record.sync is not None:
            try:
                store.record_pages(self.engine, self.run_id, [replace(record, sync=None)])
            except Exception:
                log.debug("page %s: not stored without its state", record.page_id, exc_info=True)
            else:
                log.warning("page %s: its sync state was not stored: %s", record.page_id, refused)
                return record.error
        log.warning("page %s could not be audited: %s", record.page_id, error)
        try:
            store.record_pages(
                self.engine, self.run_id, [replace(record, results=(), error=error, sync=None)]
            )
        except Exception as exc:  # the database is failing: the log says so, the run goes on
            log.error(
                "page %s: not even its error could be stored: %s",
                record.page_id,
                self.describe(exc),
            )
        return error


def _settle(
    future: Future[str | None], result: str | None = None, exc: BaseException | None = None
) -> None:
    """Complete ``future`` unless it already is (its waiter may have been cancelled)."""
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
