"""What earlier runs say about a run: since when each open result has been open, and
what each page's previous audit found. A fixed number of set-based queries per run, never
one per result, so re-rendering a 5,000-page run stays fast. Results are read through
``results_holder``: an audit whose results did not change shares its predecessor's rows."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Subquery, and_, func, select, true, union_all
from sqlalchemy.orm import Session, aliased

from auditor.db.models import PageAudit, Result, Run, results_holder
from auditor.results import Status

# Results whose "open since" date is tracked: those that need someone to act.
OPEN_STATUSES = (Status.FAIL.value, Status.WARN.value, Status.ERROR.value)
# Runs whose results stand as a page's latest state ("partial": some pages errored).
SETTLED_RUNS = ("complete", "incomplete")
HISTORY_RUNS = 12  # how many runs the trend chart and the rule history strips show

PairKey = tuple[str, str]  # (page id, rule id)
# Where the queries run: a Core connection (fastest: plain rows) or an ORM session.
Reader = Connection | Session


@dataclass(frozen=True)
class FirstSeen:
    """The first run of the unbroken streak in which a page+rule had its current status."""

    run_id: int
    started_at: datetime


@dataclass(frozen=True)
class EarlierResult:
    """A result from the page's previous audit (the baseline for "what changed")."""

    run_id: int
    status: str
    severity: str
    message: str


@dataclass(frozen=True)
class RunRef:
    """Id and start time of a run, for "compared with run N" lines."""

    id: int
    started_at: datetime


@dataclass(frozen=True)
class TrendPoint:
    """One run's totals for the trend chart: pages audited, pages with a failing result,
    and open results (fail, warn, error) by severity."""

    run: RunRef
    status: str
    pages: int
    failing_pages: int
    open_by_severity: dict[str, int] = field(default_factory=dict)

    @property
    def open_items(self) -> int:
        """Open results of every severity."""
        return sum(self.open_by_severity.values())


@dataclass(frozen=True)
class RuleHistory:
    """The last runs (oldest first) and, per page+rule, its status in each of them."""

    runs: list[RunRef]
    statuses: dict[PairKey, dict[int, str]]


def shown_audits(run_id: int, whole: bool = True, pages: Collection[str] | None = None) -> Subquery:
    """(page id, run id) of each page's audit that a report of ``run_id`` shows: the run's
    own audits and, when ``whole``, every other registered page's newest audit from an
    earlier complete or partial run (the whole picture); only those of ``pages`` (page ids)
    when given (a report reads its pages a batch at a time)."""
    own = select(PageAudit.page_id, PageAudit.run_id).where(PageAudit.run_id == run_id)
    if pages is not None:
        own = own.where(PageAudit.page_id.in_(pages))
    if not whole:
        return own.subquery("shown")
    in_run = select(PageAudit.page_id).where(PageAudit.run_id == run_id)
    if pages is not None:
        in_run = in_run.where(PageAudit.page_id.in_(pages))
    newest = (
        select(PageAudit.page_id, func.max(PageAudit.run_id).label("run_id"))
        .join(Run, Run.id == PageAudit.run_id)
        .where(
            PageAudit.run_id < run_id,
            Run.status.in_(SETTLED_RUNS),
            PageAudit.page_id.not_in(in_run),
        )
        .group_by(PageAudit.page_id)
    )
    if pages is not None:
        newest = newest.where(PageAudit.page_id.in_(pages))
    return union_all(own, newest).subquery("shown")


