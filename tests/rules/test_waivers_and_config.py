"""Waivers on the content rules, and the content rules' config keys."""

from __future__ import annotations

from datetime import date

import pytest

from auditor.config import RulesConfig, WaiverConfig
from auditor.errors import ConfigError
from auditor.loading import load_config
from auditor.results import RuleResult, Status
from auditor.rules import catalog
from auditor.waivers import apply_waivers
from tests.rules.helpers import ctx, posts, snap


def _fail() -> RuleResult:
    snapshot = snap(posts=posts("Follow me: instagram.com/coach"))
    return catalog.get("DS7.no-personal-links").check(snapshot, ctx())


def test_waiver_turns_fail_into_waived_with_reason_and_approver() -> None:
    waiver = WaiverConfig(
        page="p",
        rule="DS7.no-personal-links",
        reason="Official team account",
        approved_by="boss@district.org",
        expires=date(2027, 1, 31),
    )
    [result] = apply_waivers("p", [_fail()], [waiver], date(2026, 11, 20))
    assert result.status == Status.WAIVED
    assert "boss@district.org" in result.message and "Official team account" in result.message
    assert result.evidence[-1].kind == "waiver"


def test_expired_waiver_no_longer_applies_and_says_so() -> None:
    waiver = WaiverConfig(
        page="p",
        rule="DS7.no-personal-links",
        reason="Old exception",
        approved_by="boss@district.org",
        expires=date(2026, 10, 31),
    )
    [result] = apply_waivers("p", [_fail()], [waiver], date(2026, 11, 20))
    assert result.status == Status.FAIL and "expired on 2026-10-31" in result.message
    other_page = apply_waivers("q", [_fail()], [waiver], date(2026, 1, 1))
    assert other_page[0].status == Status.FAIL


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ('student_id_pattern = "(\\\\d{6"', "rules.student_id_pattern: Value error, not a regular"),
        ('student_id_pattern = "\\\\d*"', "must not match an empty string"),
        ('commercial_phrases = { gambling = ["bet"] }', "rules.commercial_phrases.gambling"),
        ('personal_social_domains = ["not a domain"]', "rules.personal_social_domains[0]"),
        ('speech_terms = [" "]', "rules.speech_terms[0]"),
    ],
)
def test_bad_content_rule_keys_name_the_key(make_config, block: str, message: str) -> None:
    path = make_config({"p1": {}}, extra=f"\n[rules]\n{block}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert any(message in line for line in err.value.lines), err.value.lines


def test_content_rule_keys_load(make_config) -> None:
    extra = (
        '\n[rules]\nstudent_id_pattern = "\\\\b\\\\d{6}\\\\b"\n'
        'personal_social_domains = ["mastodon.social"]\n'
        'speech_terms = ["frick"]\nspeech_allowed = ["hell week"]\n'
        '[rules.commercial_phrases]\npolitical = ["slate"]\n'
    )
    rules = load_config(make_config({"p1": {}}, extra=extra)).rules
    assert rules.student_id_pattern == r"\b\d{6}\b"
    assert rules.commercial_phrases == {"political": ["slate"]}
    assert RulesConfig().student_id_pattern is None
