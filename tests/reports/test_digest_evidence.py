"""The supervisor digest stands on its own: an overview of the supervisor's pages worst
first, each open item with its evidence in words, its fix steps and its due date, passing
rules on one line per page, and the same facts in the HTML and plain-text parts."""

from __future__ import annotations

import re
from html import unescape

from sample_audit import SampleRun

from auditor.reports.deadlines import apply_deadlines
from auditor.reports.digest import build_digests
from auditor.reports.view import PageView

SUPERVISOR = "dreyes@danbury.k12.ct.us"


def mine(sample: SampleRun) -> tuple[list[PageView], str, str]:
    """The supervisor's pages, and their digest's plain text and visible HTML text."""
    view = sample.view()
    apply_deadlines(view, sample.config.remediation, sample.config.district.timezone)
    digest = next(d for d in build_digests(view, sample.config) if d.recipient == SUPERVISOR)
    html_text = unescape(re.sub(r"<[^>]+>", "", digest.html.split("</head>", 1)[1]))
    return [p for p in view.pages if p.supervisor == SUPERVISOR], digest.text, html_text


def test_overview_lists_pages_worst_first_with_open_items(sample: SampleRun) -> None:
    pages, text, _ = mine(sample)
    overview = text.split("YOUR PAGES, MOST URGENT FIRST\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("- ").strip() for line in overview.splitlines()]

    assert len(rows) == len(pages)
    counts = [int(re.search(r"(\d+) open items?", row).group(1)) for row in rows]  # type: ignore[union-attr]
    assert counts == sorted(counts, reverse=True)  # all fail here: most open items first
    by_name = {p.name: p for p in pages}
    for row in rows:
        name = row.split(": ", 1)[0]
        assert f"{len(by_name[name].attention)} open item" in row


def test_each_open_item_shows_evidence_fix_steps_and_due_date(sample: SampleRun) -> None:
    pages, text, html_text = mine(sample)
    volleyball = next(p for p in pages if p.id == "dhs-volleyball")
    staff_admins = next(r for r in volleyball.attention if r.rule == "DS2.staff-admins")
    member = staff_admins.evidence[0]

    for body in (text, html_text):
        assert f"Member: {member['value']}" in body
        assert "https://www.instagram.com/jaketolland.photo" in body  # the link found
        assert "•••-•••-•147" in body  # the masked phone number, never the number
        assert "Join policy: request" in body  # a setting named in words
        assert f"How to fix on groupme: {staff_admins.remediation}" in body
    due = staff_admins.due
    assert due is not None and not staff_admins.overdue
    high_days = sample.config.remediation.due_days.high
    first = staff_admins.first_seen
    assert first is not None  # due counts from the day it was first seen, in the district
    seen_on = first.astimezone(sample.config.district.tz).date()
    assert (due - seen_on).days in (high_days, high_days + 1)
    assert f"Fix by {due.isoformat()}." in text and f"Fix by {due.isoformat()}." in html_text
    assert text.count("Fix by ") == html_text.count("Fix by ") == sum(len(p.failing) for p in pages)


def test_passing_rules_collapse_to_one_line_per_page(sample: SampleRun) -> None:
    pages, text, html_text = mine(sample)
    audited = [p for p in pages if p.status == "audited"]
    lines = [line for line in text.splitlines() if line.startswith("  Passing: ")]

    assert len(lines) == sum(any(r.status == "pass" for r in p.results) for p in audited)
    soccer = next(p for p in pages if p.id == "dhs-girls-soccer")
    passed = [r for r in soccer.results if r.status == "pass"]
    line = f"{len(passed)} other rules pass: " + "; ".join(r.title for r in passed) + "."
    assert f"  Passing: {line}" in text and line in html_text


def test_digest_names_rules_by_title_never_by_id(sample: SampleRun) -> None:
    _, text, html_text = mine(sample)
    for body in (text, html_text):
        assert re.findall(r"\bDS\d+\.[a-z-]+", body) == []
        assert "monitoring_max_days" not in body
        assert "reads the group at least every 14 days" in body  # the configured number