def first_seen(
    session: Reader, run_id: int, whole: bool = True, pages: Collection[str] | None = None
) -> dict[PairKey, FirstSeen]:
    """For each open result that a report of ``run_id`` shows (see :func:`shown_audits`,
    whose ``pages`` narrow it):
    the earliest run since which that page+rule has had that status in every audit of the
    page up to the one shown (runs where the page was not audited, or the rule gave no
    result, do not break the streak)."""
    shown = shown_audits(run_id, whole, pages)
    cur_audit, cur_result = aliased(PageAudit), aliased(Result)
    current = (
        select(
            cur_audit.page_id,
            cur_audit.run_id.label("at_run"),
            cur_result.rule_id,
            cur_result.status,
        )
        .join(
            shown,
            and_(shown.c.page_id == cur_audit.page_id, shown.c.run_id == cur_audit.run_id),
        )
        .join(cur_result, cur_result.page_audit_id == results_holder(cur_audit))
        .where(cur_result.status.in_(OPEN_STATUSES))
        .cte("current_open")
    )
    brk_audit, brk_result = aliased(PageAudit), aliased(Result)
    breaks = (
        select(
            current.c.page_id,
            current.c.rule_id,
            func.max(brk_audit.run_id).label("last_break"),
        )
        .join(
            brk_audit,
            and_(brk_audit.page_id == current.c.page_id, brk_audit.run_id < current.c.at_run),
        )
        .join(
            brk_result,
            and_(
                brk_result.page_audit_id == results_holder(brk_audit),
                brk_result.rule_id == current.c.rule_id,
                brk_result.status != current.c.status,
            ),
        )
        .group_by(current.c.page_id, current.c.rule_id)
        .cte("breaks")
    )
    run_audit, run_result = aliased(PageAudit), aliased(Result)
    streaks = (
        select(
            current.c.page_id,
            current.c.rule_id,
            func.min(run_audit.run_id).label("first_run"),
        )
        .join(
            run_audit,
            and_(run_audit.page_id == current.c.page_id, run_audit.run_id <= current.c.at_run),
        )
        .join(
            run_result,
            and_(
                run_result.page_audit_id == results_holder(run_audit),
                run_result.rule_id == current.c.rule_id,
                run_result.status == current.c.status,
            ),
        )
        .outerjoin(
            breaks,
            and_(breaks.c.page_id == current.c.page_id, breaks.c.rule_id == current.c.rule_id),
        )
        .where(run_audit.run_id > func.coalesce(breaks.c.last_break, 0))
        .group_by(current.c.page_id, current.c.rule_id)
        .subquery("streaks")
    )
    rows = session.execute(
        select(streaks.c.page_id, streaks.c.rule_id, streaks.c.first_run, Run.started_at).join(
            Run, Run.id == streaks.c.first_run
        )
    )
    return {(page, rule): FirstSeen(first, started) for page, rule, first, started in rows}


def previous_results(
    session: Reader,
    run_id: int,
    whole: bool = False,
    statuses: tuple[str, ...] = (),
    pages: Collection[str] | None = None,
) -> dict[str, dict[str, EarlierResult]]:
    """For each page of ``run_id`` (with ``whole``: each page a report of it shows, see
    :func:`shown_audits`; only those of ``pages`` when given) that was audited before: the
    results of its audit before the one shown, by rule. Pages never audited before are
    absent. With ``statuses``, only results of those statuses (and pages that had one)."""
    shown = shown_audits(run_id, whole, pages)
    previous = (
        select(PageAudit.page_id, func.max(PageAudit.run_id).label("prev_run"))
        .join(shown, shown.c.page_id == PageAudit.page_id)
        .where(PageAudit.run_id < shown.c.run_id, PageAudit.status == "audited")
        .group_by(PageAudit.page_id)
        .subquery("previous")
    )
    rows = session.execute(
        select(
            PageAudit.page_id,
            PageAudit.run_id,
            Result.rule_id,
            Result.status,
            Result.severity,
            Result.message,
        )
        .join(
            previous,
            and_(previous.c.page_id == PageAudit.page_id, previous.c.prev_run == PageAudit.run_id),
        )
        .join(Result, Result.page_audit_id == results_holder(PageAudit))
        .where(Result.status.in_(statuses) if statuses else true())
    )
    out: dict[str, dict[str, EarlierResult]] = {}
    for page, prev_run, rule, status, severity, message in rows:
        out.setdefault(page, {})[rule] = EarlierResult(prev_run, status, severity, message)
    return out


