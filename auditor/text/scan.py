r"""Scans a text for many regular expressions at once.

Python's ``re`` tries each long phrase alternation at every position, which made the
content rules run at about 1,500 posts per second. Hyperscan compiles all of a detector's
patterns into one automaton (in prefilter mode, so lookbehinds and the like are allowed and
it only ever reports a superset of the real matches); ``re`` then confirms the few
patterns Hyperscan reports, and gives the exact matched text.

Hyperscan's ``\w`` is ASCII here (Unicode classes made compiling take seconds), so a text
with non-ASCII letters, where Python's ``\w`` is wider, skips the scan and is checked by
``re`` alone; emoji and curly quotes are not letters and keep the fast path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import hyperscan

_NON_ASCII_LETTER = re.compile(r"(?![\x00-\x7f])\w")
_BASE_FLAGS = (
    hyperscan.HS_FLAG_UTF8
    | hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_SINGLEMATCH
    | hyperscan.HS_FLAG_ALLOWEMPTY
)


class PatternSet:
    """A fixed list of compiled patterns (None entries never match) scanned together."""

    def __init__(self, patterns: Sequence[re.Pattern[str] | None]) -> None:
        self._patterns = list(patterns)
        used = [(i, p) for i, p in enumerate(self._patterns) if p is not None]
        self._db: hyperscan.Database | None = None
        if used:
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(
                expressions=[p.pattern.encode("utf-8") for _, p in used],
                ids=[i for i, _ in used],
                elements=len(used),
                flags=[
                    _BASE_FLAGS | (hyperscan.HS_FLAG_CASELESS if p.flags & re.IGNORECASE else 0)
                    for _, p in used
                ],
            )

    def candidates(self, text: str) -> set[int]:
        """Indexes of the patterns that may match ``text`` (a superset of those that do)."""
        found: set[int] = set()
        if self._db is None or not text:
            return found
        if not text.isascii() and _NON_ASCII_LETTER.search(text):
            return set(range(len(self._patterns)))

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(pattern_id)

        self._db.scan(text.encode("utf-8"), match_event_handler=on_match)
        return found

    def search(self, text: str) -> list[re.Match[str] | None]:
        """The first match of each pattern in ``text`` (None where it does not match)."""
        hits = self.candidates(text)
        return [
            p.search(text) if i in hits and p is not None else None
            for i, p in enumerate(self._patterns)
        ]
