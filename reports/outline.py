"""A run as its report reads it: one line per page (who, where its section is, and once its
results were read, their summary: what index.html, the counts, the charts and the digests'
headlines need), and the pages in full read a batch at a time, so the report's memory
holds the results of one batch of pages however large the run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row
from sqlalchemy.orm import Session

from auditor.errors import AuditorError
from auditor.reports.environment import plural
from auditor.reports.history import RunRef
from auditor.reports.view import (
    AGE_BUCKETS,
    HEAD_FIELDS,
    SEVERITIES,
    PageHead,
    PageLists,
    PageView,
    ResultView,
    RunView,
    Trend,
    audit_rows,
    head_of_row,
    no_cyclic_gc,
    page_order,
    read_pages,
    run_header,
)
from auditor.results import STATUS_ORDER, Severity, Status

LOAD_PAGES = 500  # pages read in full at a time (a few detail parts, or digests)
CHANGES_LISTED = 100  # new and resolved results named on the front page (the rest counted)
Reader = Callable[[list[str], bool], list[PageView]]  # page ids, changes: pages in full


class PageNotSummedError(RuntimeError):
    """A page line's summary was asked for before its page was read in full."""


@dataclass(slots=True)
class PageLine(PageHead):
    """One page of a run in brief: its registration and audit and, once its results were
    read (:meth:`RunTotals.add`), what the run's summary, pages table and digests need of
    them."""

    from_run: RunRef | None = None
    detail_file: str = "index.html"
    summed: bool = False  # the fields below are set
    worst: str = ""  # as PageView.worst
    worst_severity: str | None = None
    open: int = 0  # results needing attention
    overdue: int = 0  # of them, past their due day
    failing: int = 0
    finding_keys: tuple[str, ...] = ()
    oldest_open: datetime | None = None
    manual: tuple[ResultView, ...] = ()
    passing: str = ""  # :func:`passing_line`

    @property
    def needs_attention(self) -> bool:
        """The page could not be audited or has a result someone must act on."""
        self._check_summed()
        return self.status == "error" or self.open > 0

    @property
    def worst_rank(self) -> int:
        """Sort key of :attr:`worst` (0 is the most urgent)."""
        self._check_summed()
        return STATUS_ORDER[Status(self.worst)]

    def _check_summed(self) -> None:
        """Refuse to tell what a page's results say before they were read."""
        if not self.summed:
            raise PageNotSummedError(f"page {self.id}: its results are not summed up yet")


def line_of(page: PageView) -> PageLine:
    """A page in full, in brief (its results not summed up yet)."""
    head = {name: getattr(page, name) for name in HEAD_FIELDS}
    return PageLine(**head, from_run=page.from_run, detail_file=page.detail_file)


def _line_of_row(audit: Row[Any], sources: dict[int, RunRef]) -> PageLine:
    """A page in brief from its audit row (see ``view.audit_rows``)."""
    return PageLine(**head_of_row(audit), from_run=sources.get(audit.run_id))


def passing_line(page: PageView) -> str:
    """The page's passing rules on one line: how many, and their titles."""
    passed = [r for r in page.results if r.status == Status.PASS]
    if not passed:
        return ""
    titles = "; ".join(r.title or r.rule for r in passed)
    return f"{plural(len(passed), 'other rule')} pass: {titles}."


@dataclass
class Changes:
    """Results of one trend: how many, and the first ``CHANGES_LISTED`` (page, result)."""

    count: int = 0
    listed: list[tuple[PageLine, ResultView]] = field(default_factory=list)

    def __len__(self) -> int:
        return self.count

    def add(self, line: PageLine, result: ResultView) -> None:
        """Count one more, kept when among the first listed."""
        self.count += 1
        if len(self.listed) < CHANGES_LISTED:
            self.listed.append((line, result))


