"""DS 8: classifies a post as private financial gain, political, commercial/advertising,
proselytizing or solicitation by phrase lists, and excuses the club's own sanctioned
activity (a team fundraiser, a trip fee to the school) unless a private beneficiary is named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.text.phrases import compile_phrases, compile_regexes, data_file

CATEGORIES = ("financial-gain", "commercial", "political", "proselytizing", "solicitation")
LABELS = {
    "financial-gain": "private financial gain",
    "commercial": "commercial or advertising",
    "political": "political",
    "proselytizing": "proselytizing",
    "solicitation": "solicitation",
}
# Categories that the club's own sanctioned activity excuses.
EXCUSABLE = frozenset({"solicitation"})


@dataclass(frozen=True)
class CommercialFinding:
    """A DS 8 category and the phrase that matched it."""

    category: str
    phrase: str


class CommercialDetector:
    """Finds DS 8 purposes in posts."""

    def __init__(self, extra: Mapping[str, Sequence[str]] | None = None) -> None:
        data = data_file("commercial.toml")
        extra = extra or {}
        self._patterns: dict[str, tuple[re.Pattern[str] | None, ...]] = {
            cat: (
                compile_phrases([*data[cat], *extra.get(cat, ())]),
                compile_regexes(data["patterns"].get(cat, ())),
            )
            for cat in CATEGORIES
        }
        self._sanctioned = compile_regexes(data["sanctioned"])
        self._private = compile_regexes(data["private"])
        self._school_votes = compile_regexes(data["school_votes"])

    def find(self, text: str) -> list[CommercialFinding]:
        """One finding per category present in ``text``."""
        if not text.strip():
            return []
        found = []
        for category, patterns in self._patterns.items():
            subject = text
            if category == "political" and self._school_votes:
                subject = self._school_votes.sub(" ", text)
            for pattern in patterns:
                match = pattern.search(subject) if pattern else None
                if match:
                    found.append(CommercialFinding(category, match.group(0)))
                    break
        if found and self._excused(text):
            found = [f for f in found if f.category not in EXCUSABLE]
        return found

    def _excused(self, text: str) -> bool:
        """The post is for the club's own sanctioned activity and names no private cause."""
        if self._sanctioned is None or not self._sanctioned.search(text):
            return False
        return not (self._private and self._private.search(text))
