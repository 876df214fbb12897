"""The fast paths of the content detectors give the same answers as the slow ones: the
prefiltered pattern sets, the profanity model read without scikit-learn and its bound,
and the public suffix list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditor.text.commercial import CommercialDetector
from auditor.text.confidential import _SENTENCE_SPLIT_RE, ConfidentialityDetector
from auditor.text.links import LinkPolicy, registered_domain
from auditor.text.literals import BOUNDARY, required_strings
from auditor.text.mask import mask
from auditor.text.phrases import Alternation, compile_disguised, compile_phrases
from auditor.text.profanity import _TOKEN_RE, ProfanityModel, package_weights, read_weights, words
from auditor.text.scan import PatternSet
from auditor.text.speech import SpeechDetector

CORPUS = Path(__file__).parents[1] / "corpus"
EXTRA = [
    "f*ck this, sh1t happens, a$$hole, b!tch, fvck, F U C K",
    "Call me at 203-555-0199; Maya (B+) got a C on the test.",
    "Weekend: 12 Elm St apt 4, then 9 Great Plain Rd. First street on the left!",
    "in the ER again; her 504 plan; ISS for 2 days",
    "Vote for Smith for mayor! vote yes on Question 1. #ad use code TEAM20",
    "José’s café: 50/50 raffle — donate at gofund.me/abc, 20% off",
    "STRASSE Straße İstanbul ǅemal ﬁnal x² ٣٤٥ snake_case ÀÉÎ",
    "",
]


def _texts() -> list[str]:
    rows = []
    for name in ("posts.jsonl", "holdout.jsonl"):
        path = CORPUS / name
        if path.exists():
            rows += [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    return rows + EXTRA


def _whole(pattern: re.Pattern[str] | Alternation | None) -> re.Pattern[str] | None:
    return pattern.compiled if isinstance(pattern, Alternation) else pattern


def _pattern_sets() -> list[PatternSet]:
    detectors = [SpeechDetector(), ConfidentialityDetector(), CommercialDetector()]
    return [
        value
        for detector in detectors
        for value in vars(detector).values()
        if isinstance(value, PatternSet)
    ]


def test_pattern_sets_find_what_the_whole_patterns_find() -> None:
    texts = _texts()
    assert len(texts) > 500
    for scan in _pattern_sets():
        patterns = [_whole(p) for p in scan._patterns]
        for text in texts:
            got = [m and (m.span(), m.group(0)) for m in scan.search(text)]
            want = [
                (m.span(), m.group(0)) if p and (m := p.search(text)) else None for p in patterns
            ]
            assert got == want, text


def test_sentences_searched_within_their_post_find_what_they_alone_find() -> None:
    for scan in _pattern_sets():
        for text in _texts():
            for sentence in _SENTENCE_SPLIT_RE.split(text):
                got = [m and m.span() for m in scan.search(sentence, within=text)]
                assert got == [m and m.span() for m in scan.search(sentence)], sentence


@pytest.mark.parametrize(
    ("source", "flags", "text", "found"),
    [
        (r"\bkys\b", re.I, "KYS now", True),
        (r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:st|ave)\b", re.I, "first best", False),
        (r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:st|ave)\b", re.I, "12 Elm St", True),
        (r"\bmy\s+(?:\w+\s+){0,2}business\b", re.I, "my oils business", True),
    ],
)
def test_required_strings_are_in_every_match(
    source: str, flags: int, text: str, found: bool
) -> None:
    required = required_strings(source, flags)
    assert required
    folded = f" {text.casefold()} "
    present = any(
        (" " if s.startswith(BOUNDARY) else "")
        + s.strip(BOUNDARY)
        + (" " if s.endswith(BOUNDARY) else "")
        in folded
        for s in required
    )
    assert present is found
    assert present or not re.search(source, text, flags)


def test_phrase_and_disguise_lists_name_their_required_words() -> None:
    phrases = compile_phrases(["in the er", "vote for * for mayor"])
    assert phrases is not None and phrases.required is not None
    assert set().union(*phrases.required) == {"\0er\0", "\0mayor\0"}
    disguised = compile_disguised(["shit"])
    assert disguised is not None and disguised.required is not None
    required = disguised.required[0]
    assert required is not None
    assert "\0shit\0" in required and "\0sh1t" in required and "\0s*i" in required


def test_no_candidates_means_no_search() -> None:
    scan = PatternSet([re.compile(r"\bdonate\b", re.I), None])
    assert list(scan.search("great game tonight")) == [None, None]
    match = scan.search("Please DONATE")[0]
    assert match is not None and match.group(0) == "DONATE"


@pytest.fixture(scope="module")
def fast_model() -> ProfanityModel:
    return ProfanityModel(weights=read_weights())


def test_weights_read_without_scikit_learn_equal_the_package() -> None:
    assert read_weights() == package_weights()


def test_profanity_bound_never_hides_an_offensive_post(fast_model: ProfanityModel) -> None:
    texts = [*_texts(), "you are a fucking idiot", "what a dumb bitch"]
    flagged = 0
    for text in texts:
        score = fast_model.probability(text)
        assert fast_model.offensive(text, 0.9) == (score if score >= 0.9 else None), text
        flagged += score >= 0.9
    assert flagged >= 2


def test_profanity_words_hold_every_token_of_the_vectorizer() -> None:
    for text in _texts():
        assert set(_TOKEN_RE.findall(text.lower())) <= set(words(text)), text


def _slow_mask(value: str) -> str:
    """The character-by-character masking that :func:`mask` does with regular expressions."""
    chars = [c for c in value if c.isalnum()]
    keep = min(3, len(chars) // 3)
    digits = sum(c.isdigit() for c in chars) > len(chars) / 2
    out, seen = [], 0
    for c in value:
        if not c.isalnum():
            out.append(c)
            continue
        seen += 1
        out.append(c if (seen > len(chars) - keep if digits else seen <= keep) else "•")
    return "".join(out)


def test_mask_equals_the_character_by_character_masking() -> None:
    values = [w for text in _texts() for w in (text, *text.split(), text[:14])]
    values += ["", "_", "D", "B+", "x²y", "٣٤٥-٦٧", "a_b_c_d", "203-555-0147", "ab12"]
    for value in values:
        assert mask(value) == _slow_mask(value), value


def test_link_policy_matches_domains_and_their_subdomains_only() -> None:
    policy = LinkPolicy(("danbury.k12.ct.us",), ("signupgenius.com", "forms.gle"))
    kinds = {
        url: policy.classify(url).kind
        for url in (
            "https://danbury.k12.ct.us/a",
            "https://www.danbury.k12.ct.us",
            "https://notdanbury.k12.ct.us",
            "https://signupgenius.com/go",
            "https://x.forms.gle/1",
            "https://forms.gle.evil.com/1",
        )
    }
    assert kinds == {
        "https://danbury.k12.ct.us/a": "district",
        "https://www.danbury.k12.ct.us": "district",
        "https://notdanbury.k12.ct.us": "non-district",
        "https://signupgenius.com/go": "allowed",
        "https://x.forms.gle/1": "allowed",
        "https://forms.gle.evil.com/1": "non-district",
    }


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.example.co.uk", ("example.co.uk", "co.uk")),
        ("a.b.danbury.k12.ct.us", ("danbury.k12.ct.us", "k12.ct.us")),
        ("tiktok.com", ("tiktok.com", "com")),
        ("week3.pptx", ("", "")),
    ],
)
def test_registered_domain_from_the_bundled_list(host: str, expected: tuple[str, str]) -> None:
    assert registered_domain(host) == expected
