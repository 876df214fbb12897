"""Scans a text for many regular expressions at once.

Python's ``re`` tries each phrase of a long alternation at every position, which made the
content rules run at about 1,500 posts per second. Instead every alternative of every
:class:`PatternSet`, translated by :mod:`auditor.text.re2_syntax`, goes into one RE2 set
(google-re2): a text is matched against all of them in one linear-time pass, shared by all
detectors, which names the alternatives that may match (never leaving one out). Python's
``re`` then runs only those, each on its own, for the exact matches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import re2

from auditor.text.phrases import Alternation
from auditor.text.re2_syntax import Untranslatable, to_re2_parts

log = logging.getLogger(__name__)

WHOLE = -1  # alternative number standing for a whole pattern that is not split
Pattern = re.Pattern[str] | Alternation
_DFA_MEMORY = 256 << 20  # RE2's budget for the set's lazily built automaton
_NEVER = r"\b\B"  # holds the place of an alternative RE2 cannot express


class _Index:
    """Every registered alternative, in one RE2 set built when a text is next matched. An
    alternative translates to one or two stretches (see :func:`to_re2_parts`), each a place in
    the set; it may match a text where all of its places match."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int], int] = {}  # (source, flags) -> id, from 1
        self._parts: list[tuple[str, ...]] = []  # per id - 1: its RE2 stretches, () if none
        self._always: tuple[int, ...] = ()  # ids RE2 cannot express: always candidates
        self._owner: list[int] = []  # per place: the id whose first stretch it is, or 0
        self._also: dict[int, tuple[int, ...]] = {}  # id -> places of its other stretches
        self._set: re2.Set | None = None
        self._warned = False

    @property
    def size(self) -> int:
        """How many alternatives are registered (it only grows)."""
        return len(self._ids)

    def register(self, source: str, flags: int) -> int:
        """The id of an alternative (a whole regex with its flags)."""
        key = (source, flags)
        if key not in self._ids:
            try:
                parts = tuple(to_re2_parts(source, flags))
            except Untranslatable:
                parts = ()
            self._ids[key] = len(self._ids) + 1
            self._parts.append(parts)
            self._set = None
            _recent.cache_clear()
        return self._ids[key]

    def match(self, text: str) -> tuple[int, ...]:
        """Ids of the alternatives that may match ``text``: all that do, and a few more."""
        if self._set is None:
            self._build()
        assert self._set is not None
        found = self._set.Match(text.encode("utf-8", "surrogatepass")) or ()
        if not found or found[0] != 0:  # the always-matching entry is missing: RE2 gave up
            if not self._warned:
                log.warning("RE2 could not scan a text; its patterns are run one by one")
                self._warned = True
            return tuple(self._ids.values())
        owner, also = self._owner, self._also
        ids = [owner[place] for place in found if owner[place]]
        if not also.keys().isdisjoint(ids):  # some need a second stretch too: is it there?
            present = set(found)
            ids = [i for i in ids if i not in also or present.issuperset(also[i])]
        return (*ids, *self._always)

    def _build(self) -> None:
        options = re2.Options()
        options.max_mem = _DFA_MEMORY
        options.log_errors = False
        compiled = re2.Set.SearchSet(options)
        owner: dict[int, int] = {}
        also: dict[int, tuple[int, ...]] = {}
        always = []
        last = compiled.Add("")  # place 0 matches every text: its absence means a failed scan
        for id_, parts in enumerate(self._parts, start=1):
            try:
                places = [compiled.Add(part) for part in parts]
            except re2.error:  # RE2 refused it: parts added already stay, owned by no id
                places = []
            if not places:  # no RE2 form: it holds a place and is always a candidate
                places = [compiled.Add(_NEVER)]
                always.append(id_)
            last = max(last, *places)
            owner[places[0]] = id_
            if len(places) > 1:
                also[id_] = tuple(places[1:])
        compiled.Compile()
        self._set, self._also, self._always = compiled, also, tuple(always)
        self._owner = [owner.get(place, 0) for place in range(last + 1)]


_INDEX = _Index()


@dataclass
class _Page:
    """The candidates of a page's texts, found when ``size`` alternatives were registered."""

    size: int
    found: dict[str, tuple[int, ...]]


_PAGE: ContextVar[_Page | None] = ContextVar("scanned_page", default=None)


