"""DS 8's veto: the learned classifier overrules the phrase lists when every DS8 head
reads a post as none of DS8's purposes (issue 12: the patterns' false positives on the
guide's negatives, a world-religions field trip, a joke about selling on Etsy)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from auditor.config import ClassifierConfig, RulesConfig
from auditor.text.classifier import Classifier, Trigger
from auditor.text.commercial import CATEGORIES, VETO, CommercialDetector
from auditor.text.scan import PatternIndex, Scan
from tests.rules.helpers import matcher

AD = "Buy my homemade candles, $15 each, message me to order"


class Scores:
    """A stand-in for the classifier: the same score of each DS8 head for every post."""

    def __init__(self, scores: Mapping[str, float]) -> None:
        self._scores = scores

    def has(self, head: str) -> bool:
        """Whether the head exists (those given)."""
        return head in self._scores

    def score(self, text: str, head: str) -> float:
        """The head's set score, whatever the post."""
        return self._scores[head]

    def trigger(self, text: str, head: str) -> Trigger:
        """The whole post as its own trigger."""
        return Trigger(text, self._scores[head])


def categories(scores: Mapping[str, float] | None) -> list[str]:
    """The DS 8 categories a detector with ``scores`` as its classifier finds in :data:`AD`."""
    index = PatternIndex()
    model: Classifier | None = Scores(scores) if scores is not None else None  # type: ignore[assignment]
    detector = CommercialDetector(index, classifier=model, threshold=0.8)
    index.compile()
    return [f.category for f in detector.find(AD, Scan(index))]


def test_the_patterns_alone_flag_the_ad() -> None:
    assert categories(None) == ["financial-gain"]


def test_every_head_under_the_veto_drops_the_patterns_findings() -> None:
    assert categories({f"DS8:{c}": VETO / 2 for c in CATEGORIES}) == []


@pytest.mark.parametrize("category", CATEGORIES)
def test_one_head_at_the_veto_keeps_them(category: str) -> None:
    scores = {f"DS8:{c}": VETO / 2 for c in CATEGORIES} | {f"DS8:{category}": VETO}
    assert categories(scores) == ["financial-gain"]


def test_a_model_without_every_ds8_head_never_vetoes() -> None:
    scores = {f"DS8:{c}": 0.0 for c in CATEGORIES if c != "political"}
    assert categories(scores) == ["financial-gain"]


@pytest.mark.parametrize(
    "text",
    [
        "World religions unit: field trip to the mosque, the synagogue and the cathedral.",
        "lol Mr. Kent's dad jokes should be sold on Etsy",
    ],
)
def test_the_shipped_model_clears_what_the_patterns_misread(text: str) -> None:
    patterns_only = RulesConfig(classifier=ClassifierConfig(enabled=False))
    assert matcher(patterns_only).commercial(text)  # the phrase lists alone flag it
    assert matcher().commercial(text) == []
