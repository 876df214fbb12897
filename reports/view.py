"""Loads one run from the database into plain objects that every report renders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from auditor.db.models import PageAudit, Run
from auditor.policy import POLICY_NAME
from auditor.results import STATUS_ORDER, Severity, Status
from auditor.rules import catalog


class RunNotFoundError(LookupError):
    """No run with that id (or no run at all) in the database."""


@dataclass
class ResultView:
    """One rule's result on one page, with the rule's metadata for display."""

    rule: str
    status: str
    severity: str
    message: str
    evidence: list[dict[str, Any]]
    title: str = ""
    clause: str = ""
    clause_text: str = ""
    remediation: str = ""

    @property
    def needs_attention(self) -> bool:
        return self.status in (Status.FAIL, Status.WARN, Status.ERROR)


@dataclass
class PageView:
    """One page in a run."""

    id: str
    name: str
    school: str
    platform: str
    owner: str
    supervisor: str
    status: str  # audited | error
    error: str | None
    url: str | None
    source: str | None
    results: list[ResultView] = field(default_factory=list)

    @property
    def failing(self) -> list[ResultView]:
        return [r for r in self.results if r.status == Status.FAIL]

    @property
    def worst(self) -> str:
        """The most urgent status on the page (error if it could not be audited)."""
        if self.status == "error":
            return Status.ERROR.value
        if not self.results:
            return Status.PASS.value
        return min(self.results, key=lambda r: STATUS_ORDER[Status(r.status)]).status

    @property
    def worst_severity(self) -> str | None:
        fails = self.failing
        if not fails:
            return None
        return max(fails, key=lambda r: Severity(r.severity).rank).severity


@dataclass
class RunView:
    """A run and its pages, ready to render."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    district: str
    pages: list[PageView]
    policy: str = POLICY_NAME

    @property
    def audited(self) -> list[PageView]:
        return [p for p in self.pages if p.status == "audited"]

    @property
    def errored(self) -> list[PageView]:
        return [p for p in self.pages if p.status == "error"]

    @property
    def failing_pages(self) -> list[PageView]:
        return [p for p in self.pages if p.failing]

    def count_by(self, attr: str, status: str = Status.FAIL) -> Counter[str]:
        """Failing (or other status) results counted by rule or severity."""
        return Counter(
            getattr(r, attr) for p in self.pages for r in p.results if r.status == status
        )

    @property
    def status_counts(self) -> Counter[str]:
        return Counter(r.status for p in self.pages for r in p.results)


def load_run(engine: Engine, run_id: int | None = None) -> RunView:
    """The run ``run_id`` (default: the newest) with its pages and results."""
    with Session(engine) as session:
        if run_id is None:
            run_id = session.scalar(select(Run.id).order_by(Run.id.desc()).limit(1))
            if run_id is None:
                raise RunNotFoundError("the database holds no runs yet")
        run = session.get(
            Run,
            run_id,
            options=[
                selectinload(Run.audits).selectinload(PageAudit.results),
                selectinload(Run.audits).selectinload(PageAudit.page),
            ],
        )
        if run is None:
            raise RunNotFoundError(f"no run with id {run_id}")
        pages = [_page_view(audit) for audit in run.audits]
    pages.sort(key=lambda p: (p.school.lower(), p.name.lower(), p.id))
    return RunView(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        district=run.district,
        pages=pages,
    )


def _page_view(audit: PageAudit) -> PageView:
    page = audit.page
    results = [_result_view(r.rule_id, r, audit.platform or "") for r in audit.results]
    results.sort(key=lambda r: (STATUS_ORDER[Status(r.status)], -Severity(r.severity).rank))
    return PageView(
        id=page.id,
        name=audit.page_name or page.name,
        school=page.school,
        platform=audit.platform or page.connector,
        owner=page.owner,
        supervisor=page.supervisor,
        status=audit.status,
        error=audit.error,
        url=audit.url,
        source=audit.source,
        results=results,
    )


def _result_view(rule_id: str, row: Any, platform: str) -> ResultView:
    view = ResultView(
        rule=rule_id,
        status=row.status,
        severity=row.severity,
        message=row.message,
        evidence=list(row.evidence or []),
    )
    try:
        rule = catalog.get(rule_id)
    except KeyError:  # a rule removed since this run: show what was stored
        return view
    view.title = rule.title
    view.clause = rule.clause
    view.clause_text = rule.clause_text
    view.remediation = rule.remediation_for(platform)
    return view
