"""People's word on post findings (table ``post_feedback``): stored, listed, removed, and
the evidence of a run's finding they are recorded against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from auditor.db.models import PageAudit, PostFeedback, Result, Run, results_holder

DISMISSED = "dismissed"
CONFIRMED = "confirmed"


def run_exists(engine: Engine, run_id: int) -> bool:
    """Whether a run with this id is stored."""
    with Session(engine) as session:
        return session.get(Run, run_id) is not None


def finding_evidence(
    engine: Engine, run_id: int, page_id: str, rule_id: str
) -> tuple[str, list[dict[str, Any]]] | None:
    """``(status, evidence)`` of ``rule_id``'s result on ``page_id`` in ``run_id`` (read
    through the audit holding it when the run's were unchanged), or None when that run
    has no such result."""
    with Session(engine) as session:
        row = session.execute(
            select(Result.status, Result.evidence)
            .join(PageAudit, Result.page_audit_id == results_holder(PageAudit))
            .where(
                PageAudit.run_id == run_id,
                PageAudit.page_id == page_id,
                Result.rule_id == rule_id,
            )
        ).first()
    return (row[0], list(row[1] or [])) if row else None


def record(engine: Engine, rows: Iterable[Mapping[str, Any]], keep_dismissals: bool = False) -> int:
    """Store feedback rows (the columns of :class:`PostFeedback` but ``id``), each replacing
    what was said before about its page, rule and post (with ``keep_dismissals``, a
    confirmation never replaces a dismissal: an old action plan imported again does not
    undo IT's word); how many were stored. One transaction."""
    count = 0
    with Session(engine) as session, session.begin():
        for row in rows:
            same = (
                PostFeedback.page_id == row["page_id"],
                PostFeedback.rule_id == row["rule_id"],
                PostFeedback.post_id == row["post_id"],
            )
            if keep_dismissals and row["decision"] == CONFIRMED:
                before = session.scalar(select(PostFeedback.decision).where(*same))
                if before == DISMISSED:
                    continue
            session.execute(delete(PostFeedback).where(*same))
            session.flush()
            session.add(PostFeedback(**row))
            count += 1
    return count


def remove(engine: Engine, page_id: str, rule_id: str, post_id: str) -> bool:
    """Forget what was said about one page's post for one rule; whether there was any."""
    with Session(engine) as session, session.begin():
        gone = session.execute(
            delete(PostFeedback).where(
                PostFeedback.page_id == page_id,
                PostFeedback.rule_id == rule_id,
                PostFeedback.post_id == post_id,
            )
        )
    return bool(gone.rowcount)


def all_feedback(engine: Engine, decision: str | None = None) -> list[PostFeedback]:
    """Every feedback row (of one ``decision``, if given), oldest first."""
    query = select(PostFeedback).order_by(PostFeedback.decided_at, PostFeedback.id)
    if decision is not None:
        query = query.where(PostFeedback.decision == decision)
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(query))
