"""Evaluates a page's rules, in the run's own process or in worker processes.

:class:`PageEvaluator` holds what the rules of a run read besides the page (the config,
the roster, the text matcher) and evaluates one snapshot with the verdicts already known
and the page's dismissals, applying waivers. The runner calls it in a thread of its own
process, or through :class:`WorkerPool`, whose processes each hold one evaluator (made by
:func:`_start`): the run's process then only fetches, parses, consults the judged-post
cache and writes, and the rules run on another core. Both ways call the same code, so
they give the same results.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import logging.handlers
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from auditor.config import Config, PageConfig
from auditor.feedback import storable
from auditor.people import People
from auditor.results import RuleResult
from auditor.rules import catalog
from auditor.rules.base import RuleContext
from auditor.rules.dismissals import Dismissal
from auditor.snapshot import PageSnapshot
from auditor.text.matcher import TextMatcher, verdicts_version
from auditor.text.verdict import TextVerdict
from auditor.waivers import apply_waivers, waivers_valid_until

Evaluated = tuple[list[RuleResult], dict[str, TextVerdict], datetime | None]
"""A page's results (waivers applied), its newly judged verdicts that may be stored, and
the earliest instant its results could change with the same input (None: never by the
clock alone)."""


@dataclass
class PageEvaluator:
    """The rules of one run, for one page at a time (not shared between threads: the text
    matcher's page views are made one after another)."""

    config: Config
    people: People

    @cached_property
    def text(self) -> TextMatcher:
        """The content rules' detectors, made on first use."""
        return TextMatcher(self.config.rules, self.config.district)

    def version(self) -> str:
        """The version of the verdicts this evaluator gives (the judged-post cache's key),
        made without the text matcher: a run whose pages are all re-used never makes one."""
        return self._version

    @cached_property
    def _version(self) -> str:
        """:meth:`version`, made once."""
        return verdicts_version(self.config.rules, self.config.district)

    @cached_property
    def _run_inputs(self) -> str:
        """Digest of what every page's results depend on besides the page: the verdicts'
        version (package, text detectors, ``[rules]``, ``[district]``, classifier), the
        code of the package and of every installed rule, and the roster's files."""
        digest = hashlib.sha256(self.version().encode())
        sources = {Path(inspect.getfile(type(rule))) for rule in catalog.all_rules()}
        for package in ("auditor", "auditor.connectors"):
            sources |= set(Path(str(resources.files(package))).rglob("*.py"))
        for path in sorted(sources):
            digest.update(f"\n{path.name}\n".encode())
            digest.update(path.read_bytes())
        for plugin in sorted(_rule_distributions()):  # a plugin's helpers and data too
            digest.update(f"\nplugin {plugin}\n".encode())
        digest.update(self.config.district.model_dump_json().encode())
        roster = self.people.roster  # the roster the rules read, not the files read again
        digest.update(f"\nroster {roster.digest() if roster is not None else 'none'}".encode())
        return digest.hexdigest()

    def page_inputs(self, page: PageConfig, dismissals: tuple[Dismissal, ...]) -> str:
        """Digest of what ``page``'s results depend on besides its content and the clock:
        :attr:`_run_inputs`, the page's registration, waivers and dismissals. Equal digests
        and equal content give equal results until the clock says otherwise."""
        digest = hashlib.sha256(self._run_inputs.encode())
        digest.update(page.model_dump_json().encode())
        for waiver in self.config.waivers:
            if waiver.page == page.id:
                digest.update(waiver.model_dump_json().encode())
        for dismissal in dismissals:
            digest.update(repr(dismissal).encode())
        return digest.hexdigest()

    def evaluate(
        self,
        page: PageConfig,
        snapshot: PageSnapshot,
        known: Mapping[str, TextVerdict] | None,
        dismissals: tuple[Dismissal, ...],
        now: datetime,
    ) -> Evaluated:
        """Every enabled rule on ``snapshot`` with its posts' ``known`` verdicts and the
        page's ``dismissals``, waivers applied; and the verdicts judged now that hold no
        student information (those the judged-post cache may keep)."""
        district = self.config.district
        ctx = RuleContext(
            page=page,
            district=district,
            rules=self.config.rules,
            people=self.people,
            now=now,
            text=self.text,
            dismissals=dismissals,
            known=known,
        )
        results, computed, until = catalog.evaluate_page(snapshot, ctx)
        today = now.astimezone(district.tz).date()
        results = apply_waivers(page.id, results, self.config.waivers, today)
        waived = waivers_valid_until(page.id, self.config.waivers, now, district.tz)
        until = min((t for t in (until, waived) if t is not None), default=None)
        domains = district.student_email_domains
        return results, {h: v for h, v in computed.items() if storable(v, domains)}, until


def content_digest(snapshot: PageSnapshot) -> str:
    """Digest of everything in ``snapshot`` the rules read (all but when it was fetched):
    a page whose digest is unchanged has unchanged content."""
    text = snapshot.model_dump_json(exclude={"fetched_at"})
    return "snapshot:" + hashlib.sha256(text.encode()).hexdigest()


def fitted_digest(digest: str | None) -> str | None:
    """A connector's own content digest as stored (``page_inputs.content`` holds 80
    characters): as given when it fits, else its SHA-256."""
    if digest is None or len(digest) <= DIGEST_MAX:
        return digest
    return "long:" + hashlib.sha256(digest.encode()).hexdigest()


DIGEST_MAX = 80  # page_inputs.content's length

_evaluator: PageEvaluator | None = None  # a worker process's own


def watch_parent(every: float = 1.0) -> None:
    """Exit this worker process, from a thread of its own, once the process that started
    it is gone. A run killed outright (SIGKILL, the OOM killer) never stops its workers,
    which would wait on their task queue for ever: each night would leave one more."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start(config: Config, people: People, logs: Any, level: int) -> None:
    """A worker process's start: it leaves Ctrl-C and SIGTERM to the run (which stops it,
    marking the pages in flight interrupted) but ends with it, sends its log records to
    the run's handlers, and makes its evaluator."""
    global _evaluator
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watch_parent()
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(logs)]
    root.setLevel(level)
    _evaluator = PageEvaluator(config, people)


