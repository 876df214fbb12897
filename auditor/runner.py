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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from pydantic import ValidationError
from sqlalchemy import Engine

from auditor.config import Config, PageConfig
from auditor.connectors.base import Connector, ConnectorError, PageRef
from auditor.connectors.registry import available_connectors
from auditor.db import store
from auditor.db.engine import upgrade
from auditor.db.lock import RunLock
from auditor.discovery import record_for_run
from auditor.loading import connector_settings
from auditor.people import People
from auditor.results import RuleResult, Status
from auditor.rules import catalog
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

    def __init__(self, config: Config, engine: Engine, now: datetime | None = None) -> None:
        self.config = config
        self.engine = engine
        self.now = now
        self.people = People.from_config(config)  # reads the roster once per run

    def select_pages(self, page_ids: Sequence[str] = ()) -> list[PageConfig]:
        """The pages to audit: all, or those named (unknown ids raise KeyError)."""
        if not page_ids:
            return list(self.config.pages)
        return [self.config.page(pid) for pid in page_ids]

    async def run(
        self,
        pages: Sequence[PageConfig],
        trigger: str = "cli",
        on_page: ProgressFn | None = None,
    ) -> RunSummary:
        """Audit ``pages``; holds the run lock for the whole run."""
        upgrade(self.engine)
        lock = RunLock.acquire(self.engine)
        try:
            stale = store.mark_interrupted(self.engine)
            if stale:
                log.warning("marked earlier run(s) %s as interrupted", stale)
            store.sync_registry(self.engine, self.config)
            run_id = store.start_run(self.engine, self.config, trigger, lock.holder, len(pages))
            lock.renew(run_id)
            log.info("run %s started: %d page(s)", run_id, len(pages))
            heartbeat = asyncio.create_task(_keep_alive(lock, run_id))
            status = "interrupted"
            try:
                outcomes = await self._audit_all(run_id, pages, on_page)
                await record_for_run(self.config, self.engine, run_id)  # never raises
                status = "incomplete" if any(o.error for o in outcomes) else "complete"
            finally:
                heartbeat.cancel()
                store.finish_run(self.engine, run_id, status)
                log.info("run %s finished: %s", run_id, status)
        finally:
            lock.release()
        return RunSummary(run_id, status, outcomes)

    async def _audit_all(
        self, run_id: int, pages: Sequence[PageConfig], on_page: ProgressFn | None
    ) -> list[PageOutcome]:
        connectors, broken = self._open_connectors({p.connector for p in pages})
        limits = {
            name: asyncio.Semaphore(conn.settings.max_concurrency)
            for name, conn in connectors.items()
        }
        try:

            async def one(page: PageConfig) -> PageOutcome:
                if page.connector in broken:
                    outcome = PageOutcome(page, error=broken[page.connector])
                    store.record_page(
                        self.engine,
                        run_id,
                        page.id,
                        page.name,
                        store.now(),
                        None,
                        [],
                        outcome.error,
                    )
                else:
                    async with limits[page.connector]:
                        outcome = await self._audit_page(run_id, page, connectors[page.connector])
                if on_page:
                    on_page(outcome)
                return outcome

            return list(await asyncio.gather(*(one(p) for p in pages)))
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
        try:
            snapshot = await conn.fetch_page(PageRef(page.id, page.external_id, page.name))
            outcome.results = self.evaluate(page, snapshot)
        except asyncio.CancelledError:  # stopped mid-page: mark it, so the report says so
            store.record_page(
                self.engine, run_id, page.id, page.name, started, None, [], INTERRUPTED
            )
            raise
        except Exception as exc:  # isolate the page: its error is recorded, the run goes on
            if not isinstance(exc, ConnectorError):
                log.debug("page %s: unexpected error", page.id, exc_info=True)
            outcome.error = f"{conn.type} connector {conn.name!r}: {_describe(exc)}"
            log.warning("page %s could not be audited: %s", page.id, outcome.error)
        store.record_page(
            self.engine,
            run_id,
            page.id,
            page.name,
            started,
            snapshot,
            outcome.results,
            outcome.error,
        )
        return outcome

    @cached_property
    def text(self) -> TextMatcher:
        """The content rules' detectors, made once per run (on its first page)."""
        return TextMatcher(self.config.rules, self.config.district)

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
        results = catalog.evaluate(snapshot, ctx)
        today = now.astimezone(self.config.district.tz).date()
        return apply_waivers(page.id, results, self.config.waivers, today)


async def _keep_alive(lock: RunLock, run_id: int) -> None:
    """Renew the run lock while the run works."""
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        try:
            await asyncio.to_thread(lock.renew, run_id)
        except Exception as exc:  # a missed renewal is retried; the lease outlives a few
            log.warning("could not renew the run lock: %s", exc)


def _describe(exc: BaseException) -> str:
    """A readable one-line description of an exception."""
    if isinstance(exc, ConnectorError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
