"""Writes runs and results to the database: pages in batches (one transaction each), a
page whose results did not change stored as a pointer to the rows that hold them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from auditor.config import Config
from auditor.db import reuse, sync
from auditor.db.models import (
    ActionPlan,
    DiscoveredGroup,
    Page,
    PageAudit,
    ReportPiece,
    Result,
    Run,
    Waiver,
    results_holder,
)
from auditor.db.reuse import Inputs
from auditor.db.sync import StateWrite
from auditor.results import RuleInfo, RuleResult
from auditor.snapshot import PageSnapshot


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


_REGISTERED = ("name", "connector", "kind", "school", "owner", "supervisor")
_REGISTERED += ("approved_by", "approved_on")


def sync_registry(engine: Engine, config: Config) -> None:
    """Store the registered pages and waivers as configured now: one read of the stored
    pages, then only new and changed ones written (``updated_at``: when their
    registration was last written), in bulk."""
    stamp = now()
    table = Page.__table__
    with engine.begin() as conn:
        stored = {
            row[0]: tuple(row[1:])
            for row in conn.execute(select(table.c.id, *(table.c[c] for c in _REGISTERED)))
        }
        new, changed = [], []
        for page in config.pages:
            values = {c: getattr(page, c) for c in _REGISTERED}
            before = stored.get(page.id)
            if before is None:
                new.append({"id": page.id, **values, "updated_at": stamp})
            elif before != tuple(values.values()):
                changed.append({"page_id": page.id, **values, "updated_at": stamp})
        if new:
            conn.execute(insert(table), new)
        if changed:
            where = update(table).where(table.c.id == bindparam("page_id"))
            conn.execute(where, changed)
        conn.execute(delete(Waiver))
        waivers = [
            {
                "page_id": w.page,
                "rule_id": w.rule,
                "reason": w.reason,
                "approved_by": w.approved_by,
                "expires": w.expires,
            }
            for w in config.waivers
        ]
        if waivers:
            conn.execute(insert(Waiver.__table__), waivers)


def mark_interrupted(engine: Engine) -> list[int]:
    """Runs left ``running`` by a process that died; call only while holding the run lock."""
    with Session(engine) as session:
        ids = list(session.scalars(select(Run.id).where(Run.status == "running")))
        if ids:
            session.execute(update(Run).where(Run.id.in_(ids)).values(status="interrupted"))
            session.commit()
    return ids


def start_run(
    engine: Engine,
    config: Config,
    trigger: str,
    holder: str,
    total: int,
    rules: Mapping[str, RuleInfo],
) -> int:
    """Create the run row, with the metadata of the rules it uses, and return its id."""
    with Session(engine) as session:
        run = Run(
            started_at=now(),
            status="running",
            district=config.district.name,
            trigger=trigger,
            holder=holder.rsplit(":", 1)[0],
            pages_total=total,
            rules=_rules_json(rules),
        )
        session.add(run)
        session.commit()
        return run.id


def backfill_rules(engine: Engine, rules: Callable[[], Mapping[str, RuleInfo]]) -> int:
    """Give runs recorded before runs kept their rule metadata (schema 0001) today's, made
    by ``rules`` only when there is such a run; the number of runs filled."""
    with Session(engine) as session:
        if session.scalar(select(Run.id).where(Run.rules.is_(None)).limit(1)) is None:
            return 0
        filled = session.execute(
            update(Run).where(Run.rules.is_(None)).values(rules=_rules_json(rules()))
        ).rowcount
        session.commit()
    return filled


def _rules_json(rules: Mapping[str, RuleInfo]) -> dict[str, Any]:
    return {rule_id: info.model_dump(mode="json") for rule_id, info in rules.items()}


@dataclass(frozen=True)
class PageRecord:
    """One page's outcome as stored: audited with results, or error (with its message).
    Holds only what is stored of the snapshot (and the connector's new sync state, which
    may keep posts: the writer drops the record once committed)."""

    page_id: str
    page_name: str  # what the platform calls it, else the registered name
    started_at: datetime
    results: Sequence[RuleResult]
    error: str | None
    requests: int | None = None
    platform: str | None = None
    url: str | None = None
    source: str | None = None
    finished_at: datetime = field(default_factory=lambda: now())
    reuse_of: int | None = None  # not evaluated: the results held by this audit stand
    inputs: Inputs | None = None  # evaluated: what from (kept for re-use by later runs)
    sync: StateWrite | None = None  # the connector's new state, kept with the results

    @classmethod
    def of(
        cls,
        page_id: str,
        page_name: str,
        started_at: datetime,
        snapshot: PageSnapshot | None,
        results: Sequence[RuleResult],
        error: str | None,
        requests: int | None = None,
    ) -> PageRecord:
        """The record of a page audited from ``snapshot`` (None: it could not be fetched)."""
        if snapshot is None:
            return cls(page_id, page_name, started_at, results, error, requests)
        return cls(
            page_id,
            snapshot.name or page_name,
            started_at,
            results,
            error,
            requests,
            snapshot.platform,
            snapshot.url,
            snapshot.source,
        )


def results_hash(record: PageRecord, rows: Sequence[Mapping[str, Any]]) -> str:
    """Digest of what an audit shares when unchanged: where the page was read (platform,
    URL, source) and its result rows (rule, status, severity, message, evidence, in order)."""
    text_ = json.dumps(
        [
            [record.platform, record.url, record.source],
            *(
                [r["rule_id"], r["status"], r["severity"], r["message"], r["evidence"]]
                for r in rows
            ),
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text_.encode()).hexdigest()


def _result_rows(results: Sequence[RuleResult]) -> list[dict[str, Any]]:
    """The ``results`` rows of one page (evidence already masked by the rules)."""
    return [
        {
            "rule_id": r.rule,
            "status": r.status.value,
            "severity": r.severity.value,
            "message": r.message,
            "evidence": [e.model_dump(mode="json", exclude_none=True) for e in r.evidence],
        }
        for r in results
    ]


def _reusable_holders(conn: Connection, run_id: int, page_ids: list[str]) -> dict[str, tuple]:
    """Per page: (results hash, holder audit id) of its newest earlier audited audit whose
    results are still stored whole (the holder's run not purged)."""
    newest = (
        select(PageAudit.page_id, func.max(PageAudit.run_id).label("run_id"))
        .where(
            PageAudit.page_id.in_(page_ids),
            PageAudit.run_id < run_id,
            PageAudit.status == "audited",
        )
        .group_by(PageAudit.page_id)
        .subquery()
    )
    holder = aliased(PageAudit)
    rows = conn.execute(
        select(PageAudit.page_id, holder.results_hash, holder.id)
        .join(
            newest,
            and_(newest.c.page_id == PageAudit.page_id, newest.c.run_id == PageAudit.run_id),
        )
        .join(holder, holder.id == results_holder(PageAudit))
        .join(Run, Run.id == holder.run_id)
        .where(holder.results_hash.is_not(None), Run.purged_at.is_(None))
    )
    return {page: (digest, holder_id) for page, digest, holder_id in rows}


def record_pages(engine: Engine, run_id: int, records: Sequence[PageRecord]) -> None:
    """Commit several pages' outcomes in one transaction with bulk inserts. A page whose
    results equal its previous audit's, or that was not evaluated because its inputs were
    unchanged (``reuse_of``), stores no result rows: its ``same_as`` names the audit that
    holds them (storage grows with change, not with runs). An evaluated page's inputs, and
    each page's new sync state, are kept for later runs."""
    if not records:
        return
    with engine.begin() as conn:
        previous = _reusable_holders(conn, run_id, [r.page_id for r in records])
        audits, rows_of = [], []
        for rec in records:
            rows = _result_rows(rec.results)
            digest = results_hash(rec, rows) if rows and not rec.error else None
            before = previous.get(rec.page_id)
            same_as = before[1] if before and digest and before[0] == digest else None
            if rec.reuse_of is not None and not rec.error:
                digest, same_as = None, rec.reuse_of
            rows_of.append([] if same_as else rows)
            audits.append(
                {
                    "run_id": run_id,
                    "page_id": rec.page_id,
                    "status": "error" if rec.error else "audited",
                    "error": rec.error,
                    "platform": None if same_as else rec.platform,  # the holder's
                    "page_name": rec.page_name,
                    "url": None if same_as else rec.url,
                    "source": None if same_as else rec.source,
                    "started_at": rec.started_at,
                    "finished_at": rec.finished_at,
                    "requests": rec.requests,
                    "results_hash": None if same_as else digest,
                    "same_as": same_as,
                }
            )
        ids = _insert_audits(conn, audits)
        reuse.save(
            conn,
            [
                (rec.page_id, rec.inputs, audit["same_as"] or audit_id)
                for rec, audit, audit_id in zip(records, audits, ids, strict=True)
                if rec.inputs is not None and not rec.error
            ],
        )
        sync.save(conn, [(r.page_id, r.sync) for r in records if r.sync is not None], now())
        results = [
            row | {"page_audit_id": audit_id}
            for audit_id, rows in zip(ids, rows_of, strict=True)
            for row in rows
        ]
        if results:
            conn.execute(insert(_RESULTS), results)  # Core executemany, not the ORM's bulk


_AUDITS = PageAudit.__table__
_RESULTS = Result.__table__


def _insert_audits(conn: Connection, audits: list[dict[str, Any]]) -> list[int]:
    """Insert the audit rows; their ids, in the order given."""
    if conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        stmt = insert(_AUDITS).returning(_AUDITS.c.id, sort_by_parameter_order=True)
        return list(conn.scalars(stmt, audits))
    return [conn.execute(insert(_AUDITS), a).inserted_primary_key[0] for a in audits]


def record_page(
    engine: Engine,
    run_id: int,
    page_id: str,
    page_name: str,
    started_at: datetime,
    snapshot: PageSnapshot | None,
    results: list[RuleResult],
    error: str | None,
    requests: int | None = None,
) -> None:
    """Commit one page's outcome (audited with results, or error) in its own transaction,
    with the number of HTTP requests its fetch sent."""
    record = PageRecord.of(page_id, page_name, started_at, snapshot, results, error, requests)
    record_pages(engine, run_id, [record])


def finish_run(engine: Engine, run_id: int, status: str) -> None:
    """Mark the run complete, incomplete or interrupted, then refresh the planner's
    statistics: without them SQLite picks a slow plan for the history queries (2 s
    instead of 0.1 s at 2,000 pages)."""
    with Session(engine) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(status=status, finished_at=now())
        )
        session.commit()
    refresh_statistics(engine)


