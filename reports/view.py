"""Loads one run from the database (SQLAlchemy Core rows, results streamed) into plain
objects that every report renders: pages, results with rule metadata, first-seen dates
and trends, and unregistered groups found."""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any, Generic, NoReturn, TypeVar

from sqlalchemy import Connection, Engine, Row, Text, and_, cast, or_, select
from sqlalchemy.orm import Session, aliased

from auditor.db.models import DiscoveredGroup, Page, PageAudit, Result, Run, results_holder
from auditor.db.store import PURGED, plans_of
from auditor.errors import AuditorError
from auditor.policy import POLICY_NAME
from auditor.reports.history import (
    EarlierResult,
    FirstSeen,
    RuleHistory,
    RunRef,
    TrendPoint,
    first_seen,
    previous_results,
    recent_runs,
    rule_history,
    run_trend,
    shown_audits,
)
from auditor.reports.history import previous_run as find_previous_run
from auditor.results import STATUS_ORDER, RuleInfo, Severity, Status

ATTENTION = (Status.FAIL.value, Status.ERROR.value, Status.WARN.value)
SEVERITIES = ("high", "medium", "low")
# How long open items have been open: (label, fewest days), oldest bucket last.
AGE_BUCKETS = (
    ("under a week", 0),
    ("1–4 weeks", 7),
    ("1–3 months", 28),
    ("3 months or more", 90),
)


_STATUS_RANK = {status.value: rank for status, rank in STATUS_ORDER.items()}
_SEVERITY_RANK = {severity.value: severity.rank for severity in Severity}


class RunNotFoundError(LookupError):
    """No run with that id (or no run at all) in the database."""


class EvidenceNotLoadedError(RuntimeError):
    """Evidence was read outside ``RunView.evidence_of`` from a run loaded without it."""


class EvidenceGoneError(AuditorError):
    """Evidence a run's view was loaded to read later is no longer stored as it was (the
    retention purge ran while the report was written): the report is not written with
    findings that lost their evidence."""


class _NotLoaded:
    """The evidence of a result loaded without it: any use is an error, so that no output
    ever shows "no evidence" for evidence that was simply not read."""

    def _refuse(self, *args: object) -> NoReturn:
        raise EvidenceNotLoadedError(
            "evidence not loaded: read it within RunView.evidence_of (load_run evidence=False)"
        )

    __iter__ = __len__ = __bool__ = __getitem__ = _refuse


NOT_LOADED: Any = _NotLoaded()


class PagesNotReadError(RuntimeError):
    """The pages of a run whose header alone was read (a report reads them in batches)."""


class _PagesNotRead:
    """The pages of a run read without them: any use is an error, so that no total is
    ever worked out over pages that were not read."""

    def _refuse(self, *args: object) -> NoReturn:
        raise PagesNotReadError(
            "the run's pages are not read: read them in batches (reports.outline.RunOutline)"
        )

    __iter__ = __len__ = __bool__ = __getitem__ = _refuse


PAGES_NOT_READ: Any = _PagesNotRead()
EVIDENCE_BATCH = 200  # pages whose evidence is read (and held) at a time
_IDS_PER_SELECT = 500  # result ids in one select's IN list
EvidenceReader = Callable[[list[int]], Iterator[tuple[int, str | None]]]


def _evidence_reader(engine: Engine) -> EvidenceReader:
    """Reads the stored evidence (JSON text) of result rows by id (not of rows purged
    since the run was loaded: their evidence is gone)."""

    def read(ids: list[int]) -> Iterator[tuple[int, str | None]]:
        with engine.connect() as conn:
            for start in range(0, len(ids), _IDS_PER_SELECT):
                chunk = ids[start : start + _IDS_PER_SELECT]
                yield from conn.execute(
                    select(Result.id, cast(Result.evidence, Text)).where(
                        Result.id.in_(chunk),
                        or_(Result.message.is_(None), Result.message != PURGED),
                    )
                )

    return read


class Trend:
    """How a result compares with the page's previous audit (findings ``trend``)."""

    NEW = "new"  # failing now, not failing in the previous audit (or no previous audit)
    STILL = "still-failing"  # failing now and in the previous audit
    RESOLVED = "resolved"  # failing in the previous audit, not now