def previous_run(session: Reader, run_id: int) -> RunRef | None:
    """The newest finished run before ``run_id``, if any."""
    row = session.execute(
        select(Run.id, Run.started_at)
        .where(Run.id < run_id, Run.status != "running")
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    return RunRef(row[0], row[1]) if row else None


def recent_runs(session: Reader, run_id: int, limit: int = HISTORY_RUNS) -> list[RunRef]:
    """``run_id`` and the finished runs before it, at most ``limit``, oldest first."""
    rows = session.execute(
        select(Run.id, Run.started_at)
        .where(Run.id <= run_id, (Run.status != "running") | (Run.id == run_id))
        .order_by(Run.id.desc())
        .limit(limit)
    ).all()
    return [RunRef(i, started) for i, started in reversed(rows)]


def run_trend(session: Reader, runs: list[RunRef]) -> list[TrendPoint]:
    """Totals of each of ``runs`` for the trend chart (four grouped queries, whatever the
    number of pages)."""
    ids = [r.id for r in runs]
    pages = dict(
        session.execute(
            select(PageAudit.run_id, func.count(PageAudit.id))
            .where(PageAudit.run_id.in_(ids))
            .group_by(PageAudit.run_id)
        ).all()
    )
    failing = dict(
        session.execute(
            select(PageAudit.run_id, func.count(func.distinct(PageAudit.page_id)))
            .join(Result, Result.page_audit_id == results_holder(PageAudit))
            .where(PageAudit.run_id.in_(ids), Result.status == Status.FAIL.value)
            .group_by(PageAudit.run_id)
        ).all()
    )
    severities: dict[int, dict[str, int]] = {}
    for run, severity, n in session.execute(
        select(PageAudit.run_id, Result.severity, func.count(Result.id))
        .join(Result, Result.page_audit_id == results_holder(PageAudit))
        .where(PageAudit.run_id.in_(ids), Result.status.in_(OPEN_STATUSES))
        .group_by(PageAudit.run_id, Result.severity)
    ):
        severities.setdefault(run, {})[severity] = n
    statuses = dict(session.execute(select(Run.id, Run.status).where(Run.id.in_(ids))).all())
    return [
        TrendPoint(
            r, statuses[r.id], pages.get(r.id, 0), failing.get(r.id, 0), severities.get(r.id, {})
        )
        for r in runs
    ]


def rule_history(
    session: Reader,
    runs: list[RunRef],
    open_only: bool = False,
    pages: Collection[str] | None = None,
) -> RuleHistory:
    """Each page+rule's status in each of ``runs`` (one query; absent where the page was
    not audited or the rule gave no result), of ``pages`` (page ids) when given. With
    ``open_only``, only the page+rules that were open (fail, warn, error) in at least one
    of them: the ones a history strip shows."""
    ids = [r.id for r in runs]
    query = select(PageAudit.page_id, PageAudit.run_id, Result.rule_id, Result.status).where(
        PageAudit.run_id.in_(ids)
    )
    if pages is not None:
        query = query.where(PageAudit.page_id.in_(pages))
    if open_only:
        open_audit, open_result = aliased(PageAudit), aliased(Result)
        opened = select(open_audit.page_id, open_result.rule_id)
        if pages is not None:
            opened = opened.where(open_audit.page_id.in_(pages))
        pairs = (
            opened.join(open_result, open_result.page_audit_id == results_holder(open_audit))
            .where(open_audit.run_id.in_(ids), open_result.status.in_(OPEN_STATUSES))
            .distinct()
            .cte("open_pairs")
        )
        query = query.join(pairs, pairs.c.page_id == PageAudit.page_id).join(
            Result,
            and_(
                Result.page_audit_id == results_holder(PageAudit),
                Result.rule_id == pairs.c.rule_id,
            ),
        )
    else:
        query = query.join(Result, Result.page_audit_id == results_holder(PageAudit))
    statuses: dict[PairKey, dict[int, str]] = {}
    for page, run, rule, status in session.execute(query):
        statuses.setdefault((page, rule), {})[run] = status
    return RuleHistory(runs, statuses)
