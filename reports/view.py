"""Loads one run from the database into plain objects that every report renders: pages,
results with rule metadata, first-seen dates and trends, and unregistered groups found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from auditor.db.models import DiscoveredGroup, PageAudit, Run
from auditor.plans import attach_plans
from auditor.policy import POLICY_NAME
from auditor.reports.history import EarlierResult, FirstSeen, RunRef, first_seen, previous_results
from auditor.reports.history import previous_run as find_previous_run
from auditor.results import STATUS_ORDER, RuleInfo, Severity, Status

ATTENTION = (Status.FAIL.value, Status.ERROR.value, Status.WARN.value)
SEVERITIES = ("high", "medium", "low")


class RunNotFoundError(LookupError):
    """No run with that id (or no run at all) in the database."""


class Trend:
    """How a result compares with the page's previous audit (findings ``trend``)."""

    NEW = "new"  # failing now, not failing in the previous audit (or no previous audit)
    STILL = "still-failing"  # failing now and in the previous audit
    RESOLVED = "resolved"  # failing in the previous audit, not now


@dataclass
class ResultView:
    """One rule's result on one page, with the rule's metadata and history for display."""

    rule: str
    status: str
    severity: str
    message: str
    evidence: list[dict[str, Any]]
    title: str = ""
    clause: str = ""
    clause_text: str = ""
    rationale: str = ""
    remediation: str = ""
    first_seen: datetime | None = None
    first_seen_run: int | None = None
    days_open: int | None = None
    trend: str | None = None
    due: date | None = None  # a failing result's fix-by day (reports.deadlines)
    overdue: bool = False  # the run started after the end of that day
    plan_fix_on: date | None = None  # the supervisor's imported action plan (auditor.plans)
    plan_by: str | None = None
    plan_note: str | None = None

    @property
    def needs_attention(self) -> bool:
        """Fail, warn or error: someone has to act."""
        return self.status in ATTENTION


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
    platform_name: str | None = None  # what the platform calls it, when not the registered name
    detail_file: str = "index.html"  # the report file holding its section

    @property
    def href(self) -> str:
        """Link to the page's section, relative to the report folder."""
        return f"{self.detail_file}#page-{self.id}"

    def href_from(self, file: str) -> str:
        """Link to the page's section from ``file`` (a bare anchor within the same file)."""
        return f"#page-{self.id}" if file == self.detail_file else self.href

    @property
    def failing(self) -> list[ResultView]:
        return [r for r in self.results if r.status == Status.FAIL]

    @property
    def attention(self) -> list[ResultView]:
        """Results someone must act on (fail, error, warn), most urgent first."""
        return [r for r in self.results if r.needs_attention]

    @property
    def manual(self) -> list[ResultView]:
        return [r for r in self.results if r.status == Status.MANUAL]

    @property
    def settled(self) -> list[ResultView]:
        """Results that need nothing now: pass, waived, not-applicable."""
        return [r for r in self.results if not r.needs_attention and r.status != Status.MANUAL]

    @property
    def resolved(self) -> list[ResultView]:
        return [r for r in self.results if r.trend == Trend.RESOLVED]

    @property
    def needs_attention(self) -> bool:
        """The page could not be audited or has a result someone must act on."""
        return self.status == "error" or bool(self.attention)

    @property
    def worst(self) -> str:
        """The page's status for lists: error if it could not be audited, else its most
        urgent fail/error/warn result, else pass (manual checks are listed separately)."""
        if self.status == "error":
            return Status.ERROR.value
        open_ = self.attention
        return open_[0].status if open_ else Status.PASS.value  # sorted most urgent first

    @property
    def worst_rank(self) -> int:
        """Sort key of :attr:`worst` (0 is the most urgent)."""
        return STATUS_ORDER[Status(self.worst)]

    @property
    def finding_keys(self) -> list[str]:
        """``rule|severity`` of each result needing attention (the table's filter data)."""
        return [f"{r.rule}|{r.severity}" for r in self.attention]

    @property
    def worst_severity(self) -> str | None:
        """Highest severity among results that need attention."""
        open_ = self.attention
        if not open_:
            return None
        return max(open_, key=lambda r: Severity(r.severity).rank).severity

    @property
    def oldest_open(self) -> datetime | None:
        """First-seen date of the longest-open result."""
        dates = [r.first_seen for r in self.attention if r.first_seen]
        return min(dates) if dates else None


@dataclass
class DiscoveredView:
    """A group a connector can see that no ``[[pages]]`` entry registers."""

    connector: str
    platform: str
    external_id: str
    name: str
    url: str | None
    found_at: datetime