class RunTotals(PageLists[PageLine]):
    """What the whole run's summary needs, summed up a batch of pages at a time: the
    pages in brief, counts by status, rule, severity, school and age, the changes and the
    manual checks: what index.html and findings.json's summary show of the whole run."""

    def __init__(self, rule_order: Sequence[str]) -> None:
        self.rule_order = list(rule_order)
        self.summed: list[PageLine] = []
        self.statuses: Counter[str] = Counter()
        self.failing_by: dict[str, Counter[str]] = {"rule": Counter(), "severity": Counter()}
        self.trends = {trend: Changes() for trend in (Trend.NEW, Trend.RESOLVED, Trend.STILL)}
        self.matrix: dict[str, dict[str, Any]] = {}
        self.by_school: dict[str, Counter[str]] = {}
        self.by_age: list[tuple[str, Counter[str]]] = [
            (label, Counter()) for label, _ in AGE_BUCKETS
        ]
        self.checks: dict[tuple[str, str], tuple[ResultView, list[PageLine]]] = {}
        self.found: set[str] = set()
        self._texts: dict[str, str] = {}  # one copy of each passing line

    def add(self, pages: Sequence[PageView], lines: Sequence[PageLine]) -> None:
        """Sum up ``pages`` (in full, deadlines applied) into their ``lines``."""
        for page, line in zip(pages, lines, strict=True):
            self._sum_page(page, line)

    def _sum_page(self, page: PageView, line: PageLine) -> None:
        """One page's results into its line and the run's totals."""
        attention = page.attention
        text = passing_line(page)
        line.worst, line.worst_severity = page.worst, page.worst_severity
        line.open, line.failing = len(attention), len(page.failing)
        line.overdue = sum(r.overdue for r in attention)
        line.finding_keys = tuple(page.finding_keys)
        line.oldest_open = page.oldest_open
        line.manual = tuple(page.manual)
        line.passing = self._texts.setdefault(text, text)
        line.summed = True
        self.summed.append(line)
        for r in page.results:
            self.statuses[r.status] += 1
            self._sum_result(page, line, r)
        for r in attention:
            self.by_school.setdefault(page.school or "No school", Counter())[r.severity] += 1
            self.found.add(r.rule)
            days = r.days_open or 0
            index = max(i for i, (_, least) in enumerate(AGE_BUCKETS) if days >= least)
            self.by_age[index][1][r.severity] += 1
        for r in line.manual:
            self.checks.setdefault((r.rule, r.message), (r, []))[1].append(line)

    def _sum_result(self, page: PageView, line: PageLine, r: ResultView) -> None:
        """One result into the counts by rule and severity, the matrix and the changes."""
        if r.trend is not None and not page.carried:
            self.trends[r.trend].add(line, r)
        if r.status not in (Status.FAIL, Status.WARN):
            return
        row = self.matrix.setdefault(
            r.rule,
            {"rule": r.rule, "title": r.title, "warn": 0, "fail": 0, "new": 0}
            | {s: 0 for s in SEVERITIES},
        )
        if r.status == Status.WARN:
            row["warn"] += 1
            return
        self.failing_by["rule"][r.rule] += 1
        self.failing_by["severity"][r.severity] += 1
        row["fail"] += 1
        row[r.severity] += 1
        row["new"] += r.trend == Trend.NEW

    # The figures, named as RunView names them (findings.json's summary reads either).

    @property
    def pages(self) -> list[PageLine]:
        """Every page summed up so far, in the order added (the run's page order)."""
        return self.summed

    def changes(self, trend: str) -> Changes:
        """Results of this trend among the pages this run audited."""
        return self.trends[trend]

    def count_by(self, attr: str, status: str = Status.FAIL) -> Counter[str]:
        """Failing results counted by rule or severity."""
        if status != Status.FAIL:
            raise ValueError(f"only failing results are counted by {attr}, not {status}")
        return self.failing_by[attr]

    @property
    def status_counts(self) -> Counter[str]:
        return self.statuses

    def rule_matrix(self) -> list[dict[str, Any]]:
        """Per rule with failures or warnings: counts by severity, warnings and new ones."""
        rows = self.matrix.values()
        return sorted(rows, key=lambda row: (-row["fail"], -row["warn"], row["rule"]))

    def open_by_school(self) -> list[tuple[str, Counter[str]]]:
        """Open items per school by severity, most first (schools with none left out)."""
        return sorted(self.by_school.items(), key=lambda kv: (-kv[1].total(), kv[0].lower()))

    def open_by_age(self) -> list[tuple[str, Counter[str]]]:
        """Open items per age bucket by severity, youngest first."""
        return self.by_age

    def manual_checks(self) -> list[tuple[ResultView, list[PageLine]]]:
        """Each manual check once (by rule and message), with the pages it applies to."""
        return list(self.checks.values())

    @property
    def schools(self) -> list[str]:
        return sorted({p.school for p in self.summed}, key=str.lower)

    @property
    def rules_with_findings(self) -> list[str]:
        """Rule ids that need attention somewhere, in catalog order."""
        order = {rule_id: i for i, rule_id in enumerate(self.rule_order)}
        return sorted(self.found, key=lambda rule_id: (order.get(rule_id, len(order)), rule_id))