def refresh_statistics(engine: Engine) -> None:
    """``ANALYZE``: keeps the query planner's statistics current (milliseconds per run)."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


PURGED = "(removed under the retention policy)"


def purge(engine: Engine, before: datetime, dry_run: bool = False) -> tuple[int, int]:
    """Remove the evidence, messages, errors and links of every finished run that started
    before ``before`` (what may name students), keeping each result's rule, status and
    severity so that trends still count them, and the report pieces of every purged run
    (those a report saved while an earlier purge ran too); ``(runs, results)`` purged."""
    with Session(engine) as session:
        due = (
            select(Run.id)
            .where(Run.started_at < before, Run.purged_at.is_(None), Run.status != "running")
            .order_by(Run.id)
        )
        if not dry_run:
            # Locked first, in id order as a save of report pieces locks its runs (no
            # deadlock): a save under way commits before the pieces below are deleted.
            due = due.with_for_update(key_share=True)
        runs = list(session.scalars(due))
        if not runs:
            return 0, 0
        audits = select(PageAudit.id).where(PageAudit.run_id.in_(runs)).scalar_subquery()
        count = (
            session.scalar(
                select(func.count(Result.id))
                .join(PageAudit, Result.page_audit_id == results_holder(PageAudit))
                .where(PageAudit.run_id.in_(runs))
            )
            or 0
        )
        if dry_run:
            return len(runs), count
        _keep_shared_results(session, runs)
        session.execute(
            update(Result)
            .where(Result.page_audit_id.in_(audits))
            .values(evidence=[], message=PURGED)
        )
        session.execute(
            update(PageAudit)
            .where(PageAudit.run_id.in_(runs))
            .values(error=case((PageAudit.error.is_not(None), PURGED), else_=None), url=None)
        )
        session.execute(delete(DiscoveredGroup).where(DiscoveredGroup.run_id.in_(runs)))
        session.execute(update(Run).where(Run.id.in_(runs)).values(purged_at=now()))
        session.execute(
            delete(ReportPiece).where(
                ReportPiece.audit_id.in_(
                    select(PageAudit.id)
                    .join(Run, Run.id == PageAudit.run_id)
                    .where(Run.purged_at.is_not(None))
                )
            )
        )
        session.commit()
    return len(runs), count


def _keep_shared_results(session: Session, runs: list[int]) -> None:
    """Before the results of ``runs`` are purged: each later audit that shares them (its
    ``same_as`` names an audit of ``runs``) gets its own copy (with the page's platform,
    URL and source), in the earliest such audit, and the others point at that copy, so
    later runs keep their evidence."""
    shared = session.execute(
        select(PageAudit.same_as, func.min(PageAudit.id))
        .where(
            PageAudit.same_as.in_(select(PageAudit.id).where(PageAudit.run_id.in_(runs))),
            PageAudit.run_id.not_in(runs),
        )
        .group_by(PageAudit.same_as)
    ).all()
    columns = ("rule_id", "status", "severity", "message", "evidence")
    for old, new in shared:
        copied = select(
            literal(new).label("page_audit_id"), *(getattr(Result, c) for c in columns)
        ).where(Result.page_audit_id == old)
        session.execute(
            insert(Result).from_select(["page_audit_id", *columns], copied.order_by(Result.id))
        )
        held = session.execute(
            select(
                PageAudit.platform, PageAudit.url, PageAudit.source, PageAudit.results_hash
            ).where(PageAudit.id == old)
        ).one()
        session.execute(
            update(PageAudit).where(PageAudit.id == new).values(same_as=None, **held._asdict())
        )
        session.execute(
            update(PageAudit)
            .where(PageAudit.same_as == old, PageAudit.run_id.not_in(runs))
            .values(same_as=new)
        )


def save_plans(engine: Engine, plans: Iterable[Mapping[str, Any]], source: str) -> int:
    """Store imported action plans (``page_id``, ``rule_id``, ``planned_fix_on``,
    ``responsible``, ``note``), each replacing the plan its page and rule had; return how
    many were stored. One transaction: a failed import changes nothing."""
    stamp = now()
    count = 0
    with Session(engine) as session, session.begin():
        for plan in plans:
            session.execute(
                delete(ActionPlan).where(
                    ActionPlan.page_id == plan["page_id"], ActionPlan.rule_id == plan["rule_id"]
                )
            )
            session.add(ActionPlan(**plan, source=source, imported_at=stamp))
            count += 1
    return count


def plans_of(session: Session, page_ids: Iterable[str]) -> dict[tuple[str, str], ActionPlan]:
    """The stored plan of each (page, rule) among ``page_ids``, in one query."""
    rows = session.scalars(select(ActionPlan).where(ActionPlan.page_id.in_(list(page_ids))))
    return {(p.page_id, p.rule_id): p for p in rows}
