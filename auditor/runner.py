"""Runs an audit: fetches each page through its connector, evaluates the rules in a
worker thread (or, for a large run, in a worker process: ``[audit] rule_workers``) and
hands the results to the writer thread, which commits pages in batches.

Pages run concurrently, bounded per connector (``max_concurrency``); each page is
isolated, so a connector exception becomes that page's ``error`` and the run goes on.
Pages stream through fetch, evaluate, store and are dropped: the run keeps only the
counts and errors its summary needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property

from pydantic import ValidationError
from sqlalchemy import Engine

from auditor.config import Config, PageConfig
from auditor.connectors.base import (
    Connector,
    ConnectorError,
    PageRef,
    SyncedFetch,
    SyncState,
    full_fetch_due,
)
from auditor.connectors.http import RequestCount, count_requests
from auditor.connectors.registry import available_connectors
from auditor.db import reuse, store
from auditor.db.lock import LeaseKeeper, RunLock
from auditor.db.reuse import Inputs, Reusable
from auditor.db.store import PageRecord
from auditor.db.sync import StateWrite
from auditor.db.writer import BatchWriter
from auditor.discovery import list_for_run, record_for_run
from auditor.errors import LeaseLost
from auditor.evaluation import PageEvaluator, WorkerPool, content_digest, fitted_digest
from auditor.feedback import RunFeedback
from auditor.loading import connector_settings
from auditor.people import People
from auditor.results import RuleResult, Status
from auditor.rulebook import prepare_database, rule_metadata
from auditor.rules.dismissals import Dismissal
from auditor.snapshot import PageSnapshot
from auditor.state_reads import StateReads
from auditor.text.digest import text_hash
from auditor.text.verdict import TextVerdict
from auditor.validation import describe_validation_error

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
AUTO_WORKER_PAGES = 100  # with rule_workers unset, a run of this many pages or more uses one
PAGES_AHEAD = 500  # pages of a connector started beyond its slots (awaiting a slot or commit)
INPUTS_CHUNK = 500  # pages whose stored inputs are read at a time, as their pages start
LOCAL_UNJUDGED = 0.1  # with workers, a page with at most this share of posts not judged
# before is evaluated in the run's process (sending it would cost more than judging them)
INTERRUPTED = "the audit was stopped (SIGTERM or Ctrl-C) before this page finished"


@dataclass
class PageOutcome:
    """What happened to one page in a run (passed to the progress callback, then dropped)."""

    page: PageConfig
    results: list[RuleResult] = field(default_factory=list)  # evaluated in this run
    error: str | None = None
    requests: int = 0  # HTTP requests its fetch sent (retries and tokens included)
    reused: bool = False  # not evaluated: unchanged since its stored results, which stand
    reused_failing: tuple[str, ...] = ()  # then: the rules failing in those results

    @property
    def failing_rules(self) -> set[str]:
        """The rules failing on the page (evaluated now, or in the results re-used)."""
        if self.reused:
            return set(self.reused_failing)
        return {r.rule for r in self.results if r.status == Status.FAIL}

    @property
    def failed(self) -> bool:
        """Some rule failed on the page."""
        return bool(self.failing_rules)


@dataclass(frozen=True)
class PageError:
    """A page the run could not audit, and why."""

    page_id: str
    error: str


@dataclass
class RunSummary:
    """The outcome of a run, for the CLI's summary and exit code: counts, the failing
    pages' ids and the errors (not every page's results: those are in the database)."""

    run_id: int
    status: str
    pages: int = 0
    requests: int = 0  # HTTP requests the pages' fetches sent
    failing: list[str] = field(default_factory=list)  # ids of pages with a failing rule
    errors: list[PageError] = field(default_factory=list)
    failing_by_rule: Counter[str] = field(default_factory=Counter)  # pages failing each rule
    reused: int = 0  # pages not evaluated: their inputs were unchanged

    def add(self, outcome: PageOutcome) -> None:
        """Count one page's outcome."""
        self.pages += 1
        self.requests += outcome.requests
        self.reused += outcome.reused
        if outcome.error:
            self.errors.append(PageError(outcome.page.id, outcome.error))
        failing = outcome.failing_rules
        if failing:
            self.failing.append(outcome.page.id)
            self.failing_by_rule.update(failing)


