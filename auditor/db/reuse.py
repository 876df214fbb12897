"""Re-used results: what each page's last evaluated results were evaluated from (table
``page_inputs``), read a chunk of pages at a time as a run starts them and written with
the page's audit, so that a page provably unchanged since is recorded as unchanged
without being evaluated.

A page's stored inputs are usable only while its newest audit is the one they describe
(it holds, or points at, the results evaluated from them, in a run not purged): a page
that errored, was interrupted or was evaluated from other inputs since is evaluated again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.orm import aliased

from auditor.db.engine import dialect_insert
from auditor.db.models import PageAudit, PageInput, Result, Run, results_holder

_INPUTS = PageInput.__table__


@dataclass(frozen=True)
class Inputs:
    """What a page's results were evaluated from: its content's digest, the digest of
    everything else they depend on, until when the clock leaves them unchanged (None:
    it changes nothing) and when they were evaluated."""

    content: str
    context: str
    valid_until: datetime | None
    evaluated_at: datetime


@dataclass(frozen=True)
class Reusable:
    """A page's stored inputs, with what a run needs to record it unchanged: the audit
    holding its results, the name it was stored under and the rules it failed."""

    inputs: Inputs
    holder: int
    page_name: str
    failing: tuple[str, ...]


def load(engine: Engine, run_id: int, pages: Collection[str]) -> dict[str, Reusable]:
    """Each of ``pages`` whose stored inputs describe its newest audit before ``run_id``,
    by page id: two queries (a run reads its pages a chunk at a time)."""
    newest = (
        select(PageAudit.page_id, func.max(PageAudit.run_id).label("run_id"))
        .where(PageAudit.run_id < run_id, PageAudit.page_id.in_(pages))
        .group_by(PageAudit.page_id)
        .subquery()
    )
    holder = aliased(PageAudit)
    rows = select(
        PageInput.page_id,
        PageInput.content,
        PageInput.context,
        PageInput.valid_until,
        PageInput.evaluated_at,
        PageInput.audit_id,
        PageAudit.page_name,
    ).join_from(
        PageInput,
        newest,
        newest.c.page_id == PageInput.page_id,
    )
    rows = (
        rows.join(
            PageAudit,
            and_(PageAudit.page_id == newest.c.page_id, PageAudit.run_id == newest.c.run_id),
        )
        .join(holder, holder.id == PageInput.audit_id)
        .join(Run, Run.id == holder.run_id)
        .where(
            PageAudit.status == "audited",
            results_holder(PageAudit) == PageInput.audit_id,
            Run.purged_at.is_(None),
        )
    )
    failing = (
        select(PageInput.page_id, Result.rule_id)
        .join(Result, Result.page_audit_id == PageInput.audit_id)
        .where(PageInput.page_id.in_(pages))
    )
    with engine.connect() as conn:
        found = conn.execute(rows).all()
        fails: dict[str, list[str]] = {}
        for page_id, rule_id in conn.execute(failing.where(Result.status == "fail")):
            fails.setdefault(page_id, []).append(rule_id)
    return {
        page_id: Reusable(
            Inputs(content, context, valid_until, evaluated_at),
            audit_id,
            page_name,
            tuple(fails.get(page_id, ())),
        )
        for page_id, content, context, valid_until, evaluated_at, audit_id, page_name in found
    }


def save(conn: Connection, rows: Sequence[tuple[str, Inputs, int]]) -> None:
    """Keep each ``(page id, inputs, id of the audit holding its results)``, replacing
    what the page had: one executemany in the caller's transaction."""
    if not rows:
        return
    insert = dialect_insert(conn.dialect)
    statement = insert(_INPUTS)
    columns = ("content", "context", "valid_until", "audit_id", "evaluated_at")
    statement = statement.on_conflict_do_update(
        index_elements=[_INPUTS.c.page_id],
        set_={c: statement.excluded[c] for c in columns},
    )
    conn.execute(
        statement,
        [
            {
                "page_id": page_id,
                "content": inputs.content,
                "context": inputs.context,
                "valid_until": inputs.valid_until,
                "audit_id": audit_id,
                "evaluated_at": inputs.evaluated_at,
            }
            for page_id, inputs, audit_id in rows
        ],
    )
