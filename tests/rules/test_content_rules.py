"""DS3, DS6, DS7 and DS8: pass, fail and not-applicable, severity and masked evidence."""

from __future__ import annotations

import phonenumbers
import pytest

from auditor.config import RulesConfig
from auditor.results import Severity, Status
from auditor.rules import catalog
from auditor.text.mask import mask, masked
from auditor.text.profanity import ProfanityModel
from tests.rules.helpers import STUDENT, ctx, matcher, posts, snap

CONTENT_RULES = [
    "DS3.respectful-speech",
    "DS6.confidentiality",
    "DS8.no-commercial-content",
]


@pytest.mark.parametrize("rule_id", [*CONTENT_RULES, "DS7.no-personal-links"])
def test_not_applicable_without_posts(rule_id: str) -> None:
    snapshot = snap(posts=None, unavailable={"posts": "Groups API has no posts"})
    result = catalog.get(rule_id).check(snapshot, ctx())
    assert result.status == Status.NOT_APPLICABLE
    assert result.message.startswith("Groups API has no posts")


@pytest.mark.parametrize("rule_id", [*CONTENT_RULES, "DS7.no-personal-links"])
def test_clean_posts_pass(rule_id: str) -> None:
    clean = posts(
        "We killed it tonight and crushed them 3-0! Stats on maxpreps.com.",
        "Practice is suspended for lightning; see https://www.district.org/athletics.",
        "Team car wash fundraiser Saturday, proceeds go to our new uniforms.",
    )
    result = catalog.get(rule_id).check(snap(posts=clean), ctx())
    assert result.status == Status.PASS, result


def test_speech_fails_higher_for_staff() -> None:
    rule = catalog.get("DS3.respectful-speech")
    by_staff = rule.check(snap(posts=posts("What the f*ck was that? Pathetic.")), ctx())
    assert by_staff.status == Status.FAIL and by_staff.severity == Severity.HIGH
    # the term masked, in its sentence (masked there too)
    assert by_staff.evidence[0].value == 'profanity: f*•• in "What the f*•• was that?"'
    assert by_staff.evidence[0].note == "by staff: Olive Owner"
    assert by_staff.evidence[0].role == "staff" and by_staff.evidence[0].decided_by == "pattern"
    by_student = rule.check(snap(posts=posts("I'll hurt you after school", author="s1")), ctx())
    assert by_student.status == Status.FAIL and by_student.severity == Severity.MEDIUM
    assert by_student.evidence[0].value.startswith("threatening language")


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Coach is gonna kill us with sprints tomorrow", False),
        ("Mrs. Van Dyke's choir opens the concert", False),
        ("Scunthorpe, Middlesex and Essex teams arrive at 4", False),
        ("You guys are pathetic losers", True),
        ("sh1t bus left without us", True),
        ("that ref was a total s h i t t y call", True),
        ("F.U.C.K. the rain delay", True),
        ("gtfo with that offside call", True),
        ("the GSA welcomes gay, lesbian and trans students", False),
    ],
)
def test_speech_idiom_names_and_disguises(text: str, flagged: bool) -> None:
    result = catalog.get("DS3.respectful-speech").check(snap(posts=posts(text)), ctx())
    assert (result.status == Status.FAIL) is flagged


def test_speech_terms_extend_and_allow_from_config() -> None:
    rules = RulesConfig(speech_terms=["frick"], speech_allowed=["hell week"])
    rule = catalog.get("DS3.respectful-speech")
    assert rule.check(snap(posts=posts("frick this")), ctx(rules=rules)).status == Status.FAIL
    assert rule.check(snap(posts=posts("frick this")), ctx()).status == Status.PASS


def test_confidentiality_masks_every_value() -> None:
    text = (
        "Call Mia's mom at 203-555-0147. Her email is mia.k@gmail.com, student ID 204513, "
        "born March 3, 2011, lives at 14 Maple Ave. Mia has asthma and was suspended."
    )
    result = catalog.get("DS6.confidentiality").check(
        snap(posts=posts(text)), ctx(rules=RulesConfig(student_id_pattern=r"\b\d{6}\b"))
    )
    assert result.status == Status.FAIL and result.severity == Severity.HIGH
    shown = " ".join(e.value for e in result.evidence)
    for secret in ("203-555-0147", "mia.k@gmail.com", "204513", "March 3, 2011", "14 Maple"):
        assert secret not in shown
    kinds = {e.value.split(" (")[0] for e in result.evidence}
    assert kinds == {
        "phone number",
        "email address",
        "student id",
        "birth date",
        "home address",
        "health information",
        "discipline record",
    }


def test_confidentiality_ignores_school_contacts() -> None:
    text = "Questions? Call the main office at 203-797-4800 or email coach@district.org."
    result = catalog.get("DS6.confidentiality").check(snap(posts=posts(text)), ctx())
    assert result.status == Status.PASS


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Text Mia's mom at (203) 555-0147 tonight.", "(203) 555-0147"),
        ("her cell: 203.555.0147", "203.555.0147"),
        ("save it 2035550147 —Jay", "2035550147"),
        ("Nico's grandma, +1 203 555 0124.", "+1 203 555 0124"),
        ("On exchange: Emma's host family, +44 20 7946 0958.", "+44 20 7946 0958"),
        ("Meeting ID 845 2231 9987, passcode hatters.", None),  # not a valid number
        ("Photos: https://www.flickr.com/photos/dhs/albums/72177720311", None),
        ("Forms due 2026-10-12; mail to Danbury CT 06810-1234.", None),
        ("Call 555-0147 after six.", None),  # no area code: not valid in the US
    ],
)
def test_phone_numbers_as_phonenumbers_reads_them(text: str, written: str | None) -> None:
    found = [d.value for d in matcher().disclosures(text) if d.category == "phone"]
    assert found == ([written] if written else [])
    by_library = [m.raw_string for m in phonenumbers.PhoneNumberMatcher(text, "US")]
    assert by_library == found  # the same numbers as the library's own matcher finds


