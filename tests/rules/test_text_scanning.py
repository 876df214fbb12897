"""The fast paths of the content detectors give the same answers as the slow ones: the
prefiltered pattern sets, the profanity model read without scikit-learn and its bound,
and the public suffix list; the matcher is frozen once made, and a page is scanned once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import re2

from auditor import evaluation as evaluation_module
from auditor import runner as runner_module
from auditor.loading import load_config
from auditor.rules import catalog
from auditor.rules.dismissals import with_text_hashes
from auditor.text.commercial import CommercialDetector
from auditor.text.confidential import (
    _DATE,
    _IS_BIRTHDAY,
    ConfidentialityDetector,
    _dates_before_birthdays,
)
from auditor.text.digest import text_hash
from auditor.text.links import Domains, LinkPolicy
from auditor.text.mask import mask
from auditor.text.matcher import TextMatcher
from auditor.text.phrases import Alternation
from auditor.text.profanity import (
    ProfanityModel,
    ascii_words,
    package_weights,
    read_weights,
    words,
)
from auditor.text.re2_syntax import Untranslatable, to_re2
from auditor.text.scan import Gated, IndexFrozen, Pattern, PatternIndex, PatternSet, Scan
from auditor.text.sentences import SENTENCE_SPLIT_RE
from auditor.text.speech import SpeechDetector
from tests.rules.helpers import ctx, posts, snap

CORPUS = Path(__file__).parents[1] / "corpus"
TOKEN_RE = re.compile(r"\w\w+")  # the vectorizer's token pattern, (?u)\b\w\w+\b
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
    """Every corpus post, and a few texts of disguises, scripts and shapes beside."""
    rows = []
    for name in ("posts.jsonl", "posts-2.jsonl", "posts-3.jsonl", "holdout.jsonl"):
        path = CORPUS / name
        if path.exists():
            rows += [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    return rows + EXTRA


def _whole(pattern: re.Pattern[str] | Alternation | None) -> re.Pattern[str] | None:
    """A pattern as one regex, its alternatives not split."""
    return pattern.compiled if isinstance(pattern, Alternation) else pattern


def _compiled(*patterns: Pattern | None) -> tuple[PatternSet, Scan]:
    """A set of ``patterns`` alone in a compiled index, and a scan of that index."""
    index = PatternIndex()
    patterns_ = PatternSet(index, patterns)
    index.compile()
    return patterns_, Scan(index)


@pytest.fixture(scope="module")
def detectors() -> tuple[Scan, SpeechDetector, list[PatternSet]]:
    """The speech, confidentiality and commercial detectors in one compiled index, a scan
    of it, the speech detector, and every pattern set of the three (one-pattern ones,
    :class:`Gated`, too)."""
    index = PatternIndex()
    speech = SpeechDetector(index)
    made = [speech, ConfidentialityDetector(index), CommercialDetector(index)]
    index.compile()
    values = [value for detector in made for value in vars(detector).values()]
    sets = [
        value._set if isinstance(value, Gated) else value
        for value in values
        if isinstance(value, PatternSet | Gated)
    ]
    return Scan(index), speech, sets


def test_pattern_sets_find_what_the_whole_patterns_find(
    detectors: tuple[Scan, SpeechDetector, list[PatternSet]],
) -> None:
    scan, _, sets = detectors
    texts = _texts()
    assert len(texts) > 500 and len(sets) > 15
    for patterns_ in sets:
        patterns = [_whole(p) for p in patterns_._patterns]
        for text in texts:
            got = [m and (m.span(), m.group(0)) for m in patterns_.search(text, scan)]
            want = [
                (m.span(), m.group(0)) if p and (m := p.search(text)) else None for p in patterns
            ]
            assert got == want, text


def test_substitutions_through_the_scan_equal_the_whole_patterns(
    detectors: tuple[Scan, SpeechDetector, list[PatternSet]],
) -> None:
    scan, speech, _ = detectors
    idioms = speech._idioms
    assert idioms is not None
    changed = 0
    for text in [*_texts(), "we killed it, crushed them and killed it again"]:
        expected = idioms.compiled.sub(" ", text)
        assert speech._idiom.sub(" ", text, scan) == expected, text
        changed += expected != text
    assert changed > 10


def test_sentences_searched_within_their_post_find_what_they_alone_find(
    detectors: tuple[Scan, SpeechDetector, list[PatternSet]],
) -> None:
    scan, _, sets = detectors
    for patterns_ in sets:
        for text in _texts():
            for sentence in SENTENCE_SPLIT_RE.split(text):
                got = [m and m.span() for m in patterns_.search(sentence, scan, within=text)]
                assert got == [m and m.span() for m in patterns_.search(sentence, scan)], sentence


@pytest.fixture(scope="module")
def every_character() -> str:
    """Every Unicode character that can stand in UTF-8 text (no surrogates)."""
    return "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        (r"\w", 0),
        (r"\d", 0),
        (r"\s", 0),
        (r"[\w'’-]", 0),
        (r"\W", 0),
        (r"[^\w\s]", 0),
        (r"[^\W\d_]", 0),
        (r"[a-z]", re.IGNORECASE),
        (r"[A-DF]", re.IGNORECASE),
        (r"[^k]", re.IGNORECASE),
        (r"(?-i:[A-Z])", re.IGNORECASE),
        *((letter, re.IGNORECASE) for letter in "abcdefghijklmnopqrstuvwxyzé’ñß"),
    ],
)
def test_re2_translation_matches_every_character_python_matches(
    every_character: str, source: str, flags: int
) -> None:
    wanted = "".join(re.findall(source, every_character, flags))
    assert wanted  # every case matches something
    assert re2.fullmatch(f"(?:{to_re2(source, flags)})*", wanted)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (r"(?<![\w@])(?:vote\s+yes)(?![\w])", "VOTE\u00a0 yes!"),
        (r"\bcafé\b", "Café, then"),
        (r"(?-i:\b[A-Z][a-z]+\s+\([A-DF][+-]?\))", "Maya (B+)"),
        (r"\b\d{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:st|ave)\b", "12 Elm St."),
        (r"^born\b.{0,3}?\d$", "born: 7"),
        (r"x{2,2000}", "x" * 1500),
        (r"\d+\S*", "٣٤٥kg"),
        (r"(?<![\w@])(?:iss)(?![\w])", "ISS"),
        (r"\bschool\b", "School!"),
        (r"\b\d{6}\b", "٣٤٥٦٧٨"),
        (r"\bkid\b", "\u212aid"),  # the Kelvin sign is a capital k to Python
        (r"(?-i:\bthe [A-Z]\w+ family\b)", "the Okafor family"),
        (r"(?<=[.!?])\s*wow", "yes! wow"),
    ],
)
def test_re2_translation_matches_where_python_matches(source: str, text: str) -> None:
    flags = re.IGNORECASE
    assert re.search(source, text, flags)
    assert re2.search(to_re2(source, flags), text), to_re2(source, flags)
    assert re2.search(to_re2(source, flags), f"before. {text} after"), "not inside"


def test_a_cut_pattern_is_a_candidate_where_its_most_selective_stretch_is() -> None:
    pattern = re.compile(r"\b(?:lodge|elks)\b[^.!?]{0,60}\braffle tickets\b", re.IGNORECASE)
    assert to_re2(pattern.pattern, pattern.flags) == r"(?i:\braffle\x{20}t[i\x{130}\x{131}]ckets)"
    patterns, scan = _compiled(pattern)
    assert scan.candidates("The Elks lodge meets Tuesday") == ()
    assert scan.candidates("Raffle tickets are on sale at lunch") == (1,)  # re says no
    assert list(patterns.search("Raffle tickets are on sale at lunch", scan)) == [None]
    match = patterns.search("The Elks are selling raffle tickets", scan)[0]
    assert match is not None and match.group(0) == "Elks are selling raffle tickets"


def test_a_translation_does_not_start_with_a_class_of_letters() -> None:
    # A pattern that may start at any letter makes RE2's automaton grow fastest.
    assert to_re2(r"\bthe [A-Z]\w+ family\b") == r"(?-i:\x{20}family\b)"
    assert to_re2(r"[\w.+-]+@[\w-]+\.\w+").startswith(r"(?-i:\x{40}")
    assert to_re2(r"\bdarn\b", re.IGNORECASE) == r"(?i:\bdarn\b)"  # a letter: kept whole


def test_a_cut_loop_keeps_the_repetitions_every_match_has() -> None:
    translated = to_re2(r"\.[a-z]{2,24}\b", re.IGNORECASE)  # a domain's top level
    assert re2.search(translated, "see danbury.org")
    assert not re2.search(translated, "at 5 p.m. today"), translated


def test_dates_before_birthdays_are_the_whole_patterns_matches() -> None:
    whole = re.compile(rf"\(?({_DATE}){_IS_BIRTHDAY}", re.IGNORECASE)
    texts = [
        *_texts(),
        "Nov 9 is Lucas's bday and (12/3) is Mia's birthday!",
        "Jan 5 is a birthday; Jan 6 is another birthday",
        "June 5 is is bday, 5/6 is Ava birthday 7/8 is Bo's bday",
    ]
    found = 0
    for text in texts:
        expected = [(m.start(), m.end(), m.group(1)) for m in whole.finditer(text)]
        assert _dates_before_birthdays(text) == expected, text
        found += len(expected)
    assert found >= 8


def test_untranslatable_patterns_are_always_candidates() -> None:
    with pytest.raises(Untranslatable):
        to_re2(r"(\w)\1")
    patterns, scan = _compiled(re.compile(r"(\w)\1 again"), re.compile(r"\bnever\b"))
    assert scan.candidates("see you soon again") == (1,)
    assert list(patterns.search("see you soon again", scan)) == [None, None]
    found = patterns.search("bookkeeping, all again", scan)
    assert [m and m.group(0) for m in found] == ["ll again", None]


def test_a_failed_re2_scan_runs_every_pattern(caplog: pytest.LogCaptureFixture) -> None:
    patterns, scan = _compiled(re.compile(r"\bdonate\b", re.I), re.compile(r"\braffle\b", re.I))
    text = "Please donate to the raffle (a scan that failed)"
    assert [m and m.group(0) for m in patterns.search(text, scan)] == ["donate", "raffle"]

    class GaveUp:
        def Match(self, text: bytes) -> None:  # what RE2 returns when its automaton runs out
            return None

    scan.index._set = GaveUp()  # this test's own index
    with caplog.at_level("WARNING"):
        assert scan.index.match(f"{text}!") == (1, 2)
        found = patterns.search(f"{text}!", scan)
    assert [m and m.group(0) for m in found] == ["donate", "raffle"]
    assert "run one by one" in caplog.text


def test_the_index_is_frozen_once_compiled() -> None:
    index = PatternIndex()
    donate = re.compile(r"\bdonate\b")
    patterns = PatternSet(index, [donate])
    with pytest.raises(IndexFrozen):
        index.match("donate")  # not compiled yet
    index.compile()
    assert index.register(donate.pattern, donate.flags) == 1  # registered before: its id
    with pytest.raises(IndexFrozen):
        index.register(r"\braffle\b", donate.flags)
    with pytest.raises(IndexFrozen):
        PatternSet(index, [re.compile(r"\braffle\b")])  # a detector made too late
    with pytest.raises(IndexFrozen):
        index.compile()
    other, other_scan = _compiled(re.compile(r"\bdonate\b"))
    with pytest.raises(ValueError, match="another index"):
        patterns.search("donate", other_scan)
    assert other.search("donate", other_scan)[0] is not None


def test_a_page_scans_each_post_once_however_long(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"Practice {n} moved to the gym, bring water" for n in range(1500)]
    page = snap(posts=posts(*texts))
    scanned: list[str] = []
    match = PatternIndex.match
    monkeypatch.setattr(PatternIndex, "match", lambda self, t: scanned.append(t) or match(self, t))
    catalog.evaluate(page, ctx())
    assert len(scanned) == len(set(scanned)) == 1500 and set(scanned) == set(texts)


def test_the_runner_makes_the_detectors_once_per_run(
    make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(make_config({"p1": {}, "p2": {}}))
    made: list[TextMatcher] = []
    monkeypatch.setattr(
        evaluation_module, "TextMatcher", lambda *args: made.append(TextMatcher(*args)) or made[-1]
    )
    runner = runner_module.Runner(config, engine=None)  # type: ignore[arg-type]
    page = snap(posts=posts("Text Mia's mom at (203) 555-0147 tonight."))
    for registered in config.pages:
        results = {r.rule: r.status.value for r in runner.evaluate(registered, page)[0]}
        assert results["DS6.confidentiality"] == "fail"
    assert len(made) == 1 and len(config.pages) == 2


def test_rules_judge_alike_on_a_page_alone_and_without_the_runs_matcher() -> None:
    page = snap(
        description="Coach's page: tiktok.com/@coach",
        posts=posts(
            "Call Mia's mom at 203-555-0147, she has asthma.",
            "We killed it tonight! Vote for Smith for mayor.",
            "you are a fucking idiot",
        ),
    )
    context = ctx()
    on_page = [r.model_dump() for r in catalog.evaluate(page, context)]
    hashes = {p.id: text_hash(p.text) for p in page.posts or []}  # the catalog adds them
    alone = [
        with_text_hashes(rule.check(page, context), hashes).model_dump()
        for rule in catalog.all_rules()
    ]
    made_here = [r.model_dump() for r in catalog.evaluate(page, replace(context, text=None))]
    assert on_page == alone == made_here
    failing = {r["rule"] for r in on_page if r["status"] == "fail"}
    assert {"DS3.respectful-speech", "DS6.confidentiality", "DS7.no-personal-links"} <= failing
    assert "DS8.no-commercial-content" in failing


FIRST_PAGE = """
from auditor.rules import catalog
from tests.rules.helpers import ctx, posts, snap

