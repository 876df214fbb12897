"""Builds runs directly in a database with chosen dates and results, for the report tests
and the 5,000-page benchmark (bulk inserts: one transaction per run)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from auditor.db.models import DiscoveredGroup, Page, PageAudit, Result, Run
from auditor.results import RuleResult


@dataclass(frozen=True)
class PageSpec:
    """A registered page as the ``pages`` table holds it."""

    id: str
    name: str
    school: str = "Test High"
    owner: str = "owner@district.org"
    supervisor: str = "boss@district.org"
    connector: str = "files"
    kind: str = "club"


Outcome = list[RuleResult] | str  # results of an audited page, or the error of a failed one


def add_pages(engine: Engine, pages: Iterable[PageSpec], stamp: datetime) -> None:
    """Insert (or update) the registered pages."""
    with Session(engine) as session:
        for p in pages:
            session.merge(
                Page(
                    id=p.id,
                    name=p.name,
                    connector=p.connector,
                    kind=p.kind,
                    school=p.school,
                    owner=p.owner,
                    supervisor=p.supervisor,
                    approved_by=None,
                    approved_on=None,
                    updated_at=stamp,
                )
            )
        session.commit()


def add_run(
    engine: Engine,
    started_at: datetime,
    outcomes: Mapping[str, Outcome],
    platforms: Mapping[str, str] | None = None,
    urls: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    district: str = "Test District",
    discovered: Iterable[dict[str, str | None]] = (),
) -> int:
    """Insert a finished run with one audit per page in ``outcomes`` (bulk statements);
    return its id."""
    platforms, urls, names = platforms or {}, urls or {}, names or {}
    finished = started_at + timedelta(minutes=5)
    with Session(engine) as session:
        run = Run(
            started_at=started_at,
            finished_at=finished,
            status="incomplete"
            if any(isinstance(o, str) for o in outcomes.values())
            else "complete",
            district=district,
            trigger="test",
            holder="test",
            pages_total=len(outcomes),
        )
        session.add(run)
        session.flush()
        audits = session.execute(
            insert(PageAudit).returning(PageAudit.id, PageAudit.page_id),
            [
                {
                    "run_id": run.id,
                    "page_id": page_id,
                    "status": "error" if isinstance(outcome, str) else "audited",
                    "error": outcome if isinstance(outcome, str) else None,
                    "platform": None
                    if isinstance(outcome, str)
                    else platforms.get(page_id, "file"),
                    "page_name": names.get(page_id, f"Page {page_id}"),
                    "url": urls.get(page_id),
                    "source": None,
                    "started_at": started_at,
                    "finished_at": finished,
                }
                for page_id, outcome in outcomes.items()
            ],
        ).all()
        rows = [
            {
                "page_audit_id": audit_id,
                "rule_id": r.rule,
                "status": r.status.value,
                "severity": r.severity.value,
                "message": r.message,
                "evidence": [e.model_dump(exclude_none=True) for e in r.evidence],
            }
            for audit_id, page_id in audits
            if not isinstance(outcomes[page_id], str)
            for r in outcomes[page_id]
        ]
        if rows:
            session.execute(insert(Result), rows)
        for group in discovered:
            session.add(DiscoveredGroup(run_id=run.id, found_at=started_at, **group))
        session.commit()
        return run.id
