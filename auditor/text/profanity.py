"""The alt-profanity-check model, scored in pure Python for speed.

The package's own ``predict_prob`` costs milliseconds per call (scikit-learn overhead),
far too slow for one call per post. Its model is a TF-IDF vectorizer feeding a
sigmoid-calibrated linear SVM (5 folds), so each word's idf and fold weights are read
out once and a post is scored with a dictionary lookup per word; the result equals
``predict_prob`` (tested). The package is imported lazily: it takes a second and loads
scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache

_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


class ProfanityModel:
    """Per-word weights of the alt-profanity-check model."""

    def __init__(self, ignored: Iterable[str] = ()) -> None:
        from profanity_check import profanity_check as pc

        folds = pc.model.calibrated_classifiers_
        coefs = [f.estimator.coef_.ravel() for f in folds]
        self._intercepts = [float(f.estimator.intercept_[0]) for f in folds]
        self._calibration = [
            (float(f.calibrators[0].a_), float(f.calibrators[0].b_)) for f in folds
        ]
        idf = pc.vectorizer.idf_
        skip = {w.lower() for w in ignored}
        self._terms: dict[str, tuple[float, tuple[float, ...]]] = {
            term: (float(idf[i]), tuple(float(c[i]) for c in coefs))
            for term, i in pc.vectorizer.vocabulary_.items()
            if term not in skip
        }

    def probability(self, text: str) -> float:
        """The model's probability that ``text`` is offensive (0 to 1)."""
        counts = Counter(t for t in _TOKEN_RE.findall(text.lower()) if t in self._terms)
        decisions = list(self._intercepts)
        if counts:
            weighted = [(n * self._terms[t][0], self._terms[t][1]) for t, n in counts.items()]
            norm = math.sqrt(sum(w * w for w, _ in weighted))
            for w, fold_weights in weighted:
                for k, c in enumerate(fold_weights):
                    decisions[k] += w / norm * c
        total = 0.0
        for d, (a, b) in zip(decisions, self._calibration, strict=True):
            total += 1.0 / (1.0 + math.exp(a * d + b))
        return total / len(decisions)


@cache
def model(ignored: frozenset[str] = frozenset()) -> ProfanityModel:
    """The model, loaded once per set of ignored words."""
    return ProfanityModel(ignored)
