"""DS 8: classifies a post as private financial gain, political, commercial/advertising,
proselytizing or solicitation by phrase lists, and excuses the club's own sanctioned
activity (a team fundraiser, a trip fee to the school) unless a private beneficiary is named;
then the learned classifier's ``DS8:<category>`` heads add the purposes said in other words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.text.phrases import Alternation, compile_phrases, compile_regexes, data_file
from auditor.text.scan import Gated, PatternIndex, PatternSet, Scan

if TYPE_CHECKING:  # the classifier (numpy, the tokenizer) loads only when texts are judged
    from auditor.text.classifier import Classifier

CATEGORIES = ("financial-gain", "commercial", "political", "proselytizing", "solicitation")
LABELS = {
    "financial-gain": "private financial gain",
    "commercial": "commercial or advertising",
    "political": "political",
    "proselytizing": "proselytizing",
    "solicitation": "solicitation",
}
# A post in the writer's own voice ("my", "I", "vendo"): a staff member's ad that speaks so
# is their private gain, not a third party's advertisement (nearly every such post in the
# corpus: RESULTS.md).
FIRST_PERSON_RE = re.compile(
    r"\b(?:my|mine|i|i'm|i've|me|mi|mis|vendo|hago|vendemos)\b", re.IGNORECASE
)
# Categories that the club's own sanctioned activity excuses.
EXCUSABLE = frozenset({"solicitation"})
# Below this score of every DS8 head the patterns' findings are dropped (a world-religions
# field trip, "dad jokes should be sold on Etsy"): leaving each author's posts out of
# training in turn, it drops 39 of the patterns' 73 false and 2 of their 893 true
# findings (tests/corpus/RESULTS.md, "DS8 veto").
VETO = 0.01


@dataclass(frozen=True)
class CommercialFinding:
    """A DS 8 category and the phrase that matched it (or the classifier's score)."""

    category: str
    phrase: str  # "" when the classifier decided
    decided_by: str = "pattern"  # or "classifier" (its head's score reached the threshold)
    score: float | None = None  # the classifier's score, when it decided
    sentence: str | None = None  # the sentence the classifier scored highest


class CommercialDetector:
    """Finds DS 8 purposes in posts; its patterns are registered in ``index``."""

    def __init__(
        self,
        index: PatternIndex,
        extra: Mapping[str, Sequence[str]] | None = None,
        classifier: Classifier | None = None,
        threshold: float = 1.0,
    ) -> None:
        data = data_file("commercial.toml")
        self._classifier = classifier
        self._threshold = threshold
        self._learned = tuple(
            c for c in CATEGORIES if classifier is not None and classifier.has(f"DS8:{c}")
        )
        extra = extra or {}
        self._patterns: dict[str, tuple[Alternation | None, ...]] = {
            cat: (
                compile_phrases([*data[cat], *extra.get(cat, ())]),
                compile_regexes(data["patterns"].get(cat, ())),
            )
            for cat in CATEGORIES
        }
        self._sanctioned = Gated(index, compile_regexes(data["sanctioned"]))
        self._private = Gated(index, compile_regexes(data["private"]))
        self._school_vote = Gated(index, compile_regexes(data["school_votes"]))
        self._political = PatternSet(index, self._patterns["political"])
        self._order = [(cat, i) for cat in CATEGORIES for i in range(2)]
        self._all = PatternSet(index, [self._patterns[cat][i] for cat, i in self._order])

    def find(self, text: str, scan: Scan) -> list[CommercialFinding]:
        """One finding per category present in ``text`` (``scan``: of the index the
        patterns are in): the patterns', then the classifier's for the other categories."""
        if not text.strip():
            return []
        found = {f.category: f for f in self._patterns_find(text, scan)}
        if found and self._vetoed(text):
            found = {}
        school_vote = bool(self._school_vote.search(text, scan))
        for category in self._learned:
            if category in found or (category == "political" and school_vote):
                continue  # a school election is not politics, however it is worded
            assert self._classifier is not None
            head = f"DS8:{category}"
            score = self._classifier.score(text, head)
            if score >= self._threshold:
                trigger = self._classifier.trigger(text, head)
                found[category] = CommercialFinding(
                    category, "", "classifier", score, trigger.sentence
                )
        return [found[c] for c in CATEGORIES if c in found]

    def _vetoed(self, text: str) -> bool:
        """Whether the classifier overrules the patterns: it has every DS8 head and each
        scores the post under :data:`VETO` (it reads the post as none of DS8's purposes)."""
        if self._classifier is None or len(self._learned) < len(CATEGORIES):
            return False
        return all(self._classifier.score(text, f"DS8:{c}") < VETO for c in CATEGORIES)

    def _patterns_find(self, text: str, scan: Scan) -> list[CommercialFinding]:
        """One finding per category the phrase lists find in ``text``."""
        matches = self._all.search(text, scan)
        if not any(matches):
            return []
        first: dict[str, str] = {}
        for (category, _), match in zip(self._order, matches, strict=True):
            if match and category not in first:
                first[category] = match.group(0)
        if "political" in first and self._school_vote.search(text, scan):
            first.pop("political")  # look again without the school elections
            subject = self._school_vote.sub(" ", text, scan)
            match = next((m for m in self._political.search(subject, scan) if m), None)
            if match:
                first["political"] = match.group(0)
        if EXCUSABLE & first.keys() and self._sanctioned_only(text, scan):
            first = {c: p for c, p in first.items() if c not in EXCUSABLE}
        elif "solicitation" in first:  # selling for a cause asks for money for it
            first = {c: p for c, p in first.items() if c not in ("commercial", "financial-gain")}
        return [CommercialFinding(c, first[c]) for c in CATEGORIES if c in first]

    def _sanctioned_only(self, text: str, scan: Scan) -> bool:
        """Whether the post is about the club's own activity and names no private cause."""
        return bool(self._sanctioned.search(text, scan)) and not self._private.search(text, scan)
