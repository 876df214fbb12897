"""Urgent alerts: a result that newly fails (it did not fail in the page's previous audit)
with at least ``[email] urgent_min_severity`` is emailed to the page's owner and supervisor
right after the run, once (the delivery log keys it by run and recipient)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auditor.config import Config
from auditor.email.compose import Outgoing, one_line
from auditor.email.deliver import DeliveryOutcome, RetryPolicy, deliver
from auditor.reports.environment import join_url, render_email
from auditor.reports.evidence import evidence_lines
from auditor.reports.history import previous_results
from auditor.reports.outline import RunOutline
from auditor.reports.view import PageView, ResultView, RunView, load_run
from auditor.results import Severity, Status

log = logging.getLogger(__name__)

ALERT = "alert"
# Right after a run the process should not linger long on a mail server that is down.
AFTER_RUN_RETRY = RetryPolicy(attempts=3, first_wait_s=1.0, max_wait_s=4.0)
Finding = tuple[PageView, ResultView]


def urgent_findings(
    engine: Engine, view: RunView | RunOutline, min_severity: Severity
) -> list[Finding]:
    """Results of ``view`` (a run read in full, or its outline: then only its pages with a
    failing result are read, a batch at a time, without trends or history) that fail now,
    did not fail in the page's previous audit, and are at least ``min_severity``. A page's
    first audit has no baseline and alerts nobody (its failures reach the supervisor in
    the digest), so installing the auditor is not a flood."""
    found = []
    with Session(engine) as session:
        for pages, ids in _failing_batches(view):
            before = previous_results(session, view.id, pages=ids)
            for page in pages:
                if page.id not in before:
                    continue
                for result in page.failing:
                    earlier = before[page.id].get(result.rule)
                    newly = earlier is None or earlier.status != Status.FAIL
                    if newly and Severity(result.severity).rank >= min_severity.rank:
                        found.append((page, result))
    return found


def _failing_batches(
    view: RunView | RunOutline,
) -> Iterator[tuple[Sequence[PageView], Collection[str] | None]]:
    """The pages that may hold an urgent finding, a batch at a time, with their ids (None:
    every page of a run read in full). An outline's report has summed its pages up: those
    with no failing result are not read again."""
    if isinstance(view, RunView):
        yield view.pages, None
        return
    wanted = [line for line in view.lines if not line.summed or line.failing]
    for lines, pages in view.batches(wanted, changes=False):
        yield pages, [line.id for line in lines]


def alert_mails(view: RunView, config: Config, findings: Sequence[Finding]) -> list[Outgoing]:
    """One email per person (owner or supervisor) listing all of their urgent findings."""
    by_person: dict[str, list[Finding]] = {}
    for page, result in findings:
        for person in dict.fromkeys((page.owner, page.supervisor)):
            by_person.setdefault(person, []).append((page, result))
    return [_render(view, config, person, items) for person, items in by_person.items()]


def _render(view: RunView, config: Config, person: str, items: list[Finding]) -> Outgoing:
    """One person's alert (HTML and text from the ``email_alert`` templates)."""
    pages = list({page.id: page for page, _ in items}.values())
    if len(items) == 1:
        page, result = items[0]
        subject = one_line(f"Urgent: {page.name} — {result.title or result.rule}")
    else:
        subject = f"Urgent: {len(items)} new serious problems on {len(pages)} page(s)"
    context = {
        "run": view,
        "items": items,
        "pages": pages,
        "recipient": person,
        "subject": subject,
        "tz": config.district.timezone,
        "report_url": join_url(config.reports.base_url, "index.html"),
        "evidence": lambda r: evidence_lines(r.evidence, config.district.timezone),
    }
    text, html = render_email("email_alert", context)
    return Outgoing(ALERT, person, subject, text, html)


def send_urgent_alerts(
    engine: Engine,
    config: Config,
    run_id: int,
    policy: RetryPolicy | None = None,
    view: RunView | RunOutline | None = None,
) -> list[DeliveryOutcome]:
    """Email the urgent findings of ``run_id`` (from ``view`` when the caller already read
    it, else loaded here); a second call for the same run sends nothing."""
    source = view if view is not None and view.id == run_id else load_run(engine, run_id)
    findings = urgent_findings(engine, source, config.email.urgent_min_severity)
    run = source.view if isinstance(source, RunOutline) else source
    if not findings:
        return []
    with run.evidence_of({page.id: page for page, _ in findings}.values()):
        mails = alert_mails(run, config, findings)
    return deliver(engine, config, run.id, mails, policy=policy)


def alert_after_run(
    engine: Engine,
    config: Config,
    run_id: int,
    policy: RetryPolicy | None = None,
    view: RunView | RunOutline | None = None,
) -> list[DeliveryOutcome]:
    """The hook called after each run: never raises, so email cannot change a run's
    outcome. Does nothing when alerts are off or ``[email] from`` is not set. ``view``:
    the run as the report loaded it (shared, so the run is read once)."""
    if not config.email.urgent_alerts:
        return []
    if config.email.from_ is None:
        log.info("run %s: urgent alerts not sent: [email] from is not set", run_id)
        return []
    try:
        outcomes = send_urgent_alerts(engine, config, run_id, policy or AFTER_RUN_RETRY, view)
    except Exception as exc:  # the run is done and stored; email is best effort
        log.error("run %s: urgent alerts not sent: %s", run_id, exc)
        return []
    failed = [o for o in outcomes if o.status == "failed"]
    if outcomes:
        log.info(
            "run %s: urgent alerts: %d sent, %d failed, %d already sent",
            run_id,
            sum(o.status == "sent" for o in outcomes),
            len(failed),
            sum(o.status == "skipped" for o in outcomes),
        )
    return outcomes