@dataclass
class RunOutline:
    """A run with its pages in brief (``lines``, in page order), each batch of them read in
    full by ``reader`` when it is written, and summed up into ``totals``."""

    view: RunView  # the run's own fields; its pages are not read (or are ``reader``'s)
    lines: list[PageLine]
    reader: Reader
    totals: RunTotals

    @property
    def id(self) -> int:
        return self.view.id

    def load(self, lines: Sequence[PageLine], changes: bool = True) -> list[PageView]:
        """The pages of ``lines`` in full, in their order, each with its line's section
        file and registration (the outline's: a page re-registered meanwhile, say under
        another supervisor, is shown as every other output of the report shows it);
        without their trends and rule history unless ``changes``."""
        found = {p.id: p for p in self.reader([line.id for line in lines], changes)}
        pages = []
        for line in lines:
            page = found.get(line.id)
            if page is None:
                raise AuditorError(
                    f"page {line.id} left the database while run {self.id}'s report was "
                    "written; write it again"
                )
            for name in HEAD_FIELDS:
                setattr(page, name, getattr(line, name))
            page.detail_file = line.detail_file
            pages.append(page)
        return pages

    def batches(
        self,
        lines: Sequence[PageLine] | None = None,
        size: int = LOAD_PAGES,
        changes: bool = True,
    ) -> Iterator[tuple[list[PageLine], list[PageView]]]:
        """``lines`` (default: every page) with their pages in full, ``size`` at a time
        (without trends and rule history unless ``changes``)."""
        lines = self.lines if lines is None else lines
        for start in range(0, len(lines), size):
            chunk = list(lines[start : start + size])
            yield chunk, self.load(chunk, changes)


def open_run(engine: Engine, run_id: int | None = None) -> RunOutline:
    """The run ``run_id`` (default: the newest) for its report: its own fields and one
    line per page it shows (two Core selects), its pages read in full a batch at a time
    later, their evidence left in the database (read a few pages at a time as each output
    needs it)."""
    with Session(engine) as session:
        view = run_header(session, engine, run_id, evidence=False)
        audits, sources = audit_rows(session.connection(), view.id)
        lines = sorted((_line_of_row(a, sources) for a in audits), key=page_order)
    del audits

    def read(ids: Collection[str], changes: bool) -> list[PageView]:
        with no_cyclic_gc(), Session(engine) as session:
            return read_pages(session, view, list(ids), changes)

    return RunOutline(view, lines, read, RunTotals(list(view.rules)))


def outline_of(view: RunView) -> RunOutline:
    """A run already read in full (every page's results in memory), as an outline whose
    batches are its own pages."""
    lines = [line_of(p) for p in view.pages]
    by_id = {p.id: p for p in view.pages}
    return RunOutline(
        view, lines, lambda ids, _: [by_id[i] for i in ids], RunTotals(list(view.rules))
    )


def severity_rank(line: PageLine) -> int:
    """Rank of the highest severity among the page's open results (0 when none)."""
    return Severity(line.worst_severity).rank if line.worst_severity else 0
