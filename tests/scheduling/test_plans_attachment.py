"""Each supervisor's digest email carries their action plan as a CSV attachment (through a
real loopback SMTP server): one row per open item of their pages only, with its due date
and empty columns to plan the fix; a supervisor with nothing to plan gets no attachment."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from auditor.errors import ExitCode

from .conftest import District, Mailbox, email_section, invoke


def plan_rows(msg) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The rows of the message's one CSV attachment."""
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/csv"]
    return list(csv.DictReader(io.StringIO(part.get_content())))


def test_digest_carries_the_supervisors_action_plan(
    db_url: str, smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port), db_url=db_url)
    open_group = {"visibility": "public", "join_policy": "open", "post_moderation": "none"}
    district.set_page("robotics", settings=open_group | {"invite_links": []})
    district.set_page("drama", settings=open_group | {"invite_links": []})
    assert invoke("run", "--config", str(district.config))[0] == ExitCode.FAILURES

    code, out, err = invoke("digest", "--config", str(district.config), "--send")

    assert code == ExitCode.OK, out + err
    [ada] = smtp.to("ada@district.org")
    assert ada.get_content_type() == "multipart/mixed"
    [attachment] = list(ada.iter_attachments())
    assert attachment.get_filename() == "action-plan-ada@district.org.csv"
    rows = plan_rows(ada)
    assert rows and {r["page_id"] for r in rows} == {"robotics"}  # chess passes, drama is Bo's
    assert {r["rule"] for r in rows} >= {"DS2.closed", "DS2.invite-only", "DS2.moderated"}
    closed = next(r for r in rows if r["rule"] == "DS2.closed")
    assert closed["severity"] == "high" and closed["due_by"]
    assert closed["planned_fix_date"] == closed["fixed_by"] == closed["reason"] == ""
    assert {r["page_id"] for r in plan_rows(smtp.to("bo@district.org")[0])} == {"drama"}
    [summary] = smtp.to("it@district.org")
    assert list(summary.iter_attachments()) == []


def test_supervisor_with_nothing_to_plan_gets_no_attachment(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    assert invoke("run", "--config", str(district.config))[0] == ExitCode.OK

    assert invoke("digest", "--config", str(district.config), "--send")[0] == ExitCode.OK

    [ada] = smtp.to("ada@district.org")
    assert ada.get_content_type() == "multipart/alternative"
    assert list(ada.iter_attachments()) == []