@dataclass(slots=True)  # 15 per page: no __dict__ each
class ResultView:
    """One rule's result on one page, with the rule's metadata and history for display."""

    rule: str
    status: str
    severity: str
    message: str
    evidence: list[dict[str, Any]]
    title: str = ""
    clause: str = ""
    clause_text: str = ""
    rationale: str = ""
    remediation: str = ""
    first_seen: datetime | None = None
    first_seen_run: int | None = None
    days_open: int | None = None
    trend: str | None = None
    due: date | None = None  # a failing result's fix-by day (reports.deadlines)
    overdue: bool = False  # the run started after the end of that day
    plan_fix_on: date | None = None  # the supervisor's imported action plan (auditor.plans)
    plan_by: str | None = None
    plan_note: str | None = None
    # The stored row whose evidence is NOT_LOADED (see load_run's ``evidence``).
    evidence_row: int | None = None

    @property
    def needs_attention(self) -> bool:
        """Fail, warn or error: someone has to act."""
        return self.status in ATTENTION


class Linked:
    """Where a page's section is, for a page in full or in brief (``reports.outline``)."""

    __slots__ = ()
    id: str
    detail_file: str
    from_run: RunRef | None

    @property
    def href(self) -> str:
        """Link to the page's section, relative to the report folder."""
        return f"{self.detail_file}#page-{self.id}"

    def href_from(self, file: str) -> str:
        """Link to the page's section from ``file`` (a bare anchor within the same file)."""
        return f"#page-{self.id}" if file == self.detail_file else self.href

    @property
    def carried(self) -> bool:
        """The run shown did not audit this page: its results are from ``from_run``."""
        return self.from_run is not None


@dataclass(slots=True)
class PageHead(Linked):
    """Who and where a page is, and how its audit went: what a page in full
    (:class:`PageView`) and in brief (``reports.outline.PageLine``) share."""

    id: str
    name: str
    school: str
    platform: str
    owner: str
    supervisor: str
    status: str  # audited | error
    error: str | None
    url: str | None
    platform_name: str | None = None  # what the platform calls it, when not the registered name


HEAD_FIELDS = tuple(f.name for f in fields(PageHead))


def head_of_row(audit: Row[Any]) -> dict[str, Any]:
    """The :class:`PageHead` of a page from its audit row joined with the page."""
    return {
        "id": audit.page_id,
        "name": audit.name,
        "school": audit.school,
        "platform": audit.platform or audit.connector,
        "owner": audit.owner,
        "supervisor": audit.supervisor,
        "status": audit.status,
        "error": audit.error,
        "url": audit.url,
        "platform_name": audit.page_name if audit.page_name != audit.name else None,
    }


@dataclass
class PageView(PageHead):
    """One page in a run."""

    source: str | None = None
    results: list[ResultView] = field(default_factory=list)
    detail_file: str = "index.html"  # the report file holding its section
    # The earlier run this page's results come from, when the run shown did not audit it.
    from_run: RunRef | None = None
    # Per rule: its status in each of the run's history runs (None: no result that run).
    history: dict[str, list[str | None]] = field(default_factory=dict)
    # The audit holding its results (its own, or the earlier one an unchanged audit names).
    holder: int | None = None

    @cached_property
    def failing(self) -> list[ResultView]:
        """Failing results (worked out once: a page's results do not change once loaded)."""
        return [r for r in self.results if r.status == Status.FAIL]

    @cached_property
    def attention(self) -> list[ResultView]:
        """Results someone must act on (fail, error, warn), most urgent first."""
        return [r for r in self.results if r.needs_attention]

    @cached_property
    def manual(self) -> list[ResultView]:
        """Results a person must check by hand."""
        return [r for r in self.results if r.status == Status.MANUAL]

    @cached_property
    def settled(self) -> list[ResultView]:
        """Results that need nothing now: pass, waived, not-applicable."""
        return [r for r in self.results if not r.needs_attention and r.status != Status.MANUAL]

    @property
    def resolved(self) -> list[ResultView]:
        return [r for r in self.results if r.trend == Trend.RESOLVED]

    @property
    def needs_attention(self) -> bool:
        """The page could not be audited or has a result someone must act on."""
        return self.status == "error" or bool(self.attention)

    @property
    def worst(self) -> str:
        """The page's status for lists: error if it could not be audited, else its most
        urgent fail/error/warn result, else pass (manual checks are listed separately)."""
        if self.status == "error":
            return Status.ERROR.value
        open_ = self.attention
        return open_[0].status if open_ else Status.PASS.value  # sorted most urgent first

    @property
    def worst_rank(self) -> int:
        """Sort key of :attr:`worst` (0 is the most urgent)."""
        return STATUS_ORDER[Status(self.worst)]

    @property
    def finding_keys(self) -> list[str]:
        """``rule|severity`` of each result needing attention (the table's filter data)."""
        return [f"{r.rule}|{r.severity}" for r in self.attention]

    @property
    def worst_severity(self) -> str | None:
        """Highest severity among results that need attention."""
        open_ = self.attention
        if not open_:
            return None
        return max(open_, key=lambda r: Severity(r.severity).rank).severity

    @property
    def oldest_open(self) -> datetime | None:
        """First-seen date of the longest-open result."""
        dates = [r.first_seen for r in self.attention if r.first_seen]
        return min(dates) if dates else None


