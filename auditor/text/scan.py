"""Scans a text for many regular expressions at once.

Python's ``re`` tries each phrase of a long alternation at every position, which made the
content rules run at about 1,500 posts per second. Instead every alternative of every
:class:`PatternSet`, translated by :mod:`auditor.text.re2_syntax`, goes into one RE2 set
(google-re2), a :class:`PatternIndex`: a text is matched against all of them in one
linear-time pass, shared by all detectors, which names the alternatives that may match (never
leaving one out). Python's ``re`` then runs only those, each on its own, for the exact
matches.

The index is filled while the detectors are made, then compiled once and frozen; a
:class:`Scan` keeps the candidates of the texts it was asked about (a page's posts, matched
one after another first: 2-3% faster than as the rules come to them), so that every
detector reading a post shares one pass over it. An alternative is one place in the set, its
most selective stretch: a second stretch that a text had to hold too (fewer candidates for
``re`` to confirm) cost the automaton as much as it saved, and was dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence

import re2

from auditor.text.phrases import Alternation
from auditor.text.re2_syntax import Untranslatable, to_re2

log = logging.getLogger(__name__)

WHOLE = -1  # alternative number standing for a whole pattern that is not split
Pattern = re.Pattern[str] | Alternation
_DFA_MEMORY = 256 << 20  # RE2's budget for the set's lazily built automaton
_NEVER = r"\b\B"  # holds the place of an alternative RE2 cannot express


class IndexFrozen(RuntimeError):
    """A pattern registered after the index was compiled: its detector was made too late."""


class PatternIndex:
    """Every alternative registered by the detectors being made, in one RE2 set compiled by
    :meth:`compile`, after which nothing more may be registered. An alternative's id is its
    place in the set, where it stands translated by :func:`to_re2`."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int], int] = {}  # (source, flags) -> id, from 1
        self._re2: list[str | None] = []  # per id - 1: its translation, None if it has none
        self._set: re2.Set | None = None
        self._every: tuple[int, ...] = ()  # every id: the candidates when RE2 gives up
        self._always: tuple[int, ...] = ()  # ids RE2 cannot express: always candidates
        self._warned = False

    def register(self, source: str, flags: int) -> int:
        """The id of an alternative (a whole regex with its flags)."""
        key = (source, flags)
        if key not in self._ids:
            if self._set is not None:
                raise IndexFrozen(f"{source!r} registered after the index was compiled")
            try:
                translated: str | None = to_re2(source, flags)
            except Untranslatable:
                translated = None
            self._ids[key] = len(self._ids) + 1
            self._re2.append(translated)
        return self._ids[key]

    def compile(self) -> None:
        """Build the RE2 set of every registered alternative; the index is frozen after."""
        if self._set is not None:
            raise IndexFrozen("the index was compiled already")
        options = re2.Options()
        options.max_mem = _DFA_MEMORY
        options.log_errors = False
        compiled = re2.Set.SearchSet(options)
        compiled.Add("")  # place 0 matches every text: its absence means a failed scan
        always = []
        for id_, translated in enumerate(self._re2, start=1):
            try:
                place = compiled.Add(_NEVER if translated is None else translated)
            except re2.error:  # RE2 refused the translation: as if there were none
                translated, place = None, compiled.Add(_NEVER)
            if translated is None:  # no RE2 form: it holds its place and is always a candidate
                always.append(id_)
            assert place == id_, "an alternative's place in the set is its id"
        compiled.Compile()
        self._set, self._always = compiled, tuple(always)
        self._every = tuple(self._ids.values())
        self._re2 = []  # in the set now

    def match(self, text: str) -> tuple[int, ...]:
        """Ids of the alternatives that may match ``text``: all that do, and a few more."""
        if self._set is None:
            raise IndexFrozen("the index is matched before it was compiled")
        found = self._set.Match(text.encode("utf-8", "surrogatepass")) or ()
        if not found or found[0] != 0:  # the always-matching entry is missing: RE2 gave up
            if not self._warned:
                log.warning("RE2 could not scan a text; its patterns are run one by one")
                self._warned = True
            return self._every
        return (*found[1:], *self._always)