page = snap(posts=posts(
    "Call Mia's mom at 203-555-0147, she has asthma.",
    "Vote for Smith for mayor! Buy my candles at my Etsy shop.",
    "you are a fucking idiot",
))
for _ in range(2):
    print(" ".join(r.status.value for r in catalog.evaluate(page, ctx())))
"""


def test_a_new_process_judges_its_first_page_as_it_judges_the_next() -> None:
    # The detectors are made by the first page's rules, after its posts were scanned: the
    # scan must not be kept from before their patterns were there.
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PAGE],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert len(out) == 2 and out[0] == out[1]
    statuses = dict(zip(catalog.rule_ids(), out[0].split(), strict=True))
    assert statuses["DS6.confidentiality"] == "fail"
    assert statuses["DS8.no-commercial-content"] == "fail"


def test_texts_with_lone_surrogates_are_scanned() -> None:
    patterns, scan = _compiled(re.compile(r"\bdonate\W+now\b", re.I))
    match = patterns.search("donate\ud800now", scan)[0]
    assert match is not None and match.group(0) == "donate\ud800now"


def test_no_candidates_means_no_search() -> None:
    patterns, scan = _compiled(re.compile(r"\bdonate\b", re.I), None)
    assert scan.candidates("great game tonight") == ()
    assert list(patterns.search("great game tonight", scan)) == [None, None]
    match = patterns.search("Please DONATE", scan)[0]
    assert match is not None and match.group(0) == "DONATE"


@pytest.fixture(scope="module")
def fast_model() -> ProfanityModel:
    """The profanity model with the weights read without scikit-learn."""
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
    ascii_texts = 0
    for text in _texts():
        assert set(TOKEN_RE.findall(text.lower())) <= set(words(text)), text
        if text.isascii():
            ascii_texts += 1
            assert [w.decode() for w in ascii_words(text)] == words(text), text
    assert ascii_texts > 500


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
    policy = LinkPolicy(Domains(), ("danbury.k12.ct.us",), ("signupgenius.com", "forms.gle"))
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
    assert Domains().registered(host) == expected
