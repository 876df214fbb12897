"""What a run stored, read as the reports read it: each page's findings through the audit
holding them (itself, or the earlier audit its results were unchanged from)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from auditor.db.models import PageAudit, Result, results_holder

Finding = tuple[Any, ...]


def stored_findings(engine: Engine, run_id: int) -> dict[str, list[Finding]]:
    """Page id -> where it was read (platform, URL, source), its status and name, then
    each result (rule, status, severity, message, evidence), in stored order."""
    holder = aliased(PageAudit)
    found: dict[str, list[Finding]] = {}
    with Session(engine) as session:
        audits = session.execute(
            select(
                PageAudit.page_id,
                PageAudit.status,
                PageAudit.page_name,
                holder.platform,
                holder.url,
                holder.source,
            )
            .join(holder, holder.id == results_holder(PageAudit))
            .where(PageAudit.run_id == run_id)
        )
        for page_id, *where in audits:
            found[page_id] = [tuple(where)]
        rows = session.execute(
            select(
                PageAudit.page_id,
                Result.rule_id,
                Result.status,
                Result.severity,
                Result.message,
                Result.evidence,
            )
            .join(Result, Result.page_audit_id == results_holder(PageAudit))
            .where(PageAudit.run_id == run_id)
            .order_by(PageAudit.page_id, Result.id)
        )
        for page_id, *result in rows:
            found[page_id].append(tuple(result))
    return found
