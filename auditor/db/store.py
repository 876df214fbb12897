"""Writes runs and results to the database, one page per transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, case, delete, func, select, text, update
from sqlalchemy.orm import Session

from auditor.config import Config
from auditor.db.models import (
    ActionPlan,
    DiscoveredGroup,
    Page,
    PageAudit,
    Result,
    Run,
    Waiver,
)
from auditor.results import RuleInfo, RuleResult
from auditor.snapshot import PageSnapshot


def now() -> datetime:
    return datetime.now(UTC)


def sync_registry(engine: Engine, config: Config) -> None:
    """Store the registered pages and waivers as configured now."""
    stamp = now()
    with Session(engine) as session:
        for page in config.pages:
            session.merge(
                Page(
                    id=page.id,
                    name=page.name,
                    connector=page.connector,
                    kind=page.kind,
                    school=page.school,
                    owner=page.owner,
                    supervisor=page.supervisor,
                    approved_by=page.approved_by,
                    approved_on=page.approved_on,
                    updated_at=stamp,
                )
            )
        session.execute(delete(Waiver))
        for w in config.waivers:
            session.add(
                Waiver(
                    page_id=w.page,
                    rule_id=w.rule,
                    reason=w.reason,
                    approved_by=w.approved_by,
                    expires=w.expires,
                )
            )
        session.commit()


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


def backfill_rules(engine: Engine, rules: Mapping[str, RuleInfo]) -> int:
    """Give runs recorded before runs kept their rule metadata (schema 0001) today's; the
    number of runs filled."""
    with Session(engine) as session:
        filled = session.execute(
            update(Run).where(Run.rules.is_(None)).values(rules=_rules_json(rules))
        ).rowcount
        session.commit()
    return filled


def _rules_json(rules: Mapping[str, RuleInfo]) -> dict[str, Any]:
    return {rule_id: info.model_dump(mode="json") for rule_id, info in rules.items()}


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
    with Session(engine) as session:
        audit = PageAudit(
            run_id=run_id,
            page_id=page_id,
            status="error" if error else "audited",
            error=error,
            platform=snapshot.platform if snapshot else None,
            page_name=(snapshot.name if snapshot and snapshot.name else page_name),
            url=snapshot.url if snapshot else None,
            source=snapshot.source if snapshot else None,
            started_at=started_at,
            finished_at=now(),
            requests=requests,
        )
        audit.results = [
            Result(
                rule_id=r.rule,
                status=r.status.value,
                severity=r.severity.value,
                message=r.message,
                evidence=[e.model_dump(mode="json", exclude_none=True) for e in r.evidence],
            )
            for r in results
        ]
        session.add(audit)
        session.commit()


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
    severity so that trends still count them; ``(runs, results)`` purged."""
    with Session(engine) as session:
        runs = list(
            session.scalars(
                select(Run.id).where(
                    Run.started_at < before, Run.purged_at.is_(None), Run.status != "running"
                )
            )
        )
        if not runs:
            return 0, 0
        audits = select(PageAudit.id).where(PageAudit.run_id.in_(runs)).scalar_subquery()
        count = (
            session.scalar(select(func.count(Result.id)).where(Result.page_audit_id.in_(audits)))
            or 0
        )
        if dry_run:
            return len(runs), count
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
        session.commit()
    return len(runs), count


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
