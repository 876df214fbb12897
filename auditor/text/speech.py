"""DS 3: finds slurs, profanity, abuse and threats in a post, and scores the rest with the
alt-profanity-check model, after removing sports idiom ("we killed it") that only sounds
violent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from auditor.text.phrases import compile_disguised, compile_phrases, compile_regexes, data_file
from auditor.text.profanity import model

MODEL_THRESHOLD = 0.9


@dataclass(frozen=True)
class SpeechFinding:
    """Why a post is not respectful: the kind of problem and what was matched."""

    kind: str  # "slur", "profanity", "abusive", "threat", "offensive"
    matched: str


class SpeechDetector:
    """Checks posts against the DS 3 lists, patterns and model."""

    def __init__(self, extra_terms: Iterable[str] = (), allowed: Iterable[str] = ()) -> None:
        data = data_file("speech.toml")
        extra = list(extra_terms)
        self._slurs = compile_disguised(data["slurs"])
        self._ambiguous = compile_disguised(data["ambiguous"], ignore_case=False)
        self._profanity = compile_disguised([*data["profanity"], *extra])
        self._abuse = compile_regexes(data["abuse"])
        self._threats = compile_regexes(data["threats"])
        self._idioms = compile_phrases([*data["idioms"], *allowed])
        self._neutral = frozenset(data["neutral"])

    def check(self, text: str) -> SpeechFinding | None:
        """The first problem found in ``text``, or None when it reads as respectful."""
        if not text.strip():
            return None
        lists = (
            ("slur", self._slurs),
            ("slur", self._ambiguous),
            ("profanity", self._profanity),
        )
        for kind, pattern in lists:
            match = pattern.search(text) if pattern else None
            if match:
                return SpeechFinding(kind, match.group(0))
        cleaned = self._idioms.sub(" ", text) if self._idioms else text
        for kind, pattern in (("threat", self._threats), ("abusive", self._abuse)):
            match = pattern.search(cleaned) if pattern else None
            if match:
                return SpeechFinding(kind, match.group(0))
        score = model(self._neutral).probability(cleaned)
        if score >= MODEL_THRESHOLD:
            return SpeechFinding("offensive", f"model score {score:.2f}")
        return None