@dataclass
class DiscoveredView:
    """A group a connector can see that no ``[[pages]]`` entry registers."""

    connector: str
    platform: str
    external_id: str
    name: str
    url: str | None
    found_at: datetime


P = TypeVar("P", bound="Linked")  # a page in full or in brief


class PageLists(Generic[P]):
    """A run's pages as its summary lists them, over its ``pages`` (in full, or in brief
    as the report sums them up: ``reports.outline.RunTotals``)."""

    pages: Sequence[P]

    @property
    def audited(self) -> list[P]:
        return [p for p in self.pages if p.status == "audited"]

    @property
    def in_run(self) -> list[P]:
        """Pages this run audited (or tried to)."""
        return [p for p in self.pages if not p.carried]

    @property
    def carried(self) -> list[P]:
        """Pages this run did not audit, shown with their newest earlier results."""
        return [p for p in self.pages if p.carried]

    @property
    def errored(self) -> list[P]:
        return [p for p in self.pages if p.status == "error"]

    @property
    def failing_pages(self) -> list[P]:
        return [p for p in self.pages if p.failing]


@dataclass
class RunView(PageLists[PageView]):
    """A run and its pages, ready to render."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    district: str
    pages: list[PageView]  # PAGES_NOT_READ when only its header was read (run_header)
    previous_run: RunRef | None = None
    discovered: list[DiscoveredView] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)  # as this run used them
    timezone: str = "UTC"
    policy: str = POLICY_NAME
    trend: list[TrendPoint] = field(default_factory=list)  # this run and those before it
    history_runs: list[RunRef] = field(default_factory=list)  # the columns of page.history
    # Reads stored evidence by result row id (set when the run was loaded without it).
    evidence_source: EvidenceReader | None = field(default=None, repr=False)
    # The database it was loaded from (its pages' stored report pieces: reports.pieces).
    database: Engine | None = field(default=None, repr=False)

    @contextmanager
    def evidence_of(self, pages: Iterable[PageView]) -> Iterator[None]:
        """Within the block, the results of ``pages`` hold their evidence; after it, the
        evidence read for the block is dropped again. A no-op for a run loaded with its
        evidence; evidence already read by an enclosing block is left to that block."""
        if self.evidence_source is None:
            yield
            return
        waiting = {
            r.evidence_row: r
            for p in pages
            for r in p.results
            if r.evidence_row is not None and r.evidence is NOT_LOADED
        }
        try:
            for row_id, stored in self.evidence_source(list(waiting)):
                waiting[row_id].evidence = json.loads(stored) if stored else []
            if any(r.evidence is NOT_LOADED for r in waiting.values()):
                raise EvidenceGoneError(
                    f"the evidence of run {self.id} was removed while its report was being "
                    "written (the retention purge ran at the same time); write the report "
                    "again"
                )
            yield
        finally:
            for r in waiting.values():
                r.evidence = NOT_LOADED

    def with_evidence(
        self, pages: Sequence[PageView], batch: int = EVIDENCE_BATCH
    ) -> Iterator[PageView]:
        """``pages`` one by one, each holding its evidence while it is the current one
        (read ``batch`` pages at a time, and dropped after its batch)."""
        for start in range(0, len(pages), batch):
            chunk = pages[start : start + batch]
            with self.evidence_of(chunk):
                yield from chunk

    @property
    def errored_now(self) -> list[PageView]:
        """Pages this run tried and could not audit (not older errors of pages it skipped)."""
        return [p for p in self.in_run if p.status == "error"]

    def count_by(self, attr: str, status: str = Status.FAIL) -> Counter[str]:
        """Results of one status (default fail) counted by rule or severity."""
        return Counter(
            getattr(r, attr) for p in self.pages for r in p.results if r.status == status
        )

    def changes(self, trend: str) -> list[tuple[PageView, ResultView]]:
        """(page, result) pairs with this trend, in page order, among the pages this run
        audited (a page shown from an earlier run did not change in this one)."""
        return [(p, r) for p in self.in_run for r in p.results if r.trend == trend]


LOAD_BATCH = 2000  # rows fetched at a time while streaming a run's results


def load_run(engine: Engine, run_id: int | None = None, evidence: bool = True) -> RunView:
    """The run ``run_id`` (default: the newest) with its pages, results and history, plus
    every other registered page with its newest result from an earlier complete or partial
    run (the whole picture: a ``--page`` run hides nothing). Rows are read with Core
    selects, results streamed, into plain view objects (no ORM objects).

    ``evidence`` False leaves each result's evidence in the database, to be read a few
    pages at a time with :meth:`RunView.evidence_of` (the report of a large run: its
    memory stays flat however many posts its pages quote). A report reads a large run a
    batch of pages at a time instead (``reports.outline.open_run``)."""
    with no_cyclic_gc(), Session(engine) as session:
        view = run_header(session, engine, run_id, evidence)
        pages = read_pages(session, view)
    pages.sort(key=page_order)
    view.pages = pages
    return view


def page_order(page: Any) -> tuple[str, str, str]:
    """Where a page (in full, or a line of ``reports.outline``) is listed: by school, then
    name (case-blind), then id."""
    return (page.school.lower(), page.name.lower(), page.id)


def run_header(session: Session, engine: Engine, run_id: int | None, evidence: bool) -> RunView:
    """The run ``run_id`` (default: the newest) without its pages (``pages`` not read: any
    use is an error): its own row, rules, trend and history runs, previous run and the
    groups discovered."""
    if run_id is None:
        run_id = session.scalar(select(Run.id).order_by(Run.id.desc()).limit(1))
        if run_id is None:
            raise RunNotFoundError("the database holds no runs yet")
    run = session.execute(
        select(Run.id, Run.started_at, Run.finished_at, Run.status, Run.district, Run.rules).where(
            Run.id == run_id
        )
    ).first()
    if run is None:
        raise RunNotFoundError(f"no run with id {run_id}")
    rules = {key: RuleInfo.model_validate(value) for key, value in (run.rules or {}).items()}
    conn = session.connection()  # Core rows from here: no ORM row processing
    runs = recent_runs(conn, run_id)
    discovered = [
        DiscoveredView(*row)
        for row in conn.execute(
            select(
                DiscoveredGroup.connector,
                DiscoveredGroup.platform,
                DiscoveredGroup.external_id,
                DiscoveredGroup.name,
                DiscoveredGroup.url,
                DiscoveredGroup.found_at,
            )
            .where(DiscoveredGroup.run_id == run_id)
            .order_by(DiscoveredGroup.platform, DiscoveredGroup.name)
        )
    ]
    return RunView(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        district=run.district,
        pages=PAGES_NOT_READ,
        previous_run=find_previous_run(conn, run_id),
        discovered=discovered,
        rules=rules,
        trend=run_trend(conn, runs),
        history_runs=runs,
        evidence_source=None if evidence else _evidence_reader(engine),
        database=engine,
    )


def read_pages(
    session: Session, view: RunView, pages: Collection[str] | None = None, changes: bool = True
) -> list[PageView]:
    """The pages of ``view``'s run (only ``pages``, by page id, when given), each with its
    results, first-seen dates, plans and, with ``changes``, trends and rule history (a
    digest shows neither): a fixed number of Core selects, narrowed to ``pages`` (a report
    reads a large run a batch at a time)."""
    conn = session.connection()
    evidence = view.evidence_source is None
    seen = first_seen(conn, view.id, pages=pages)
    before = (
        previous_results(conn, view.id, whole=True, statuses=(Status.FAIL.value,), pages=pages)
        if changes
        else {}
    )
    read = _load_pages(conn, view, seen, before, evidence, pages)
    del seen, before  # not needed past here: the next queries' rows take their place
    if changes:
        _add_history(read, rule_history(conn, view.history_runs, open_only=True, pages=pages))
    attach_plans(session, read)
    return read


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building the view: its objects all live
    on, and collections triggered by their allocation cost a third of a 5,000-page load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def audit_rows(
    conn: Connection, run_id: int, pages: Collection[str] | None = None
) -> tuple[list[Row[Any]], dict[int, RunRef]]:
    """The audits a report of ``run_id`` shows (see ``shown_audits``; of ``pages`` when
    given), joined with their pages and results holders, and the earlier runs some of them
    come from (by id)."""
    shown = shown_audits(run_id, pages=pages)
    holder = aliased(PageAudit)
    audits = conn.execute(
        select(
            PageAudit.id,
            PageAudit.run_id,
            PageAudit.status,
            PageAudit.error,
            holder.platform,  # an unchanged audit's are its holder's
            PageAudit.page_name,
            holder.url,
            holder.source,
            Page.id.label("page_id"),
            Page.name,
            Page.school,
            Page.connector,
            Page.owner,
            Page.supervisor,
            holder.id.label("holder"),
        )
        .join(shown, and_(shown.c.page_id == PageAudit.page_id, shown.c.run_id == PageAudit.run_id))
        .join(Page, Page.id == PageAudit.page_id)
        .join(holder, holder.id == results_holder(PageAudit))
    ).all()
    sources = {
        i: RunRef(i, started)
        for i, started in conn.execute(
            select(Run.id, Run.started_at).where(Run.id.in_({a.run_id for a in audits} - {run_id}))
        )
    }
    return audits, sources


def _load_pages(
    conn: Connection,
    view: RunView,
    seen: dict[tuple[str, str], FirstSeen],
    before: dict[str, dict[str, EarlierResult]],
    evidence: bool,
    pages: Collection[str] | None,
) -> list[PageView]:
    """The pages a report of ``view``'s run shows (see ``shown_audits``; of ``pages`` when
    given), each with its results (and their evidence, if ``evidence``): one select of the
    audits and one streamed select of their results."""
    shown = shown_audits(view.id, pages=pages)
    audits, sources = audit_rows(conn, view.id, pages)
    meta = RuleMeta(view.rules)
    shared: dict[tuple[str, ...], ResultView] = {}  # settled results, one object each
    audit_of = {audit.id: audit for audit in audits}
    results_of: dict[int, list[ResultView]] = {}
    rows = conn.execute(
        select(
            PageAudit.id.label("audit_id"),
            Result.id,
            Result.rule_id,
            Result.status,
            Result.severity,
            Result.message,
            cast(Result.evidence, Text).label("evidence"),  # decoded only when not empty
        )
        .join(shown, and_(shown.c.page_id == PageAudit.page_id, shown.c.run_id == PageAudit.run_id))
        .join(Result, Result.page_audit_id == results_holder(PageAudit))
        .order_by(PageAudit.id, Result.id)
        .execution_options(yield_per=LOAD_BATCH)
    )
    for row in rows:  # each row becomes a result at once: no batch of rows is kept
        audit = audit_of[row.audit_id]
        results_of.setdefault(row.audit_id, []).append(
            _result_view(row, audit, view.started_at, seen, before, meta, evidence, shared)
        )
    out = []
    for audit in audits:
        page = _page_view(audit, results_of.pop(audit.id, []))
        page.from_run = sources.get(audit.run_id)
        out.append(page)
    return out


def _add_history(pages: list[PageView], history: RuleHistory) -> None:
    """Fill each page's rule history: one status (or None) per run of ``history``, for
    the rules ``history`` holds (those open in one of its runs: the strips shown)."""
    for page in pages:
        for r in page.results:
            runs = history.statuses.get((page.id, r.rule))
            if runs is not None:
                page.history[r.rule] = [runs.get(ref.id) for ref in history.runs]


def _result_view(
    row: Row[Any],
    audit: Row[Any],
    run_started: datetime,
    seen: dict[tuple[str, str], FirstSeen],
    before: dict[str, dict[str, EarlierResult]],
    meta: RuleMeta,
    evidence: bool,
    shared: dict[tuple[str, ...], ResultView],
) -> ResultView:
    """One result's view from its row; with ``evidence`` False, evidence that is not empty
    is left in the database (``NOT_LOADED``, read by ``RunView.evidence_of``). A result
    that needs nothing now, with no evidence, history or trend (most passes), is one
    object shared by every page where it reads the same (``shared``): never changed
    in place (see :func:`attach_plans`)."""
    _, row_id, rule_id, status, severity, message, stored = row
    page_id = audit.page_id
    first = seen.get((page_id, rule_id))
    earlier = before.get(page_id)
    trend = _trend(status, earlier.get(rule_id) if earlier else None)
    empty = not stored or stored == "[]"
    key = (rule_id, status, severity, message, audit.platform or "")
    settled = empty and first is None and trend is None and status not in ATTENTION
    if settled and key in shared:
        return shared[key]
    deferred = not evidence and not empty
    intern = sys.intern  # one copy of each rule id, status, severity, and of most messages
    view = ResultView(
        intern(rule_id),
        intern(status),
        intern(severity),
        intern(message),
        NOT_LOADED if deferred else _evidence(stored),
        *meta.of(rule_id, audit.platform or ""),
        first_seen=first.started_at if first else None,
        first_seen_run=first.run_id if first else None,
        days_open=(run_started - first.started_at).days if first else None,
        trend=trend,
        evidence_row=row_id if deferred else None,
    )
    if settled:
        shared[key] = view
    return view


def _page_view(audit: Row[Any], results: list[ResultView]) -> PageView:
    """One page's view from its audit row (joined with the page) and its results."""
    results.sort(key=lambda r: (_STATUS_RANK[r.status], -_SEVERITY_RANK[r.severity]))
    return PageView(**head_of_row(audit), source=audit.source, results=results, holder=audit.holder)


