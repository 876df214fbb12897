"""Supervisor digests and the IT summary of a run: what would be sent (preview) and the
delivery itself. The digests come from ``reports.digest``; the IT summary, which lists
pages that could not be audited and how each digest fared, is rendered here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditor.config import Config
from auditor.db.models import Run
from auditor.email.compose import Attachment, Outgoing, compose, one_line
from auditor.email.deliver import DeliveryOutcome, Postman, RetryPolicy
from auditor.errors import AuditorError
from auditor.reports.deadlines import apply_deadlines, overdue_items
from auditor.reports.digest import Digest, build_digests
from auditor.reports.environment import file_stem, join_url, render_email
from auditor.reports.files import make_folder, replace_file
from auditor.reports.findings_files import action_plan_csv
from auditor.reports.view import RunNotFoundError, RunView, load_run

DIGEST = "digest"
IT_SUMMARY = "it-summary"
FINISHED = ("complete", "incomplete")
TO_SEND = "to send"


@dataclass(frozen=True)
class DigestLine:
    """One supervisor's digest as the IT summary reports it."""

    recipient: str
    pages: int
    status: str
    error: str | None = None


def digest_run(engine: Engine, run_id: int | None) -> RunView:
    """The run to digest: ``run_id``, or the newest complete (or incomplete) run."""
    with Session(engine) as session:
        if run_id is None:
            run_id = session.scalar(
                select(Run.id).where(Run.status.in_(FINISHED)).order_by(Run.id.desc()).limit(1)
            )
            if run_id is None:
                raise AuditorError("no finished run to send digests for; run an audit first")
    try:
        view = load_run(engine, run_id)
    except RunNotFoundError as exc:
        raise AuditorError(str(exc)) from None
    if view.status == "running":
        raise AuditorError(f"run {run_id} is still running; send its digests when it ends")
    return view


def digest_mails(view: RunView, config: Config) -> tuple[list[Outgoing], dict[str, int]]:
    """Each supervisor's digest as an email, and how many pages each one covers."""
    digests = build_digests(view, config)
    mails = [
        Outgoing(DIGEST, d.recipient, d.subject, d.text, d.html, plan_attachment(view, d))
        for d in digests
    ]
    return mails, {d.recipient: len(d.page_ids) for d in digests}


def plan_attachment(view: RunView, digest: Digest) -> tuple[Attachment, ...]:
    """The supervisor's action plan as a CSV attachment, when they have items to plan."""
    wanted = set(digest.page_ids)
    pages = [p for p in view.pages if p.id in wanted]
    if not any(r.status != "error" for p in pages for r in p.attention):
        return ()
    name = f"action-plan-{file_stem(digest.recipient)}.csv"
    return (Attachment(name, action_plan_csv(pages, view.id)),)


def it_summary_mails(view: RunView, config: Config, lines: Sequence[DigestLine]) -> list[Outgoing]:
    """The IT summary, one email per ``[email] it_recipients`` address."""
    if not config.email.it_recipients:
        return []
    subject = one_line(
        f"[Page audit] {view.district}: run {view.id} {view.status} — "
        f"{len(view.failing_pages)} page(s) failing, {len(view.errored_now)} not audited"
    )
    apply_deadlines(view, config.remediation, config.district.timezone)
    context = {
        "run": view,
        "overdue": overdue_items(view),
        "digests": list(lines),
        "subject": subject,
        "tz": config.district.timezone,
        "report_url": join_url(config.reports.base_url, "index.html"),
    }
    text, html = render_email("email_it_summary", context)
    return [Outgoing(IT_SUMMARY, r, subject, text, html) for r in config.email.it_recipients]


def preview(view: RunView, config: Config) -> list[Outgoing]:
    """Every email ``digest --send`` would send for ``view``, nothing sent."""
    mails, pages = digest_mails(view, config)
    lines = [DigestLine(m.recipient, pages[m.recipient], TO_SEND) for m in mails]
    return [*mails, *it_summary_mails(view, config, lines)]


def send_digests(
    engine: Engine,
    config: Config,
    view: RunView,
    force: bool = False,
    policy: RetryPolicy | None = None,
) -> list[DeliveryOutcome]:
    """Send the digests, then the IT summary reporting how they fared; each email once per
    run unless ``force``."""
    mails, pages = digest_mails(view, config)
    with Postman(engine, config, view.id, force, policy) as postman:
        outcomes = postman.deliver(mails)
        lines = [DigestLine(o.recipient, pages[o.recipient], o.status, o.error) for o in outcomes]
        return outcomes + postman.deliver(it_summary_mails(view, config, lines))


def write_preview(mails: Sequence[Outgoing], config: Config, out_dir: Path) -> list[Path]:
    """Write each email ``digest`` would send as an ``.eml`` file (opens in any mail app):
    private files, each replacing (never writing through) what has its name, in a folder
    created 0700 when missing."""
    make_folder(out_dir)
    sender = config.email.from_ or "auditor@localhost"
    paths = []
    for mail in mails:
        path = out_dir / f"{mail.kind}-{file_stem(mail.recipient)}.eml"
        replace_file(path, bytes(compose(mail, sender)))
        paths.append(path)
    return paths