def test_student_id_pattern_is_per_district() -> None:
    text = "Ava, your student id S1234567 is on the form."
    rule = catalog.get("DS6.confidentiality")
    custom = ctx(rules=RulesConfig(student_id_pattern=r"\bS\d{7}\b"))
    assert rule.check(snap(posts=posts(text)), custom).status == Status.FAIL
    six_digits = ctx(rules=RulesConfig(student_id_pattern=r"\b\d{6}\b"))
    assert rule.check(snap(posts=posts(text)), six_digits).status == Status.PASS


def test_mask_keeps_a_few_characters() -> None:
    assert mask("203-555-0147") == "•••-•••-•147"
    assert mask("D") == "•"
    assert mask("asthma") == "as••••"
    assert masked("grade or score", "got a D") == "grade or score (g•• • •)"


def test_links_personal_social_high_other_medium() -> None:
    rule = catalog.get("DS7.no-personal-links")
    page_links = snap(
        description="Follow coach: tiktok.com/@coach",
        links=["https://www.district.org/team"],
        posts=posts("Photos: https://flickr.com/x"),
    )
    result = rule.check(page_links, ctx())
    assert result.status == Status.FAIL and result.severity == Severity.HIGH
    assert {(e.ref, e.value) for e in result.evidence} == {
        ("description", "tiktok.com/@coach"),
        ("p0", "https://flickr.com/x"),
    }
    other = rule.check(snap(posts=posts("see bit.ly/abc and Venmo-free!")), ctx())
    assert other.status == Status.FAIL and other.severity == Severity.MEDIUM
    cash = rule.check(snap(posts=posts("Dues $20 to $CoachPay please")), ctx())
    assert cash.status == Status.FAIL and "cash.app" in cash.evidence[0].value
    lookalike = rule.check(snap(links=["https://district.org.evil.com/"], posts=[]), ctx())
    assert lookalike.status == Status.FAIL


def test_links_extras_from_config_and_not_applicable_checks_page_links() -> None:
    rules = RulesConfig(personal_social_domains=["mastodon.social"])
    result = catalog.get("DS7.no-personal-links").check(
        snap(posts=posts("mastodon.social/@coach")), ctx(rules=rules)
    )
    assert result.severity == Severity.HIGH
    bad_page = snap(posts=None, links=["https://instagram.com/coach"])
    assert catalog.get("DS7.no-personal-links").check(bad_page, ctx()).status == Status.FAIL


def test_commercial_categories_and_sanctioned_activity() -> None:
    rule = catalog.get("DS8.no-commercial-content")
    staff = rule.check(snap(posts=posts("I offer private lessons, $50/hr, DM me to book")), ctx())
    assert staff.status == Status.FAIL
    assert staff.evidence[0].value.startswith("private financial gain")
    student = rule.check(
        snap(members=[STUDENT], posts=posts("selling my old cleats $40 obo", author="s1")), ctx()
    )
    assert student.evidence[0].value.startswith("commercial or advertising")
    political = rule.check(snap(posts=posts("Vote for Jane Smith for mayor!")), ctx())
    assert political.evidence[0].value.startswith("political")
    school_vote = rule.check(snap(posts=posts("Vote for class president on Friday")), ctx())
    assert school_vote.status == Status.PASS
    private = rule.check(snap(posts=posts("Please donate to my nephew's GoFundMe")), ctx())
    assert private.evidence[0].value.startswith("solicitation")


def test_commercial_phrases_extend_from_config() -> None:
    rules = RulesConfig(commercial_phrases={"political": ["town meeting slate"]})
    rule = catalog.get("DS8.no-commercial-content")
    text = "Support the town meeting slate!"
    assert rule.check(snap(posts=posts(text)), ctx(rules=rules)).status == Status.FAIL
    assert rule.check(snap(posts=posts(text)), ctx()).status == Status.PASS


def test_fast_profanity_score_equals_the_package() -> None:
    from profanity_check import predict_prob

    texts = ["great game tonight", "you are a fucking idiot", "", "damn good hustle"]
    expected = predict_prob(texts)
    model = ProfanityModel()
    assert [round(model.probability(t), 6) for t in texts] == [round(float(p), 6) for p in expected]


def test_pattern_set_agrees_with_re() -> None:
    import re

    from auditor.text.scan import PatternIndex, PatternSet, Scan

    patterns = [
        re.compile(r"(?<![\w@])(?:donate|gofundme)(?!\w)", re.I),
        re.compile(r"\bmy\s+(?:\w+\s+){0,2}business\b", re.I),
        re.compile(r"(?-i:\b[A-Z][a-z]+\s+\([A-DF]\))"),
        None,
    ]
    index = PatternIndex()
    patterns_ = PatternSet(index, patterns)
    index.compile()
    scan = Scan(index)
    texts = [
        "Please DONATE today",
        "my essential oils business",
        "Grades: Tomas (C), ayla (d)",
        "José's my café business 🔥",  # non-ASCII letters take the re-only path
        "nothing here @donate",
        "",
    ]
    for text in texts:
        got = [m and m.group(0) for m in patterns_.search(text, scan)]
        want = [p.search(text).group(0) if p and p.search(text) else None for p in patterns]
        assert got == want, text