def _trend(status: str, earlier: EarlierResult | None) -> str | None:
    """How ``status`` compares with the page's previous result of the same rule."""
    was_failing = earlier is not None and earlier.status == Status.FAIL
    if status == Status.FAIL:
        return Trend.STILL if was_failing else Trend.NEW
    return Trend.RESOLVED if was_failing else None


class RuleMeta:
    """Each rule's display text (title, clause, clause text, rationale, how to fix on a
    platform), as the run recorded it; worked out once per rule and platform."""

    def __init__(self, rules: dict[str, RuleInfo]) -> None:
        self.rules = rules
        self._done: dict[tuple[str, str], tuple[str, str, str, str, str]] = {}

    def of(self, rule_id: str, platform: str) -> tuple[str, str, str, str, str]:
        """The texts of ``rule_id`` on ``platform`` (empty for a rule the run recorded no
        metadata of: then the report shows what was stored)."""
        key = (rule_id, platform)
        if key not in self._done:
            rule = self.rules.get(rule_id)
            self._done[key] = (
                ("", "", "", "", "")
                if rule is None
                else (
                    rule.title,
                    rule.clause,
                    rule.clause_text,
                    rule.rationale,
                    rule.remediation_for(platform),
                )
            )
        return self._done[key]


def _shared_strings(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An evidence item with its keys and short values (kind, role, ...) interned: one
    copy each for the whole run rather than one per item (15% of a 5,000-page load)."""
    return {
        sys.intern(key): sys.intern(value) if isinstance(value, str) and len(value) <= 32 else value
        for key, value in pairs
    }


_EVIDENCE = json.JSONDecoder(object_pairs_hook=_shared_strings)


# The evidence of every result that has none: one immutable empty sequence, not an empty
# list each (most results have no evidence).
NO_EVIDENCE: Any = ()


def _evidence(stored: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A result's evidence from its stored JSON text (most results have none)."""
    if not stored or stored == "[]":
        return NO_EVIDENCE
    return list(_EVIDENCE.decode(stored)) if isinstance(stored, str) else list(stored)


def attach_plans(session: Session, pages: Iterable[PageView]) -> None:
    """Fill each result's plan fields from the stored plans of its page and rule (on a
    copy of a result shared between pages, see :func:`_result_view`)."""
    pages = list(pages)
    stored = plans_of(session, [p.id for p in pages])
    for page in pages:
        for i, result in enumerate(page.results):
            plan = stored.get((page.id, result.rule))
            if plan is not None:
                result = page.results[i] = replace(result)
                result.plan_fix_on = plan.planned_fix_on
                result.plan_by = plan.responsible
                result.plan_note = plan.note
