"""The weekly overdue list of each school: every item of the school's pages past its due
date, sent to the school's ``escalate_to`` addresses ([schools]) so that someone above the
supervisor hears of what is left unfixed."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Engine

from auditor.config import Config
from auditor.email.compose import Outgoing, one_line
from auditor.email.deliver import DeliveryOutcome, Postman, RetryPolicy
from auditor.reports.deadlines import apply_deadlines, overdue_items
from auditor.reports.environment import join_url, plural, render_email
from auditor.reports.view import PageView, ResultView, RunView

ESCALATION = "escalation"


def escalation_mails(view: RunView, config: Config) -> list[Outgoing]:
    """One email per ``escalate_to`` address of each school that has overdue items."""
    tz = config.district.timezone
    apply_deadlines(view, config.remediation, tz)
    today = view.started_at.astimezone(config.district.tz).date()
    by_school: dict[str, list[tuple[PageView, ResultView]]] = defaultdict(list)
    for page, result in overdue_items(view):
        by_school[page.school].append((page, result))
    mails = []
    for school, settings in config.schools.items():
        items = by_school.get(school)
        if not settings.escalate_to or not items:
            continue
        pages = {page.id for page, _ in items}
        subject = one_line(
            f"[Page audit] {school}: {plural(len(items), 'overdue item')} on "
            f"{plural(len(pages), 'page')}"
        )
        context = {
            "run": view,
            "school": school,
            "subject": subject,
            "tz": tz,
            "items": [(page, result, (today - result.due).days) for page, result in items],
            "links": {p.id: join_url(config.reports.base_url, p.href) for p, _ in items},
            "report_url": join_url(config.reports.base_url, "index.html"),
        }
        text, html = render_email("email_escalation", context)
        mails.extend(Outgoing(ESCALATION, to, subject, text, html) for to in settings.escalate_to)
    return mails


def send_escalations(
    engine: Engine,
    config: Config,
    view: RunView,
    force: bool = False,
    policy: RetryPolicy | None = None,
) -> list[DeliveryOutcome]:
    """Send each school's overdue list, once per run and address unless ``force``."""
    with Postman(engine, config, view.id, force, policy) as postman:
        return postman.deliver(escalation_mails(view, config))