class Scan:
    """The candidates of the texts a page's detectors read, each text matched against the
    index once however many detectors read it. ``texts`` (a page's posts) are matched
    first, one after another, while RE2's automaton is in the processor's cache; any other
    text (a post with its idioms taken out, say) when it is first asked about."""

    def __init__(self, index: PatternIndex, texts: Iterable[str] = ()) -> None:
        self.index = index
        self._found = {text: index.match(text) for text in texts}

    def candidates(self, text: str) -> tuple[int, ...]:
        """Ids of the alternatives of :attr:`index` that may match ``text``."""
        found = self._found.get(text)
        if found is None:
            found = self._found[text] = self.index.match(text)
        return found


class PatternSet:
    """A fixed list of compiled patterns (None entries never match) scanned together: their
    alternatives are registered in ``index``, and texts are searched through a
    :class:`Scan` of it."""

    def __init__(self, index: PatternIndex, patterns: Sequence[Pattern | None]) -> None:
        self._index = index
        self._patterns = list(patterns)
        self._compiled: dict[tuple[int, int], re.Pattern[str]] = {}
        self._alternations: dict[tuple[int, tuple[int, ...]], re.Pattern[str]] = {}
        owners: dict[int, list[tuple[int, int]]] = {}
        for position, pattern in enumerate(self._patterns):
            for number, source, flags in _alternatives(pattern):
                owners.setdefault(index.register(source, flags), []).append((position, number))
        self._owners = owners
        self._nothing: tuple[None, ...] = (None,) * len(self._patterns)

    def search(
        self, text: str, scan: Scan, within: str | None = None
    ) -> Sequence[re.Match[str] | None]:
        """The first match of each pattern in ``text`` (None where it does not match).

        ``within``, a text that holds ``text`` (a post, for one of its sentences), is looked
        up instead: its candidates include all of ``text``'s, and were found already.
        """
        by_pattern = self._candidates(within or text, scan) if text else {}
        if not by_pattern:
            return self._nothing
        matches: list[re.Match[str] | None] = list(self._nothing)
        for index, numbers in by_pattern.items():
            matches[index] = self._first(index, numbers, text)
        return matches

    def sub(self, index: int, replacement: str, text: str, scan: Scan) -> str:
        """``text`` with every match of pattern ``index`` replaced, as the whole pattern's
        ``sub`` would: only its alternatives that may match ``text`` are tried, in order."""
        numbers = self._candidates(text, scan).get(index)
        if not numbers:
            return text
        return self._alternation(index, tuple(sorted(numbers))).sub(replacement, text)

    def _candidates(self, text: str, scan: Scan) -> dict[int, list[int]]:
        """Per pattern, the numbers of its alternatives that may match ``text``."""
        if scan.index is not self._index:
            raise ValueError("a scan of another index than the one the patterns are in")
        by_pattern: dict[int, list[int]] = {}
        owners = self._owners
        for id_ in scan.candidates(text):
            for index, number in owners.get(id_, ()):
                by_pattern.setdefault(index, []).append(number)
        return by_pattern

    def _alternation(self, index: int, numbers: tuple[int, ...]) -> re.Pattern[str]:
        """Some alternatives of pattern ``index`` as one regex, in their order."""
        key = (index, numbers)
        if key not in self._alternations:
            whole = self._patterns[index]
            assert isinstance(whole, Alternation)
            sources = whole.alternatives()
            joined = "|".join(f"(?:{sources[n]})" for n in numbers)
            self._alternations[key] = re.compile(joined, whole.flags)
        return self._alternations[key]

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


class Gated:
    """One pattern looked for through the shared RE2 pass, like a one-pattern set."""

    def __init__(self, index: PatternIndex, pattern: Pattern | None) -> None:
        self._set = PatternSet(index, [pattern])

    def search(self, text: str, scan: Scan, within: str | None = None) -> re.Match[str] | None:
        """The first match in ``text`` (``within``: as for :meth:`PatternSet.search`)."""
        return self._set.search(text, scan, within)[0]

    def sub(self, replacement: str, text: str, scan: Scan) -> str:
        """``text`` with every match replaced."""
        return self._set.sub(0, replacement, text, scan)


def _alternatives(pattern: Pattern | None) -> Iterator[tuple[int, str, int]]:
    """``(alternative number, source, flags)`` for a whole pattern or each alternative."""
    if pattern is None:
        return
    if isinstance(pattern, re.Pattern):
        yield WHOLE, pattern.pattern, pattern.flags
        return
    for number, source in enumerate(pattern.alternatives()):
        yield number, source, pattern.flags