@dataclass
class RunView:
    """A run and its pages, ready to render."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    district: str
    pages: list[PageView]
    previous_run: RunRef | None = None
    discovered: list[DiscoveredView] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)  # as this run used them
    timezone: str = "UTC"
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

    @property
    def attention_pages(self) -> list[PageView]:
        return [p for p in self.pages if p.needs_attention]

    def count_by(self, attr: str, status: str = Status.FAIL) -> Counter[str]:
        """Results of one status (default fail) counted by rule or severity."""
        return Counter(
            getattr(r, attr) for p in self.pages for r in p.results if r.status == status
        )

    def rule_matrix(self) -> list[dict[str, Any]]:
        """Per rule with failures or warnings: counts by severity, warnings and new ones."""
        rows: dict[str, dict[str, Any]] = {}
        for p in self.pages:
            for r in p.results:
                if r.status not in (Status.FAIL, Status.WARN):
                    continue
                row = rows.setdefault(
                    r.rule,
                    {"rule": r.rule, "title": r.title, "warn": 0, "fail": 0, "new": 0}
                    | {s: 0 for s in SEVERITIES},
                )
                if r.status == Status.WARN:
                    row["warn"] += 1
                    continue
                row["fail"] += 1
                row[r.severity] += 1
                row["new"] += r.trend == Trend.NEW
        return sorted(rows.values(), key=lambda row: (-row["fail"], -row["warn"], row["rule"]))

    def changes(self, trend: str) -> list[tuple[PageView, ResultView]]:
        """(page, result) pairs with this trend, in page order."""
        return [(p, r) for p in self.pages for r in p.results if r.trend == trend]

    @property
    def status_counts(self) -> Counter[str]:
        return Counter(r.status for p in self.pages for r in p.results)

    @property
    def schools(self) -> list[str]:
        return sorted({p.school for p in self.pages}, key=str.lower)

    @property
    def rules_with_findings(self) -> list[str]:
        """Rule ids that need attention somewhere, in catalog order."""
        found = {r.rule for p in self.pages for r in p.attention}
        order = {rule_id: i for i, rule_id in enumerate(self.rules)}
        return sorted(found, key=lambda rule_id: (order.get(rule_id, len(order)), rule_id))


def load_run(engine: Engine, run_id: int | None = None) -> RunView:
    """The run ``run_id`` (default: the newest) with its pages, results and history."""
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
        seen = first_seen(session, run_id)
        before = previous_results(session, run_id)
        rules = {key: RuleInfo.model_validate(value) for key, value in (run.rules or {}).items()}
        pages = [_page_view(audit, run.started_at, seen, before, rules) for audit in run.audits]
        attach_plans(session, pages)
        discovered = [
            DiscoveredView(g.connector, g.platform, g.external_id, g.name, g.url, g.found_at)
            for g in session.scalars(
                select(DiscoveredGroup)
                .where(DiscoveredGroup.run_id == run_id)
                .order_by(DiscoveredGroup.platform, DiscoveredGroup.name)
            )
        ]
        previous = find_previous_run(session, run_id)
    pages.sort(key=lambda p: (p.school.lower(), p.name.lower(), p.id))
    return RunView(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        district=run.district,
        pages=pages,
        previous_run=previous,
        discovered=discovered,
        rules=rules,
    )


def _page_view(
    audit: PageAudit,
    run_started: datetime,
    seen: dict[tuple[str, str], FirstSeen],
    before: dict[str, dict[str, EarlierResult]],
    rules: dict[str, RuleInfo],
) -> PageView:
    page = audit.page
    platform = audit.platform or ""
    earlier = before.get(page.id, {})
    results = []
    for row in audit.results:
        view = _result_view(row, platform, rules.get(row.rule_id))
        first = seen.get((page.id, row.rule_id))
        if first is not None:
            view.first_seen, view.first_seen_run = first.started_at, first.run_id
            view.days_open = (run_started - first.started_at).days
        view.trend = _trend(view.status, earlier.get(row.rule_id))
        results.append(view)
    results.sort(key=lambda r: (STATUS_ORDER[Status(r.status)], -Severity(r.severity).rank))
    return PageView(
        id=page.id,
        name=page.name,
        platform_name=audit.page_name if audit.page_name != page.name else None,
        school=page.school,
        platform=platform or page.connector,
        owner=page.owner,
        supervisor=page.supervisor,
        status=audit.status,
        error=audit.error,
        url=audit.url,
        source=audit.source,
        results=results,
    )


def _trend(status: str, earlier: EarlierResult | None) -> str | None:
    was_failing = earlier is not None and earlier.status == Status.FAIL
    if status == Status.FAIL:
        return Trend.STILL if was_failing else Trend.NEW
    return Trend.RESOLVED if was_failing else None


def _result_view(row: Any, platform: str, rule: RuleInfo | None) -> ResultView:
    view = ResultView(
        rule=row.rule_id,
        status=row.status,
        severity=row.severity,
        message=row.message,
        evidence=list(row.evidence or []),
    )
    if rule is None:  # a rule the run recorded no metadata of: show what was stored
        return view
    view.title = rule.title
    view.clause = rule.clause
    view.clause_text = rule.clause_text
    view.rationale = rule.rationale
    view.remediation = rule.remediation_for(platform)
    return view
