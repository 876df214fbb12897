"""Dismissals as the catalog applies them: a dismissed post's evidence is dropped while its
text hash is unchanged, counted once per post; an edited post stays, saying it was
dismissed before; other rules and passing results are untouched."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.results import Evidence, RuleResult, Severity, Status
from auditor.rules.dismissals import Dismissal, apply_dismissals, with_text_hashes

RULE = "DS6.confidentiality"
AT = datetime(2026, 12, 1, 15, tzinfo=UTC)


def item(ref: str, value: str, digest: str | None = "aaaa", kind: str = "post") -> Evidence:
    return Evidence(kind=kind, ref=ref, value=value, text_hash=digest)


def failing(*evidence: Evidence, status: Status = Status.FAIL) -> RuleResult:
    return RuleResult(
        rule=RULE,
        status=status,
        severity=Severity.HIGH,
        message="2 post(s) disclose.",
        evidence=list(evidence),
    )


def dismissal(post: str, digest: str = "aaaa", rule: str = RULE) -> Dismissal:
    return Dismissal(rule, post, digest, "ana", AT, "a school phone")


def test_a_post_with_two_items_is_one_dismissed_post() -> None:
    result = failing(item("p1", "phone number (•••)"), item("p1", "email address (a••@x)"))
    out = apply_dismissals(result, [dismissal("p1")])
    assert out.status == Status.PASS and out.evidence == []
    assert out.message == (
        "1 post(s) dismissed as not a violation by ana on 2026-12-01; nothing else found."
    )


def test_other_posts_stay_and_the_message_says_what_was_left_out() -> None:
    result = failing(item("p1", "phone"), item("p2", "email", "bbbb"), status=Status.WARN)
    out = apply_dismissals(result, [dismissal("p1")])
    assert out.status == Status.WARN and [e.ref for e in out.evidence] == ["p2"]
    assert out.message.endswith(
        "Of these, 1 was dismissed as not a violation by ana on 2026-12-01 and is not listed."
    )


def test_an_edited_post_is_reported_saying_it_was_dismissed_before() -> None:
    result = failing(item("p1", "phone", "cccc"))
    out = apply_dismissals(result, [dismissal("p1")])
    assert out.status == Status.FAIL and out.message == result.message
    [kept] = out.evidence
    assert kept.note == "dismissed by ana on 2026-12-01, but the post was edited since"


def test_other_rules_links_and_passes_are_untouched() -> None:
    result = failing(item("p1", "phone"), item("p1", "https://x", kind="link"))
    assert apply_dismissals(result, [dismissal("p1", rule="DS3.respectful-speech")]) is result
    out = apply_dismissals(result, [dismissal("p1")])
    assert [e.kind for e in out.evidence] == ["link"] and out.status == Status.FAIL
    passed = failing(item("p1", "phone"), status=Status.PASS)
    assert apply_dismissals(passed, [dismissal("p1")]) is passed


def test_only_post_items_of_the_page_get_a_text_hash() -> None:
    result = failing(
        item("p1", "phone", None), item("p9", "phone", None), item("p1", "u", None, kind="link")
    )
    out = with_text_hashes(result, {"p1": "1234"})
    assert [e.text_hash for e in out.evidence] == ["1234", None, None]