ProgressFn = Callable[[PageOutcome], None]
Results = tuple[list[RuleResult], datetime | None]
"""A page's results and the earliest instant they could change with the same input."""


class Runner:
    """Audits the configured pages against one database."""

    def __init__(
        self, config: Config, engine: Engine, now: datetime | None = None, full: bool = False
    ) -> None:
        self.config = config
        self.engine = engine
        self.now = now or config.district.as_of
        self.full = full  # fetch every page in full, ignoring stored sync state
        self.people = People.from_config(config)  # reads the roster once per run
        self._lock: RunLock | None = None
        self._lease_lost = False
        self._evaluator: ThreadPoolExecutor | None = None
        self._workers = 0  # rule worker processes this run may start
        self._pool: WorkerPool | None = None  # started when a page first needs it
        self._ready: Future[str] | None = None  # done once a worker has its matcher
        self._writer: BatchWriter | None = None
        self._reusable: dict[str, Reusable] = {}  # stored inputs, by page (taken when used)
        self._digest_failed = False  # warned that pages' inputs could not be digested
        self._states = StateReads(engine)  # sync states, read many pages a query

    async def run(
        self,
        pages: Sequence[PageConfig],
        trigger: str = "cli",
        on_page: ProgressFn | None = None,
    ) -> RunSummary:
        """Audit ``pages``; holds the run lock for the whole run."""
        self._workers = self.rule_workers(len(pages))
        try:
            return await self._run(pages, trigger, on_page)
        finally:
            if self._pool is not None:
                self._pool.close()
                self._pool = self._ready = None

    async def _run(
        self, pages: Sequence[PageConfig], trigger: str, on_page: ProgressFn | None
    ) -> RunSummary:
        """:meth:`run`, whose rule workers (if any) are stopped by its caller."""
        prepare_database(self.engine, self.config.rules)
        lock = RunLock.acquire(self.engine)
        try:
            stale = store.mark_interrupted(self.engine)
            if stale:
                log.warning("marked earlier run(s) %s as interrupted", stale)
            store.sync_registry(self.engine, self.config)
            run_id = store.start_run(
                self.engine,
                self.config,
                trigger,
                lock.holder,
                len(pages),
                rule_metadata(self.config.rules, self._connector_classes()),
            )
            lock.renew(run_id)
            log.info("run %s started: %d page(s)", run_id, len(pages))
            self._lock = lock
            keeper = LeaseKeeper(lock, run_id, HEARTBEAT_S).start()
            summary = RunSummary(run_id, status="interrupted")  # until all pages are done
            # Rules run one page at a time in one thread: the text matcher's caches are not
            # shared between threads, and the event loop stays free for fetches. Pages are
            # stored by the writer thread, many per transaction.
            # With rule workers, that thread consults the judged-post cache, and the rules
            # of pages with posts to judge run in worker processes (auditor.evaluation).
            self._evaluator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rules")
            self._writer = BatchWriter(self.engine, run_id, self._check_lease, _describe).start()
            try:
                await self._audit_all(run_id, pages, summary, on_page)
                self._check_lease()
                summary.status = "incomplete" if summary.errors else "complete"
            finally:
                self._evaluator.shutdown(wait=True)
                if not self._lease_lost:  # nothing more of this run once another holds it
                    self._flush_judged()
                self._writer.close()  # stores what is queued (pages stopped mid-fetch too)
                keeper.stop()  # only now: the lease is renewed while the queue is written
                store.finish_run(self.engine, run_id, summary.status)
                log.info(
                    "run %s finished: %s (%d of %d page(s) unchanged, not evaluated again)",
                    run_id,
                    summary.status,
                    summary.reused,
                    summary.pages,
                )
        finally:
            lock.release()  # only ever deletes our own lease
        return summary

    def _check_lease(self) -> None:
        """Raise LeaseLost unless this run still holds the run lock (after a long stall,
        another audit may have taken it over: then this one must not write on)."""
        if self._lock is not None and not self._lock.held():
            self._lease_lost = True
            raise LeaseLost(
                "this audit lost the run lock to another one (it was stalled longer than the "
                "lock's lease); it stopped, and its run is marked interrupted"
            )

    async def _audit_all(
        self,
        run_id: int,
        pages: Sequence[PageConfig],
        summary: RunSummary,
        on_page: ProgressFn | None,
    ) -> None:
        """Audit every page (bounded per connector), counting each into ``summary``."""
        connectors, broken = self._open_connectors({c.name for c in self.config.connectors})
        limits = {
            name: asyncio.Semaphore(conn.settings.pages_in_flight)
            for name, conn in connectors.items()
        }
        listing = list_for_run(self.config, connectors)  # beside the pages, stored after them
        try:

            async def one(page: PageConfig) -> None:
                if page.connector in broken:
                    outcome, started = PageOutcome(page, error=broken[page.connector]), store.now()
                    record, fetched = self._stored(page, started, None, outcome), None
                else:
                    async with limits[page.connector]:  # the slot is free before the commit
                        outcome, record, fetched = await self._audit_page(
                            page, connectors[page.connector]
                        )
                if fetched is not None and not fetched.unchanged:  # kept with the results
                    name = connectors[page.connector].name
                    write = StateWrite(name, page.external_id, fetched.state, fetched.full)
                    record = replace(record, sync=write)
                await self._record(record, outcome)
                summary.add(outcome)
                if on_page:
                    on_page(outcome)

            by_connector: dict[str, list[PageConfig]] = {}
            for p in pages:
                by_connector.setdefault(p.connector, []).append(p)
            try:  # a lost lease stops every page still in flight
                async with asyncio.TaskGroup() as group:
                    for name, its_pages in by_connector.items():
                        conn = connectors.get(name)
                        ahead = PAGES_AHEAD + (conn.settings.pages_in_flight if conn else 0)
                        group.create_task(self._start(run_id, its_pages, ahead, one, group))
            except* LeaseLost as lost:
                raise lost.exceptions[0] from None
            await record_for_run(self.engine, run_id, listing)
        finally:
            listing.cancel()  # done by now, unless the pages stopped: then it stops too
            try:
                await asyncio.wait([listing])  # before its connectors close
            finally:
                for conn in connectors.values():
                    with contextlib.suppress(Exception):
                        await conn.aclose()

    async def _start(
        self,
        run_id: int,
        pages: Sequence[PageConfig],
        ahead: int,
        audit: Callable[[PageConfig], Awaitable[None]],
        group: asyncio.TaskGroup,
    ) -> None:
        """Start ``audit`` of each of ``pages`` (one connector's) in ``group``, at most
        ``ahead`` unfinished at a time, in order; each chunk's stored inputs read before
        its pages start. So the run holds a window of pages, not one task and stored
        inputs per page of the district."""
        slots = asyncio.Semaphore(ahead)

        async def one(page: PageConfig) -> None:
            try:
                await audit(page)
            finally:
                slots.release()

        for start in range(0, len(pages), INPUTS_CHUNK):
            chunk = pages[start : start + INPUTS_CHUNK]
            if not self.full:
                ids = [p.id for p in chunk]
                self._reusable.update(await asyncio.to_thread(self._stored_inputs, run_id, ids))
            for page in chunk:
                await slots.acquire()
                group.create_task(one(page))

    def _connector_classes(self) -> list[type[Connector]]:
        """The classes of the configured connectors (whose platforms' fix steps the run
        keeps), imported if they were not."""
        installed = available_connectors()
        return [installed[c.type] for c in self.config.connectors if c.type in installed]

    def _open_connectors(self, names: set[str]) -> tuple[dict[str, Connector], dict[str, str]]:
        """Instantiate the connectors in use; a connector that cannot start fails its pages."""
        installed = available_connectors()
        opened: dict[str, Connector] = {}
        broken: dict[str, str] = {}
        for conf in self.config.connectors:
            if conf.name not in names:
                continue
            try:
                cls = installed[conf.type]
                opened[conf.name] = cls(
                    conf.name, connector_settings(self.config, conf), self.config.base_dir
                )
            except ValidationError as exc:
                broken[conf.name] = f"connector {conf.name!r}: {describe_validation_error(exc)}"
            except Exception as exc:
                broken[conf.name] = f"connector {conf.name!r} could not start: {_describe(exc)}"
        return opened, broken

    async def _audit_page(
        self, page: PageConfig, conn: Connector
    ) -> tuple[PageOutcome, PageRecord, SyncedFetch | None]:
        """Fetch and evaluate one page (or, when its inputs are provably those its stored
        results were evaluated from, re-use them); its outcome, the record to store, and
        what the fetch left to keep (an incremental connector's new sync state)."""
        started = store.now()
        snapshot: PageSnapshot | None = None
        outcome = PageOutcome(page)
        counted = RequestCount()
        fetched: SyncedFetch | None = None
        before = self._reusable.pop(page.id, None)
        record: PageRecord | None = None
        try:
            try:
                context, seen = await self._seen(page, conn, before)
                with count_requests() as counted:
                    fetched = await self._fetch(page, conn, seen)
                    snapshot = fetched.snapshot
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # isolate the page: its error is recorded, the run goes on
                if not isinstance(exc, ConnectorError):
                    log.debug("page %s: unexpected error", page.id, exc_info=True)
                outcome.error = f"{conn.type} connector {conn.name!r}: {_describe(exc)}"
                log.warning("page %s could not be audited: %s", page.id, outcome.error)
            outcome.requests = counted.sent
            if fetched is not None:
                try:  # CPU work, off the event loop: fetches in flight go on meanwhile
                    digests = (context, seen)
                    record = await self._judge(page, conn, fetched, digests, before, outcome)
                    record = replace(record, started_at=started)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.debug("page %s: rules failed", page.id, exc_info=True)
                    outcome.results, outcome.reused = [], False
                    outcome.error = f"the rules could not run: {_describe(exc)}"
                    log.warning("page %s could not be audited: %s", page.id, outcome.error)
                    record = None
        except asyncio.CancelledError:  # stopped mid-page: mark it, so the report says so
            if not self._lease_lost and self._writer is not None:  # (the writer stores it
                self._writer.submit(  # when the run closes; never once the lock is lost)
                    store.PageRecord(page.id, page.name, started, (), INTERRUPTED)
                )
            raise
        if record is None:
            record = self._stored(page, started, snapshot, outcome)
        kept = fetched if fetched is not None and conn.incremental else None
        return outcome, record, kept

    async def _seen(
        self, page: PageConfig, conn: Connector, before: Reusable | None
    ) -> tuple[str | None, str | None]:
        """The content digest the page's stored results may be re-used on (None: evaluate
        it): that of its stored inputs when none was asked, the clock has not reached
        their end, no full evaluation is due and the digest of what the results depend on
        besides the content (their context, made in the evaluation thread) is the same;
        and that context, when it had to be made (the evaluation makes it otherwise: a
        page with nothing stored does not wait for the evaluation thread to be fetched)."""
        if before is None or self.full:
            return None, None
        now, inputs = self._now(), before.inputs
        if inputs.valid_until is not None and now >= inputs.valid_until:
            return None, None
        if now < inputs.evaluated_at:  # a clock set back: judged at a later instant
            return None, None
        if full_fetch_due(page.id, inputs.evaluated_at, now, conn.settings.full_refresh_days):
            return None, None
        loop = asyncio.get_running_loop()
        try:
            context = await loop.run_in_executor(self._evaluator, self._context, page)
        except Exception:  # not re-used: its evaluation says what failed
            log.debug("page %s: the digest of its inputs failed", page.id, exc_info=True)
            return None, None
        return context, inputs.content if context == inputs.context else None

    def _inputs(
        self, page: PageConfig, snapshot: PageSnapshot, content: str | None, context: str | None
    ) -> tuple[str, str] | None:
        """The page's content digest and context, each made now unless given (in the
        evaluation thread); None when they cannot be made: the page is evaluated all the
        same, and stored without them (so never re-used), with one warning a run."""
        try:
            return content or content_digest(snapshot), context or self._context(page)
        except Exception as exc:
            if not self._digest_failed:
                self._digest_failed = True
                log.warning(
                    "the digest of pages' inputs could not be made (%s): pages are evaluated "
                    "in full on every run until it can",
                    _describe(exc),
                )
            return None

    def _stored_inputs(self, run_id: int, pages: Sequence[str]) -> dict[str, Reusable]:
        """What the stored results of ``pages`` were evaluated from; none (those pages
        evaluated) when they cannot be read: re-use only saves work."""
        try:
            return reuse.load(self.engine, run_id, pages)
        except Exception as exc:
            log.warning(
                "stored page inputs of %d page(s) could not be read (%s): those pages are "
                "evaluated in full",
                len(pages),
                exc,
            )
            return {}

    def _context(self, page: PageConfig) -> str:
        """:meth:`PageEvaluator.page_inputs` of the page (in the evaluation thread)."""
        return self._local.page_inputs(page, self.feedback.dismissals(page.id))

    async def _judge(
        self,
        page: PageConfig,
        conn: Connector,
        fetched: SyncedFetch,
        digests: tuple[str | None, str | None],
        before: Reusable | None,
        outcome: PageOutcome,
    ) -> PageRecord:
        """The page's record (its start is the caller's to set): its stored results re-used
        when its content is ``seen`` (and an incremental connector did not fetch it in
        full), else evaluated now, with what they were evaluated from (``digests``: see
        :meth:`_seen`)."""
        (context, seen), snapshot = digests, fetched.snapshot
        content = fitted_digest(fetched.content)
        loop = asyncio.get_running_loop()
        reusable = not (conn.incremental and fetched.full)
        if before is not None and seen is not None and reusable:
            if content is None:  # a connector that digests its content gives it
                assert snapshot is not None
                content = await loop.run_in_executor(self._evaluator, content_digest, snapshot)
            if content == seen:
                outcome.reused, outcome.reused_failing = True, before.failing
                name, requests = before.page_name, outcome.requests
                return PageRecord(
                    page.id, name, store.now(), (), None, requests, reuse_of=before.holder
                )
        assert snapshot is not None  # a connector leaves it out only for ``seen`` content
        digests_now = await loop.run_in_executor(
            self._evaluator, self._inputs, page, snapshot, content, context
        )
        now = self._now()
        outcome.results, valid_until = await self._evaluate(page, snapshot)
        if valid_until is not None and valid_until <= now:
            valid_until = now  # results for this instant only: evaluated again next run
        record = self._stored(page, store.now(), snapshot, outcome)
        if digests_now is None:
            return record
        return replace(record, inputs=Inputs(*digests_now, valid_until, now))

    async def _fetch(self, page: PageConfig, conn: Connector, seen: str | None) -> SyncedFetch:
        """The page fetched within its deadline: incrementally from its stored sync state
        where the connector can (see :meth:`Connector.fetch_page_synced`), else in full;
        either way not built when the connector finds its content is ``seen``."""
        ref = PageRef(page.id, page.external_id, page.name)
        if not conn.incremental:
            return await conn.fetch_page_seen(ref, seen)
        stored = await self._states.load(page.id, conn.name, page.external_id)
        previous = SyncState(stored.data, stored.full_fetch_at, stored.problem) if stored else None
        return await conn.fetch_page_synced(ref, previous, store.now(), self.full, seen)

    @staticmethod
    def _stored(
        page: PageConfig, started: datetime, snapshot: PageSnapshot | None, outcome: PageOutcome
    ) -> PageRecord:
        """What is stored of a page's outcome (the snapshot itself is dropped)."""
        results = [] if outcome.error else outcome.results
        return PageRecord.of(
            page.id, page.name, started, snapshot, results, outcome.error, outcome.requests
        )

    async def _record(self, record: PageRecord, outcome: PageOutcome) -> None:
        """Hand one page to the writer thread and wait for its commit (the event loop goes
        on fetching meanwhile). A page the database refuses becomes that page's error,
        recorded without its results; the run goes on either way. LeaseLost (raised when
        the run lock was lost) stops the run: nothing is written after it."""
        assert self._writer is not None
        stored = self._writer.submit(record)
        error = await asyncio.shield(asyncio.wrap_future(stored))
        if error != outcome.error:
            outcome.results, outcome.error, outcome.reused = [], error, False

    def rule_workers(self, pages: int) -> int:
        """How many worker processes evaluate the rules of a run of ``pages`` pages: as
        ``[audit] rule_workers`` says; unset, one for a run of at least
        :data:`AUTO_WORKER_PAGES` pages on a machine with two processors or more (a worker
        costs about a second of start-up on the other processor), else none."""
        configured = self.config.audit.rule_workers
        if configured is not None:
            return configured
        return 1 if pages >= AUTO_WORKER_PAGES and (os.cpu_count() or 1) > 1 else 0

    async def _evaluate(self, page: PageConfig, snapshot: PageSnapshot) -> Results:
        """The page's results and until when they hold: evaluated in the evaluation
        thread, or, with rule workers, with its judged verdicts looked up in that thread
        and its rules run by a worker (the new verdicts are then queued for storing in
        that thread again). A page whose posts were nearly all judged before is cheaper
        to evaluate than to send: it is evaluated in the evaluation thread (the same code,
        so the same results)."""
        loop = asyncio.get_running_loop()
        if not self._workers:
            return await loop.run_in_executor(self._evaluator, self.evaluate, page, snapshot)
        done, known, dismissals = await loop.run_in_executor(
            self._evaluator, self._here_if_known, page, snapshot
        )
        if done is not None:
            return done
        assert self._pool is not None
        try:
            evaluated = self._pool.evaluate(page, snapshot, known, dismissals, self._now())
            results, fresh, until = await asyncio.wrap_future(evaluated)
        except BrokenProcessPool as exc:  # the worker died (killed, out of memory, a crash)
            if self._workers:
                log.warning(
                    "the rules' worker process stopped (%s); the rest of the run evaluates "
                    "its pages in the run's own process",
                    _describe(exc),
                )
                self._workers = 0  # no later page is sent to it (it is closed with the run)
            return await loop.run_in_executor(self._evaluator, self.evaluate, page, snapshot)
        await loop.run_in_executor(self._evaluator, self.feedback.keep, fresh)
        return results, until

    def _here_if_known(
        self, page: PageConfig, snapshot: PageSnapshot
    ) -> tuple[Results | None, dict[str, TextVerdict] | None, tuple[Dismissal, ...]]:
        """The page's results (and until when they hold) when it is evaluated here: when at most
        :data:`LOCAL_UNJUDGED` of its posts are still to be judged, or while the rule
        workers start (the first such page starts them); else None. And its known verdicts
        and dismissals."""
        known, dismissals = self._known(page, snapshot)
        posts = snapshot.posts or []
        unjudged = sum(1 for post in posts if text_hash(post.text) not in (known or {}))
        if unjudged > LOCAL_UNJUDGED * len(posts):
            if self._pool is None:  # a run with nothing to judge never starts one
                self._pool = WorkerPool(self.config, self.people, self._workers)
                self._ready = self._pool.version()
            elif self._ready is not None and self._ready.done():
                return None, known, dismissals
        results, fresh, until = self._local.evaluate(page, snapshot, known, dismissals, self._now())
        self.feedback.keep(fresh)
        return (results, until), known, dismissals

    def _known(
        self, page: PageConfig, snapshot: PageSnapshot
    ) -> tuple[dict[str, TextVerdict] | None, tuple[Dismissal, ...]]:
        """The verdicts on the page's posts judged before, and its dismissals."""
        return self.feedback.known(page.id, snapshot), self.feedback.dismissals(page.id)

    @cached_property
    def _local(self) -> PageEvaluator:
        """The rules of this run in this process (its text matcher is made on first use)."""
        return PageEvaluator(self.config, self.people)

    def _flush_judged(self) -> None:
        """Store the last batch of the judged-post cache's new verdicts."""
        if "feedback" in self.__dict__:  # made when the run's first page was evaluated
            self.feedback.flush()

    @cached_property
    def feedback(self) -> RunFeedback:
        """People's dismissals and the judged-post cache, read once per run (in the
        evaluation thread)."""
        return RunFeedback(self.engine, self._local.version(), store.now())

    def _now(self) -> datetime:
        """The instant the rules judge a page at."""
        return self.now or datetime.now(UTC)

    def evaluate(self, page: PageConfig, snapshot: PageSnapshot) -> Results:
        """All enabled rules on one snapshot in this process, with the page's dismissals
        and the judged-post cache, waivers applied; and until when the results hold."""
        known, dismissals = self._known(page, snapshot)
        results, fresh, until = self._local.evaluate(page, snapshot, known, dismissals, self._now())
        self.feedback.keep(fresh)
        return results, until


def _describe(exc: BaseException) -> str:
    """A readable one-line description of an exception."""
    if isinstance(exc, ConnectorError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
