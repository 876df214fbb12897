"""The alt-profanity-check model, scored in pure Python for speed.

The package's own ``predict_prob`` costs milliseconds per call (scikit-learn overhead),
far too slow for one call per post. Its model is a TF-IDF vectorizer feeding a
sigmoid-calibrated linear SVM (5 folds), so each word's idf and fold weights are read
out once and a post is scored with a dictionary lookup per word; the result equals
``predict_prob`` (tested). Importing the package costs two seconds of scikit-learn, so the
weights are read from its data files by :mod:`auditor.text.model_file` (under 0.1 s); the
package itself is imported only if that reading fails.

Most posts cannot reach the threshold: :meth:`ProfanityModel.offensive` first bounds every
fold's decision from above (Cauchy-Schwarz over the post's words with positive weights)
and scores only posts whose bound reaches it, so the answer is the same as scoring all.
"""

from __future__ import annotations

import importlib.util
import math
import operator
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

from auditor.text import model_file
from auditor.text.chars import CharMap


@dataclass(frozen=True)
class Weights:
    """What scoring needs from the package's vectorizer and calibrated classifier."""

    vocabulary: dict[str, int]  # word -> column
    idf: list[float]
    coefs: list[list[float]]  # per fold, per column
    intercepts: list[float]  # per fold
    calibration: list[tuple[float, float]]  # per fold: sigmoid a, b

    @classmethod
    def of(cls, vectorizer: Any, model: Any) -> Weights:
        """Weights read from the fitted objects (real, or stood in for by model_file)."""
        folds = model.calibrated_classifiers_
        return cls(
            vocabulary={term: int(i) for term, i in vectorizer.vocabulary_.items()},
            idf=[float(x) for x in _flat(vectorizer._tfidf.idf_)],
            coefs=[[float(x) for x in _flat(f.estimator.coef_)] for f in folds],
            intercepts=[float(_flat(f.estimator.intercept_)[0]) for f in folds],
            calibration=[(float(f.calibrators[0].a_), float(f.calibrators[0].b_)) for f in folds],
        )


def _flat(values: Any) -> list[Any]:
    """A numpy array or an already flat list, as a flat list."""
    return values.ravel().tolist() if hasattr(values, "ravel") else list(values)


def _package_dir() -> Path:
    spec = importlib.util.find_spec("profanity_check")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("alt-profanity-check is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def read_weights() -> Weights:
    """The model's weights, read from the package's files without importing scikit-learn."""
    data = _package_dir() / "data"
    return Weights.of(
        model_file.load(data / "vectorizer.joblib"), model_file.load(data / "model.joblib")
    )


def package_weights() -> Weights:
    """The model's weights as the package itself loads them (slow: imports scikit-learn)."""
    from profanity_check import profanity_check as pc

    return Weights.of(pc.vectorizer, pc.model)


def load_weights() -> Weights:
    """The model's weights: read directly, or through the package if that fails."""
    try:
        return read_weights()
    except Exception:  # a joblib or model format that model_file does not know
        return package_weights()


class ProfanityModel:
    """Per-word weights of the alt-profanity-check model."""

    def __init__(self, ignored: Iterable[str] = (), weights: Weights | None = None) -> None:
        weights = weights or load_weights()
        self._intercepts = weights.intercepts
        self._calibration = weights.calibration
        skip = {w.lower() for w in ignored}
        columns = list(zip(*weights.coefs, strict=True))
        self._terms: dict[str, tuple[float, tuple[float, ...]]] = {
            term: (weights.idf[i], columns[i])
            for term, i in weights.vocabulary.items()
            if term not in skip
        }
        self._bounds: dict[float, _Bound | None] = {}

    def probability(self, text: str) -> float:
        """The model's probability that ``text`` is offensive (0 to 1)."""
        terms = self._terms
        counts = Counter(filter(terms.__contains__, words(text)))  # one-letter words: none
        decisions = list(self._intercepts)
        if counts:
            idf = [n * terms[t][0] for t, n in counts.items()]  # the post's tf-idf vector
            scale = 1.0 / math.sqrt(sum(map(operator.mul, idf, idf)))
            for k, fold in enumerate(zip(*(terms[t][1] for t in counts), strict=True)):
                decisions[k] += scale * sum(map(operator.mul, idf, fold))
        total = 0.0
        for d, (a, b) in zip(decisions, self._calibration, strict=True):
            total += 1.0 / (1.0 + math.exp(a * d + b))
        return total / len(decisions)

    def offensive(self, text: str, threshold: float) -> float | None:
        """The probability of ``text`` when it is at least ``threshold``, else None."""
        bound = self._bound(threshold)
        if bound is not None and bound.total(text) < 1.0:
            return None  # no fold can reach the threshold, so neither can their mean
        score = self.probability(text)
        return score if score >= threshold else None

    def _bound(self, threshold: float) -> _Bound | None:
        """Per word, the square of its largest share of what a fold needs to reach
        ``threshold``; None when some fold reaches it without any word."""
        if threshold not in self._bounds:
            shares = self._shares(threshold)
            self._bounds[threshold] = _Bound(shares) if shares is not None else None
        return self._bounds[threshold]

    def _shares(self, threshold: float) -> dict[str, float] | None:
        if not 0.0 < threshold < 1.0:
            return None
        logit = math.log(1.0 / threshold - 1.0)  # fold k reaches it when a*d + b <= logit
        needed = []
        for intercept, (a, b) in zip(self._intercepts, self._calibration, strict=True):
            if a >= 0:
                return None
            needed.append((logit - b) / a - intercept)  # what the words must add to d
        if min(needed) <= 0:
            return None
        scale = [1.0 / r for r in needed]
        shares = {}
        for term, (_, weights) in self._terms.items():
            share = max(map(operator.mul, weights, scale))
            if share > 0:
                shares[term] = share * share
        return shares


# A word character (``\\w``) stays, any other becomes a space.
_SPACES = CharMap(lambda char: char if char.isalnum() or char == "_" else " ")
# The same for ASCII text as bytes, which translate several times faster.
_ASCII_SPACES = bytes(c if chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(128))
_ASCII_SPACES += b" " * 128


def words(text: str) -> list[str]:
    """The words of ``text`` as the vectorizer lower-cases and splits them (``\\w\\w+``),
    repeats and one-letter words included: those only loosen the bound, never tighten it."""
    return text.lower().translate(_SPACES).split()


def ascii_words(text: str) -> list[bytes]:
    """:func:`words` of an ASCII ``text``, as bytes."""
    return text.encode("ascii").lower().translate(_ASCII_SPACES).split()


class _Bound:
    """Per word, its share of what a fold needs (squared); :meth:`total` adds them up."""

    def __init__(self, shares: dict[str, float]) -> None:
        self._shares = shares
        self._ascii = {w.encode("ascii"): v for w, v in shares.items() if w.isascii()}

    def total(self, text: str) -> float:
        """The sum over the words of ``text``: below 1.0, no fold reaches the threshold."""
        if text.isascii():
            return sum(map(self._ascii.get, ascii_words(text), repeat(0.0)))
        return sum(map(self._shares.get, words(text), repeat(0.0)))
