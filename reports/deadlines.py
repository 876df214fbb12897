"""Deadlines of failing results: each is due ``[remediation] due_days`` (by severity) after
the audit that first found it failing, and overdue once an audit starts after that day
ends (in the district's time zone). Computed on a loaded run, so every output agrees."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from auditor.config import RemediationConfig
from auditor.reports.view import PageView, ResultView, RunView
from auditor.results import Status


def due_day(first_seen: datetime, severity: str, config: RemediationConfig, tz: str) -> date:
    """The last day (district time) to fix a result of ``severity`` first seen then."""
    days = getattr(config.due_days, severity)
    return first_seen.astimezone(ZoneInfo(tz)).date() + timedelta(days=days)


def is_overdue(due: date, at: datetime, tz: str) -> bool:
    """Whether ``at`` falls after the end of the day ``due`` (district time)."""
    zone = ZoneInfo(tz)
    return at.astimezone(zone) >= datetime.combine(due + timedelta(days=1), time(), zone)


def apply_deadlines(view: RunView, config: RemediationConfig, tz: str) -> None:
    """Set ``due`` and ``overdue`` on every failing result of ``view`` (idempotent)."""
    set_deadlines(view.pages, view.started_at, config, tz)


def set_deadlines(
    pages: Iterable[PageView], run_started: datetime, config: RemediationConfig, tz: str
) -> None:
    """Set ``due`` and ``overdue`` on every failing result of ``pages``, of a run that
    started at ``run_started`` (idempotent; a report sets them a batch of pages at a time)."""
    for page in pages:
        for result in page.results:
            if result.status != Status.FAIL or result.first_seen is None:
                result.due, result.overdue = None, False
                continue
            result.due = due_day(result.first_seen, result.severity, config, tz)
            result.overdue = is_overdue(result.due, run_started, tz)


def overdue_items(view: RunView) -> list[tuple[PageView, ResultView]]:
    """(page, result) pairs past their due date, the longest overdue first."""
    found = [(p, r) for p in view.pages for r in p.results if r.overdue and r.due]
    return sorted(found, key=lambda pr: (pr[1].due, pr[0].name.lower(), pr[1].rule))
