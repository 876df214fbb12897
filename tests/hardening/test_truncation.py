"""Defect 5 of the hardening issue: a truncated fetch never reads as a full pass. Where a
connector cut a field short, the rules that pass by finding nothing in it warn instead,
naming the cut; where it read part of a field by design, the pass says which part."""

from __future__ import annotations

from auditor.results import Status
from auditor.rules import catalog
from tests.rules.helpers import ctx, posts, snap

CUT = "channel General: only the newest 100 of 150 messages were read"


def by_rule(page) -> dict[str, object]:
    return {r.rule: r for r in catalog.evaluate(page, ctx())}


def test_a_cut_post_list_turns_content_passes_into_warnings_naming_the_cut() -> None:
    results = by_rule(snap(posts=posts("Practice moved to the gym."), limits={"posts": CUT}))
    for rule in ("DS3.respectful-speech", "DS6.confidentiality", "DS8.no-commercial-content"):
        assert results[rule].status == Status.WARN, results[rule].message
        assert CUT in results[rule].message
    assert results["DS2.closed"].status == Status.PASS  # settings were read in full


def test_a_failure_found_in_what_was_read_still_fails() -> None:
    page = snap(posts=posts("Call Mia's mom at 203-555-0147."), limits={"posts": CUT})
    assert by_rule(page)["DS6.confidentiality"].status == Status.FAIL


def test_a_cut_member_list_makes_membership_passes_warnings() -> None:
    results = by_rule(snap(limits={"members": "only the first 1,000 members were read"}))
    assert results["DS2.staff-admins"].status == Status.WARN
    assert results["DS2.supervisor-access"].status == Status.PASS  # found: still true


def test_coverage_by_design_is_said_in_the_pass() -> None:
    page = snap(posts=posts("Practice moved."), coverage={"posts": "posts of the last 30 days"})
    result = by_rule(page)["DS6.confidentiality"]
    assert result.status == Status.PASS
    assert "posts of the last 30 days" in result.message
