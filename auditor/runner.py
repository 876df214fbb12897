"""Runs an audit: fetches each page through its connector, evaluates the rules and
commits the page's results as soon as it is done.

Pages run concurrently, bounded per connector (``max_concurrency``); each page is
isolated, so a connector exception becomes that page's ``error`` and the run goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from pydantic import ValidationError
from sqlalchemy import Engine

from auditor.config import Config, PageConfig
from auditor.connectors.base import Connector, ConnectorError, PageRef, SyncedFetch, SyncState
from auditor.connectors.http import RequestCount, count_requests
from auditor.connectors.registry import available_connectors
from auditor.db import store, sync
from auditor.db.lock import LeaseKeeper, RunLock
from auditor.discovery import record_for_run
from auditor.errors import LeaseLost
from auditor.feedback import RunFeedback
from auditor.loading import connector_settings
from auditor.people import People
from auditor.results import RuleResult, Status
from auditor.rulebook import prepare_database, rule_metadata
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot
from auditor.text.matcher import TextMatcher
from auditor.validation import describe_validation_error
from auditor.waivers import apply_waivers

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
INTERRUPTED = "the audit was stopped (SIGTERM or Ctrl-C) before this page finished"


@dataclass
class PageOutcome:
    """What happened to one page in a run."""

    page: PageConfig
    results: list[RuleResult] = field(default_factory=list)
    error: str | None = None
    requests: int = 0  # HTTP requests its fetch sent (retries and tokens included)

    @property
    def failed(self) -> bool:
        return any(r.status == Status.FAIL for r in self.results)


@dataclass
class RunSummary:
    """The outcome of a run, for the CLI's summary and exit code."""

    run_id: int
    status: str
    outcomes: list[PageOutcome]

    @property
    def errors(self) -> list[PageOutcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def failing(self) -> list[PageOutcome]:
        return [o for o in self.outcomes if o.failed]


ProgressFn = Callable[[PageOutcome], None]


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

    async def run(
        self,
        pages: Sequence[PageConfig],
        trigger: str = "cli",
        on_page: ProgressFn | None = None,
    ) -> RunSummary:
        """Audit ``pages``; holds the run lock for the whole run."""
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
                rule_metadata(self.config.rules),
            )
            lock.renew(run_id)
            log.info("run %s started: %d page(s)", run_id, len(pages))
            self._lock = lock
            keeper = LeaseKeeper(lock, run_id, HEARTBEAT_S).start()
            status = "interrupted"
            # Rules run one page at a time in one thread: the text matcher's caches are not
            # shared between threads, and the event loop stays free for fetches.
            self._evaluator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rules")
            try:
                outcomes = await self._audit_all(run_id, pages, on_page)
                self._check_lease()
                status = "incomplete" if any(o.error for o in outcomes) else "complete"
            finally:
                keeper.stop()
                self._evaluator.shutdown(wait=True)
                self._flush_judged()
                store.finish_run(self.engine, run_id, status)
                log.info("run %s finished: %s", run_id, status)
        finally:
            lock.release()  # only ever deletes our own lease
        return RunSummary(run_id, status, outcomes)

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
        self, run_id: int, pages: Sequence[PageConfig], on_page: ProgressFn | None
    ) -> list[PageOutcome]:
        connectors, broken = self._open_connectors({c.name for c in self.config.connectors})
        limits = {
            name: asyncio.Semaphore(conn.settings.max_concurrency)
            for name, conn in connectors.items()
        }
        try:

            async def one(page: PageConfig) -> PageOutcome:
                if page.connector in broken:
                    outcome = PageOutcome(page, error=broken[page.connector])
                    await self._record(run_id, page, store.now(), None, outcome)
                else:
                    async with limits[page.connector]:
                        outcome = await self._audit_page(run_id, page, connectors[page.connector])
                if on_page:
                    on_page(outcome)
                return outcome

            try:  # a lost lease stops every page still in flight
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(one(p)) for p in pages]
            except* LeaseLost as lost:
                raise lost.exceptions[0] from None
            outcomes = [task.result() for task in tasks]
            await record_for_run(self.config, self.engine, run_id, connectors)  # never raises
            return outcomes
        finally:
            for conn in connectors.values():
                with contextlib.suppress(Exception):
                    await conn.aclose()

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

    async def _audit_page(self, run_id: int, page: PageConfig, conn: Connector) -> PageOutcome:
        started = store.now()
        snapshot: PageSnapshot | None = None
        outcome = PageOutcome(page)
        counted = RequestCount()
        fetched: SyncedFetch | None = None
        try:
            with count_requests() as counted:
                fetched = await self._fetch(page, conn)
                snapshot = fetched.snapshot
        except asyncio.CancelledError:  # stopped mid-page: mark it, so the report says so
            if not self._lease_lost:  # (never written once another audit holds the lock)
                store.record_page(
                    self.engine, run_id, page.id, page.name, started, None, [], INTERRUPTED
                )
            raise
        except Exception as exc:  # isolate the page: its error is recorded, the run goes on
            if not isinstance(exc, ConnectorError):
                log.debug("page %s: unexpected error", page.id, exc_info=True)
            outcome.error = f"{conn.type} connector {conn.name!r}: {_describe(exc)}"
            log.warning("page %s could not be audited: %s", page.id, outcome.error)
        outcome.requests = counted.sent
        if snapshot is not None:
            try:  # CPU work, in the one evaluation thread: fetches in flight go on meanwhile
                loop = asyncio.get_running_loop()
                outcome.results = await loop.run_in_executor(
                    self._evaluator, self.evaluate, page, snapshot
                )
            except Exception as exc:
                log.debug("page %s: rules failed", page.id, exc_info=True)
                outcome.error = f"the rules could not run: {_describe(exc)}"
                log.warning("page %s could not be audited: %s", page.id, outcome.error)
        await self._record(run_id, page, started, snapshot, outcome)
        if fetched is not None and conn.incremental:
            await self._keep_state(page, conn, fetched)
        return outcome

    async def _fetch(self, page: PageConfig, conn: Connector) -> SyncedFetch:
        """The page fetched within its deadline: incrementally from its stored sync state
        where the connector can (see :meth:`Connector.fetch_page_synced`), else in full."""
        ref = PageRef(page.id, page.external_id, page.name)
        if not conn.incremental:
            return SyncedFetch(await conn.fetch_page_in_time(ref), None, True)
        stored = await asyncio.to_thread(
            sync.load, self.engine, page.id, conn.name, page.external_id
        )
        previous = SyncState(stored.data, stored.full_fetch_at, stored.problem) if stored else None
        return await conn.fetch_page_synced(ref, previous, store.now(), self.full)

    async def _keep_state(self, page: PageConfig, conn: Connector, fetched: SyncedFetch) -> None:
        """Store the page's new sync state after its results (never once the run lock is
        lost, nor when it did not change); a failure is logged, and the next run reads from
        the older state."""
        if self._lease_lost or fetched.unchanged:
            return
        stamp = store.now()
        try:
            await asyncio.to_thread(
                sync.save,
                *(self.engine, page.id, conn.name, page.external_id, fetched.state),
                *(stamp if fetched.full else None, stamp),
            )
        except Exception as exc:
            log.warning("page %s: its sync state could not be stored: %s", page.id, _describe(exc))

    async def _record(
        self,
        run_id: int,
        page: PageConfig,
        started: datetime,
        snapshot: PageSnapshot | None,
        outcome: PageOutcome,
    ) -> None:
        """Store one page's outcome in a worker thread (a commit must not stall the fetches
        in flight). A page the database refuses becomes that page's error, recorded
        without its results; the run goes on either way. Nothing is written once the run
        lock is lost (LeaseLost stops the run)."""
        await asyncio.to_thread(self._check_lease)

        async def write(snap: PageSnapshot | None, results: list[RuleResult]) -> None:
            await asyncio.to_thread(
                store.record_page,
                *(self.engine, run_id, page.id, page.name, started),
                *(snap, results, outcome.error, outcome.requests),
            )

        try:
            await write(snapshot, outcome.results)
            return
        except Exception as exc:
            log.debug("page %s: results not stored", page.id, exc_info=True)
            outcome.results = []
            outcome.error = f"the results could not be stored: {_describe(exc)}"
            log.warning("page %s could not be audited: %s", page.id, outcome.error)
        try:
            await write(None, [])
        except Exception as exc:  # the database is failing: the log says so, the run goes on
            log.error("page %s: not even its error could be stored: %s", page.id, _describe(exc))

    @cached_property
    def text(self) -> TextMatcher:
        """The content rules' detectors, made once per run (on its first page)."""
        return TextMatcher(self.config.rules, self.config.district)

    def _flush_judged(self) -> None:
        """Store the last batch of the judged-post cache's new verdicts."""
        if "feedback" in self.__dict__:  # made when the run's first page was evaluated
            self.feedback.flush()

    @cached_property
    def feedback(self) -> RunFeedback:
        """People's dismissals and the judged-post cache, read once per run."""
        domains = self.config.district.student_email_domains
        return RunFeedback(self.engine, self.text, store.now(), domains)

    def evaluate(self, page: PageConfig, snapshot: PageSnapshot) -> list[RuleResult]:
        """All enabled rules on one snapshot, with waivers applied."""
        now = self.now or datetime.now(UTC)
        ctx = RuleContext(
            page=page,
            district=self.config.district,
            rules=self.config.rules,
            people=self.people,
            now=now,
            text=self.text,
        )
        results = self.feedback.evaluate(snapshot, ctx)  # dismissals, judged-post cache
        today = now.astimezone(self.config.district.tz).date()
        return apply_waivers(page.id, results, self.config.waivers, today)


def _describe(exc: BaseException) -> str:
    """A readable one-line description of an exception."""
    if isinstance(exc, ConnectorError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
