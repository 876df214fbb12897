"""Escalation: each school named in ``[schools]`` with ``escalate_to`` receives a weekly
list of its pages' overdue items, with each item's supervisor and due date; schools with
nothing overdue receive nothing; sending goes through the delivery log (once per run)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from apscheduler.triggers.cron import CronTrigger
from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine

from auditor.config import Config, SchoolConfig
from auditor.email.escalation import escalation_mails, send_escalations
from auditor.errors import ConfigError
from auditor.loading import config_from_dict
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status
from auditor.scheduler import AuditScheduler

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
PRINCIPAL = "principal@district.org"


def fail(rule: str, severity: Severity) -> RuleResult:
    return RuleResult(rule=rule, status=Status.FAIL, severity=severity, message=f"{rule} fails")


def seeded(engine: Engine) -> int:
    """North High: page a fails a high rule since day 0 (overdue on day 5), b a low one (not
    due yet); South Middle: c fails a high rule since day 4 (not yet overdue)."""
    add_pages(
        engine,
        [
            PageSpec("a", "Alpha Club", school="North High", supervisor="boss@district.org"),
            PageSpec("b", "Beta Team", school="North High", supervisor="boss@district.org"),
            PageSpec("c", "Gamma Club", school="South Middle", supervisor="chief@district.org"),
        ],
        DAY0,
    )
    last = 0
    for i in range(6):
        outcomes = {
            "a": [fail("DS2.closed", Severity.HIGH)],
            "b": [fail("DS2.moderated", Severity.LOW)],
            "c": [fail("DS2.closed", Severity.HIGH)] if i >= 4 else [],
        }
        last = add_run(engine, DAY0 + timedelta(days=i), outcomes)
    return last


def config(**schools: SchoolConfig) -> Config:
    cfg = Config()
    cfg.email.from_ = "auditor@district.org"
    cfg.reports.base_url = "https://audit.district.org/report/"
    cfg.schools = dict(schools)
    return cfg


def test_each_school_with_overdue_items_gets_its_list(engine: Engine) -> None:
    view = load_run(engine, seeded(engine))
    cfg = config(
        **{
            "North High": SchoolConfig(escalate_to=[PRINCIPAL, "vp@district.org"]),
            "South Middle": SchoolConfig(escalate_to=["south@district.org"]),
        }
    )

    mails = escalation_mails(view, cfg)

    assert sorted(m.recipient for m in mails) == [PRINCIPAL, "vp@district.org"]  # not South
    mail = mails[0]
    assert mail.kind == "escalation"
    assert mail.subject == "[Page audit] North High: 1 overdue item on 1 page"
    assert "OVERDUE ITEMS AT NORTH HIGH" in mail.text
    assert "- Alpha Club: DS2.closed (high severity)" in mail.text  # no title: not seeded
    assert "Due by 2026-10-03, 3 days ago. Supervisor: boss@district.org." in mail.text
    assert "Beta Team" not in mail.text  # low severity: due in 30 days, not overdue
    assert "Details: https://audit.district.org/report/index.html#page-a" in mail.text
    assert "Alpha Club" in mail.html and "boss@district.org" in mail.html
    assert "Due by 2026-10-03, 3 days ago." in mail.html


def test_no_escalate_to_or_nothing_overdue_sends_nothing(engine: Engine) -> None:
    view = load_run(engine, seeded(engine))
    assert escalation_mails(view, config()) == []
    assert escalation_mails(view, config(**{"North High": SchoolConfig()})) == []
    only_south = config(**{"South Middle": SchoolConfig(escalate_to=["south@district.org"])})
    assert escalation_mails(view, only_south) == []


class Inbox:
    """An aiosmtpd handler keeping each message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        msg = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 2.0.0 accepted"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:  # a free port (aiosmtpd's Controller cannot take 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_sent_once_per_run_through_a_real_smtp_server(
    engine: Engine, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    run_id = seeded(engine)
    cfg = config(**{"North High": SchoolConfig(escalate_to=[PRINCIPAL])})
    cfg.email.smtp_host, cfg.email.smtp_port, cfg.email.starttls = "127.0.0.1", port, False

    first = send_escalations(engine, cfg, load_run(engine, run_id))
    again = send_escalations(engine, cfg, load_run(engine, run_id))

    assert [(o.recipient, o.status) for o in first] == [(PRINCIPAL, "sent")]
    assert [o.status for o in again] == ["skipped"]  # the delivery log: once per run
    [msg] = handler.messages
    assert msg["To"] == PRINCIPAL and "North High: 1 overdue item" in msg["Subject"]


def test_a_school_no_page_has_is_a_config_error(tmp_path: Path) -> None:
    data = {
        "connectors": [{"name": "files", "type": "file", "settings": {"path": "."}}],
        "pages": [
            {
                "id": "a",
                "name": "A",
                "connector": "files",
                "external_id": "a",
                "school": "North High",
                "owner": "o@district.org",
                "supervisor": "s@district.org",
            }
        ],
        "schools": {"Nort High": {"escalate_to": [PRINCIPAL]}},
    }
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, tmp_path / "config.toml")
    assert "schools.'Nort High': no registered page has this school" in str(caught.value)


def test_the_scheduler_sends_the_lists_weekly_only_when_someone_is_named(
    engine: Engine,
) -> None:
    named = config(**{"North High": SchoolConfig(escalate_to=[PRINCIPAL])})
    scheduler = AuditScheduler(named, engine)
    trigger = scheduler.escalation_trigger
    assert isinstance(trigger, CronTrigger)
    monday = trigger.get_next_fire_time(None, datetime(2026, 12, 3, tzinfo=UTC))
    assert monday is not None and monday.weekday() == 0 and monday.hour == 7  # Mondays 07:00

    assert AuditScheduler(config(), engine).escalation_trigger is None
    unsent = config(**{"North High": SchoolConfig(escalate_to=[PRINCIPAL])})
    unsent.email.from_ = None  # no sender: the mail jobs are off
    assert AuditScheduler(unsent, engine).escalation_trigger is None