def _version() -> str:
    """The worker's verdict version, once its text matcher is made (so that the first page
    it is given does not wait for it)."""
    assert _evaluator is not None
    return _evaluator.text.version


def _evaluate(
    page: PageConfig,
    snapshot: PageSnapshot,
    known: Mapping[str, TextVerdict] | None,
    dismissals: tuple[Dismissal, ...],
    now: datetime,
) -> Evaluated:
    """:meth:`PageEvaluator.evaluate` in the worker."""
    assert _evaluator is not None
    return _evaluator.evaluate(page, snapshot, known, dismissals, now)


class WorkerPool:
    """Worker processes that evaluate pages (started with ``spawn``: the run's process has
    threads, which ``fork`` would copy mid-work). Their log records are handled by the
    run's own logging handlers."""

    def __init__(self, config: Config, people: People, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._logs = context.Queue()
        root = logging.getLogger()
        self._listener = logging.handlers.QueueListener(
            self._logs, *root.handlers, respect_handler_level=True
        )
        self._listener.start()
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_start,
            initargs=(config, people, self._logs, root.getEffectiveLevel()),
        )

    def version(self) -> Future[str]:
        """The workers' verdict version (the first call also starts a worker)."""
        return self._pool.submit(_version)

    def evaluate(
        self,
        page: PageConfig,
        snapshot: PageSnapshot,
        known: Mapping[str, TextVerdict] | None,
        dismissals: tuple[Dismissal, ...],
        now: datetime,
    ) -> Future[Evaluated]:
        """Queue one page's evaluation."""
        return self._pool.submit(_evaluate, page, snapshot, known, dismissals, now)

    def close(self) -> None:
        """Stop the workers (pages not started are dropped) and the log forwarding."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._listener.stop()
        self._logs.close()
        self._logs.join_thread()


def _rule_distributions() -> set[str]:
    """``name version`` of every distribution that installs rules (entry point group
    ``page_auditor.rules``): a plugin's upgrade changes its page's inputs even where its
    rule class's own file did not change."""
    # The points of one distribution share its object; its metadata is parsed once.
    dists = {id(p.dist): p.dist for p in entry_points(group=catalog.ENTRY_POINT_GROUP) if p.dist}
    return {f"{meta['Name']} {meta['Version']}" for meta in (d.metadata for d in dists.values())}
