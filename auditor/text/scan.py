"""Scans a text for many regular expressions at once.

Python's ``re`` tries each long phrase alternation at every position, which made the
content rules run at about 1,500 posts per second. Instead each pattern, and each
alternative of the phrase lists compiled by :mod:`auditor.text.phrases`, is reduced to a
few strings one of which must occur in any match (:mod:`auditor.text.literals`), found in
one Aho-Corasick pass per text shared by all detectors (:mod:`auditor.text.strings`);
``re`` then runs only the alternatives that may match, each on its own, giving the exact
matches. Building all this takes milliseconds, so a new process starts at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from auditor.text import strings
from auditor.text.literals import required_strings
from auditor.text.phrases import Alternation

WHOLE = -1  # alternative number standing for a whole pattern that is not split
Pattern = re.Pattern[str] | Alternation


class PatternSet:
    """A fixed list of compiled patterns (None entries never match) scanned together."""

    def __init__(self, patterns: Sequence[Pattern | None]) -> None:
        self._patterns = list(patterns)
        self._compiled: dict[tuple[int, int], re.Pattern[str]] = {}
        owners: dict[int, set[tuple[int, int]]] = {}
        always: set[tuple[int, int]] = set()
        for index, pattern in enumerate(self._patterns):
            for key, required in _required(index, pattern):
                if required is None:
                    always.add(key)
                for string in required or ():
                    owners.setdefault(strings.register(string), set()).add(key)
        self._always = frozenset(always)  # alternatives with no required string
        self._owners = {string_id: frozenset(keys) for string_id, keys in owners.items()}
        self._ids = frozenset(self._owners)
        self._nothing: tuple[None, ...] = (None,) * len(self._patterns)

    def search(self, text: str, within: str | None = None) -> Sequence[re.Match[str] | None]:
        """The first match of each pattern in ``text`` (None where it does not match).

        ``within``, a text that holds ``text`` (a post, for one of its sentences), is looked
        up instead: its candidates include all of ``text``'s, and the index knows it already.
        """
        found = self._ids.intersection(strings.present(within or text)) if text else ()
        if not found and not self._always:
            return self._nothing
        by_pattern: dict[int, list[int]] = {}
        for index, alternative in self._always.union(*(self._owners[i] for i in found)):
            by_pattern.setdefault(index, []).append(alternative)
        matches: list[re.Match[str] | None] = list(self._nothing)
        for index, numbers in by_pattern.items():
            matches[index] = self._first(index, numbers, text)
        return matches

    def _first(self, index: int, numbers: list[int], text: str) -> re.Match[str] | None:
        """The match the whole alternation would find: leftmost, then the earliest listed."""
        if len(numbers) == 1:
            return self._pattern(index, numbers[0]).search(text)
        best: re.Match[str] | None = None
        for number in sorted(numbers):
            match = self._pattern(index, number).search(text)
            if match and (best is None or match.start() < best.start()):
                best = match
        return best

    def _pattern(self, index: int, number: int) -> re.Pattern[str]:
        """A pattern, or one alternative of it compiled on first use."""
        key = (index, number)
        compiled = self._compiled.get(key)
        if compiled is None:
            whole = self._patterns[index]
            assert whole is not None
            if isinstance(whole, re.Pattern):
                compiled = whole
            else:
                compiled = re.compile(whole.alternatives()[number], whole.flags)
            self._compiled[key] = compiled
        return compiled


def _required(
    index: int, pattern: Pattern | None
) -> Iterator[tuple[tuple[int, int], frozenset[str] | None]]:
    """``((pattern, alternative), required strings)`` for a pattern or each alternative."""
    if pattern is None:
        return
    if isinstance(pattern, re.Pattern):
        yield (index, WHOLE), required_strings(pattern.pattern, pattern.flags)
        return
    known = pattern.required or (None,) * len(pattern.sources)
    for number, (source, given) in enumerate(zip(pattern.alternatives(), known, strict=True)):
        yield (index, number), given or required_strings(source, pattern.flags)
