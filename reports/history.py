"""What earlier runs say about a run: since when each open result has been open, and
what each page's previous audit found. A fixed number of set-based queries per run, never
one per result, so re-rendering a 5,000-page run stays fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from auditor.db.models import PageAudit, Result, Run
from auditor.results import Status

# Results whose "open since" date is tracked: those that need someone to act.
OPEN_STATUSES = (Status.FAIL.value, Status.WARN.value, Status.ERROR.value)

PairKey = tuple[str, str]  # (page id, rule id)


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


def first_seen(session: Session, run_id: int) -> dict[PairKey, FirstSeen]:
    """For each open result of ``run_id``: the earliest run since which that page+rule has
    had that status in every audit of the page (runs where the page was not audited, or the
    rule gave no result, do not break the streak)."""
    cur_audit, cur_result = aliased(PageAudit), aliased(Result)
    current = (
        select(cur_audit.page_id, cur_result.rule_id, cur_result.status)
        .join(cur_result, cur_result.page_audit_id == cur_audit.id)
        .where(cur_audit.run_id == run_id, cur_result.status.in_(OPEN_STATUSES))
        .cte("current_open")
    )
    brk_audit, brk_result = aliased(PageAudit), aliased(Result)
    breaks = (
        select(
            current.c.page_id,
            current.c.rule_id,
            func.max(brk_audit.run_id).label("last_break"),
        )
        .join(brk_audit, and_(brk_audit.page_id == current.c.page_id, brk_audit.run_id < run_id))
        .join(
            brk_result,
            and_(
                brk_result.page_audit_id == brk_audit.id,
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
        .join(run_audit, and_(run_audit.page_id == current.c.page_id, run_audit.run_id <= run_id))
        .join(
            run_result,
            and_(
                run_result.page_audit_id == run_audit.id,
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


def previous_results(session: Session, run_id: int) -> dict[str, dict[str, EarlierResult]]:
    """For each page of ``run_id`` that was audited before: its previous audit's results
    by rule. Pages never audited before are absent."""
    in_run = select(PageAudit.page_id).where(PageAudit.run_id == run_id)
    previous = (
        select(PageAudit.page_id, func.max(PageAudit.run_id).label("prev_run"))
        .where(
            PageAudit.run_id < run_id,
            PageAudit.status == "audited",
            PageAudit.page_id.in_(in_run),
        )
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
        .join(Result, Result.page_audit_id == PageAudit.id)
    )
    out: dict[str, dict[str, EarlierResult]] = {}
    for page, prev_run, rule, status, severity, message in rows:
        out.setdefault(page, {})[rule] = EarlierResult(prev_run, status, severity, message)
    return out


def previous_run(session: Session, run_id: int) -> RunRef | None:
    """The newest finished run before ``run_id``, if any."""
    row = session.execute(
        select(Run.id, Run.started_at)
        .where(Run.id < run_id, Run.status != "running")
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    return RunRef(row[0], row[1]) if row else None
