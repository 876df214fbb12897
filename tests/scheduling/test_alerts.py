"""Urgent alerts after ``auditor run``: a newly failing high-severity result reaches the
page's owner and supervisor once; email trouble never changes the run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.db.engine import make_engine
from auditor.db.models import Delivery, PageAudit, Run
from auditor.email import alerts
from auditor.email.alerts import send_urgent_alerts
from auditor.email.deliver import RetryPolicy
from auditor.errors import ExitCode
from auditor.loading import load_config

from .conftest import District, Mailbox, email_section, free_port, invoke

PUBLIC = {
    "visibility": "public",  # DS2.closed: high severity
    "join_policy": "invite",
    "post_moderation": "all",
    "invite_links": [],
}
UNMODERATED = PUBLIC | {"visibility": "secret", "post_moderation": "none"}  # DS2.moderated: medium


def run(district: District) -> int:
    code, _, err = invoke("run", "--config", str(district.config))
    assert code in (ExitCode.OK, ExitCode.FAILURES), err
    return code


def test_new_high_severity_failure_alerts_owner_and_supervisor_once(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    assert run(district) == ExitCode.OK
    assert smtp.messages == []

    district.set_page("robotics", settings=PUBLIC)
    assert run(district) == ExitCode.FAILURES

    assert sorted(m["To"] for m in smtp.messages) == ["ada@district.org", "rowner@district.org"]
    for msg in smtp.messages:
        assert msg["Subject"] == "Urgent: Robotics Club — Group is closed to non-members"
        text = msg.get_body(("plain",)).get_content()
        assert "high severity, Policy DS 2" in text and "Chess Club" not in text
        assert "  - Visibility: public" in text  # evidence in words, as the digest gives it
        assert msg.get_content_type() == "multipart/alternative"

    assert run(district) == ExitCode.FAILURES  # still failing: not new, no second alert
    assert len(smtp.messages) == 2
    config = load_config(district.config)
    engine = make_engine(config.database.url)
    with Session(engine) as session:
        second_run = session.scalars(select(Run.id).order_by(Run.id)).all()[1]
        rows = session.scalars(select(Delivery).where(Delivery.kind == "alert")).all()
    assert {(r.run_id, r.recipient, r.status) for r in rows} == {
        (second_run, "ada@district.org", "sent"),
        (second_run, "rowner@district.org", "sent"),
    }
    again = send_urgent_alerts(engine, config, second_run)
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert len(smtp.messages) == 2


def test_one_alert_per_person_covers_all_their_pages(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    run(district)
    district.set_page("robotics", settings=PUBLIC)
    district.set_page("chess", settings=PUBLIC)

    run(district)

    ada = [m for m in smtp.messages if m["To"] == "ada@district.org"]
    assert len(ada) == 1
    assert ada[0]["Subject"] == "Urgent: 2 new serious problems on 2 page(s)"
    text = ada[0].get_body(("plain",)).get_content()
    assert "== Robotics Club ==" in text and "== Chess Club ==" in text
    assert len(smtp.messages) == 3  # ada, and each page's owner


def test_first_audit_and_lower_severity_do_not_alert(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    district.set_page("robotics", settings=PUBLIC)
    assert run(district) == ExitCode.FAILURES  # first audit: no baseline, the digest tells

    district.set_page("chess", settings=UNMODERATED)
    assert run(district) == ExitCode.FAILURES

    assert smtp.messages == []


@pytest.mark.parametrize(
    ("keys", "alerted"),
    [({"urgent_min_severity": "medium"}, True), ({"urgent_alerts": False}, False)],
)
def test_threshold_and_switch(
    keys: dict, alerted: bool, smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port, **keys))
    run(district)
    district.set_page("chess", settings=UNMODERATED)
    run(district)
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == (["ada@district.org", "cowner@district.org"] if alerted else [])


def test_email_trouble_never_changes_the_run(
    make_district: Callable[..., District], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alerts, "AFTER_RUN_RETRY", RetryPolicy(attempts=2, first_wait_s=0.01))
    district = make_district(email_section(free_port()))  # nobody listens there
    run(district)
    district.set_page("robotics", settings=PUBLIC)

    code, out, err = invoke("run", "--config", str(district.config))

    assert code == ExitCode.FAILURES
    assert "Report:" in out
    assert "run 2: urgent alerts: 0 sent, 2 failed, 0 already sent" in err
    assert "failed after 2 attempt(s)" in err and "Connection refused" in err
    with Session(make_engine(district.db_url)) as session:
        runs = session.scalars(select(Run.status).order_by(Run.id)).all()
        audits = session.scalar(select(PageAudit.id).where(PageAudit.run_id == 2).limit(1))
        failed = session.scalars(select(Delivery.status).where(Delivery.kind == "alert")).all()
    assert runs == ["complete", "complete"] and audits is not None
    assert failed == ["failed", "failed"]  # recorded, so a later send can retry them


def test_without_a_sender_run_skips_alerts_quietly(make_district: Callable[..., District]) -> None:
    district = make_district()
    run(district)
    district.set_page("robotics", settings=PUBLIC)
    code, _, err = invoke("run", "--config", str(district.config))
    assert code == ExitCode.FAILURES
    assert "urgent alerts not sent: [email] from is not set" in err
