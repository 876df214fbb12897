"""Each content finding shows the post's date and author role, the sentence behind it (with
student data masked), and whether a pattern or the classifier decided, with its score."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.config import ClassifierConfig, RulesConfig
from auditor.results import Status
from auditor.rules import catalog
from tests.rules.helpers import ctx, snap

WRITTEN = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
# Without a roster a family's address is no one the district knows: role "member".
PARENT = {"id": "g1", "email": "family@gmail.com", "role": "member"}
STUDENT = {"id": "s1", "email": "kid@students.district.org", "role": "member"}
OWNER = {"id": "o", "email": "owner@district.org", "role": "owner", "name": "Olive Owner"}


def page(text: str, author: str, **post: Any) -> Any:
    """A snapshot with one dated post by ``author``."""
    item = {"id": "p1", "author_id": author, "text": text, "created_at": WRITTEN} | post
    return snap(members=[OWNER, STUDENT, PARENT], posts=[item])


def test_ds3_classifier_finding_names_its_sentence_date_role_and_score() -> None:
    text = "Great practice today. nobody sit with Ava at lunch tomorrow. spread the word"
    result = catalog.get("DS3.respectful-speech").check(page(text, "s1"), ctx())
    assert result.status == Status.FAIL
    (item,) = result.evidence
    assert item.at == WRITTEN and item.role == "student" and item.url is None
    assert item.decided_by == "classifier"
    assert item.score is not None and item.score >= ClassifierConfig().threshold_of("DS3")
    assert item.value == 'disrespectful: "nobody sit with Ava at lunch tomorrow."'


def test_ds3_pattern_finding_masks_the_term_in_its_sentence() -> None:
    text = "See you at 4. What the f*ck was that call, ref?"
    result = catalog.get("DS3.respectful-speech").check(page(text, "g1"), ctx())
    (item,) = result.evidence
    assert item.decided_by == "pattern" and item.score is None and item.role == "member"
    assert item.value == 'profanity: f*•• in "What the f*•• was that call, ref?"'
    assert "f*ck" not in item.value


def test_ds6_pattern_finding_masks_the_value_names_and_numbers_in_the_sentence() -> None:
    text = "Go team! Call Mia Lopez's mom at 203-555-0147 about the ride."
    result = catalog.get("DS6.confidentiality").check(page(text, "o"), ctx())
    (item,) = result.evidence
    assert item.decided_by == "pattern" and item.role == "staff" and item.at == WRITTEN
    assert item.value.startswith("phone number (•••-•••-•147) in ")
    assert "Mia" not in item.value and "Lopez" not in item.value and "555" not in item.value
    assert item.value.endswith('"Call M•• Lo•••\'• mom at •••-•••-•147 about the ride."')


def test_ds6_classifier_finding_shows_its_masked_sentence_and_score() -> None:
    text = "Congrats to Nora, who scored a 1520 on her SAT this fall!"
    rules = RulesConfig(classifier=ClassifierConfig(threshold={"DS6": 0.3}))
    result = catalog.get("DS6.confidentiality").check(page(text, "o"), ctx(rules=rules))
    assert result.status == Status.FAIL
    learned = [e for e in result.evidence if e.decided_by == "classifier"]
    found = [e for e in result.evidence if e.decided_by == "pattern"] + learned
    assert found, result.evidence
    for item in found:
        assert "Nora" not in item.value and "1520" not in item.value
        assert item.role == "staff" and item.at == WRITTEN
    for item in learned:
        assert item.score is not None and item.score >= 0.3


def test_ds6_classifier_ignores_a_reminder_to_everyone() -> None:
    text = "If your athlete has a concussion, they sit out until the trainer clears them."
    rules = RulesConfig(classifier=ClassifierConfig(threshold={"DS6": 0.01}))
    result = catalog.get("DS6.confidentiality").check(page(text, "o"), ctx(rules=rules))
    assert all(e.decided_by != "classifier" for e in result.evidence)


def test_ds8_classifier_finding_carries_role_date_and_score() -> None:
    text = "Our lab had puppies! $400 each, two girls left, message me if interested."
    rules = RulesConfig(classifier=ClassifierConfig(threshold={"DS8": 0.3}))
    result = catalog.get("DS8.no-commercial-content").check(page(text, "g1"), ctx(rules=rules))
    assert result.status == Status.FAIL
    for item in result.evidence:
        assert item.role == "member" and item.at == WRITTEN
        assert item.value.startswith("commercial or advertising: ")
        if item.decided_by == "classifier":
            assert item.score is not None and item.score >= 0.3
            # one sentence of the post, quoted, its numbers masked
            assert item.value in (
                'commercial or advertising: "Our lab had puppies!"',
                'commercial or advertising: "$••0 each, two girls left, message me if interested."',
            )
        else:
            assert item.decided_by == "pattern" and item.score is None


def test_ds8_classifier_never_calls_a_school_election_political() -> None:
    rules = RulesConfig(classifier=ClassifierConfig(threshold={"DS8": 0.01}))
    text = "Vote for class president on Friday in the cafeteria!"
    result = catalog.get("DS8.no-commercial-content").check(page(text, "o"), ctx(rules=rules))
    assert "political" not in " ".join(e.value for e in result.evidence)


def test_ds7_post_links_carry_date_and_role() -> None:
    text = "Follow my page instagram.com/coach.olive for drills"
    result = catalog.get("DS7.no-personal-links").check(page(text, "o"), ctx())
    (item,) = result.evidence
    assert item.kind == "link" and item.ref == "p1" and item.at == WRITTEN
    assert item.role == "staff" and item.decided_by == "pattern"


def test_classifier_off_leaves_the_patterns_alone() -> None:
    text = "nobody sit with Ava at lunch tomorrow. spread the word"
    rules = RulesConfig(classifier=ClassifierConfig(enabled=False))
    result = catalog.get("DS3.respectful-speech").check(page(text, "s1"), ctx(rules=rules))
    assert result.status == Status.PASS


def test_the_issues_false_positive_shapes_pass_and_their_true_twins_fail() -> None:
    speech = catalog.get("DS3.respectful-speech")
    privacy = catalog.get("DS6.confidentiality")
    weather = speech.check(page("This weather is garbage, practice moved inside.", "o"), ctx())
    assert weather.status == Status.PASS
    insult = speech.check(page("Tyler is garbage and everyone hates him.", "s1"), ctx())
    assert insult.status == Status.FAIL
    invite = "If you need accommodations for the trip, please contact me privately."
    assert privacy.check(page(invite, "o"), ctx()).status == Status.PASS
    named = "Jordan needs his accommodations for the trip, per his 504 plan."
    assert privacy.check(page(named, "o"), ctx()).status == Status.FAIL