@contextmanager
def one_page(texts: Iterable[str] = ()) -> Iterator[None]:
    """Within the block every text is scanned once, however many posts the page has: the
    rules that read a page's posts one rule after another share the RE2 pass. ``texts``
    (the page's posts) are scanned first, one after another, while RE2's automaton is in
    the processor's cache."""
    token = _PAGE.set(_Page(_INDEX.size, {text: _INDEX.match(text) for text in texts}))
    try:
        yield
    finally:
        _PAGE.reset(token)


def candidates(text: str) -> tuple[int, ...]:
    """Ids of the registered alternatives that may match ``text`` (kept for the page, see
    :func:`one_page`, or else for the last texts)."""
    page = _PAGE.get()
    if page is None:
        return _recent(text)
    if page.size != _INDEX.size:  # a detector made since (a process's first page): again
        page.size, page.found = _INDEX.size, {}
    found = page.found.get(text)
    if found is None:
        found = page.found[text] = _INDEX.match(text)
    return found


@lru_cache(maxsize=1024)
def _recent(text: str) -> tuple[int, ...]:
    """Candidates of the last texts scanned outside a page (a detector used on its own)."""
    return _INDEX.match(text)


class PatternSet:
    """A fixed list of compiled patterns (None entries never match) scanned together."""

    def __init__(self, patterns: Sequence[Pattern | None]) -> None:
        self._patterns = list(patterns)
        self._compiled: dict[tuple[int, int], re.Pattern[str]] = {}
        self._alternations: dict[tuple[int, tuple[int, ...]], re.Pattern[str]] = {}
        owners: dict[int, list[tuple[int, int]]] = {}
        for index, pattern in enumerate(self._patterns):
            for number, source, flags in _alternatives(pattern):
                owners.setdefault(_INDEX.register(source, flags), []).append((index, number))
        self._owners = owners
        self._nothing: tuple[None, ...] = (None,) * len(self._patterns)
        self._last: tuple[str, dict[int, list[int]]] = ("", {})

    def search(self, text: str, within: str | None = None) -> Sequence[re.Match[str] | None]:
        """The first match of each pattern in ``text`` (None where it does not match).

        ``within``, a text that holds ``text`` (a post, for one of its sentences), is looked
        up instead: its candidates include all of ``text``'s, and were found already.
        """
        by_pattern = self._candidates(within or text) if text else {}
        if not by_pattern:
            return self._nothing
        matches: list[re.Match[str] | None] = list(self._nothing)
        for index, numbers in by_pattern.items():
            matches[index] = self._first(index, numbers, text)
        return matches

    def sub(self, index: int, replacement: str, text: str) -> str:
        """``text`` with every match of pattern ``index`` replaced, as the whole pattern's
        ``sub`` would: only its alternatives that may match ``text`` are tried, in order."""
        numbers = self._candidates(text).get(index)
        if not numbers:
            return text
        return self._alternation(index, tuple(sorted(numbers))).sub(replacement, text)

    def _candidates(self, text: str) -> dict[int, list[int]]:
        """Per pattern, the numbers of its alternatives that may match ``text`` (the last
        text's are kept: a post's sentences and contexts look up the post again and again)."""
        last_text, by_pattern = self._last
        if text is last_text or text == last_text:
            return by_pattern
        by_pattern = {}
        owners = self._owners
        for id_ in candidates(text):
            for index, number in owners.get(id_, ()):
                by_pattern.setdefault(index, []).append(number)
        self._last = (text, by_pattern)
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

    def __init__(self, pattern: Pattern | None) -> None:
        self._set = PatternSet([pattern])

    def search(self, text: str, within: str | None = None) -> re.Match[str] | None:
        """The first match in ``text`` (``within``: as for :meth:`PatternSet.search`)."""
        return self._set.search(text, within)[0]

    def sub(self, replacement: str, text: str) -> str:
        """``text`` with every match replaced."""
        return self._set.sub(0, replacement, text)


def _alternatives(pattern: Pattern | None) -> Iterator[tuple[int, str, int]]:
    """``(alternative number, source, flags)`` for a whole pattern or each alternative."""
    if pattern is None:
        return
    if isinstance(pattern, re.Pattern):
        yield WHOLE, pattern.pattern, pattern.flags
        return
    for number, source in enumerate(pattern.alternatives()):
        yield number, source, pattern.flags
