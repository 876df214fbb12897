"""Finds, for a regular expression, a few strings one of which occurs in every match.

This is the prefilter of :mod:`auditor.text.scan` (the idea of RE2's ``FilteredRE2``): a text
that contains none of a pattern's required strings cannot match it, so the pattern is
not run. Strings are case-folded, which keeps the set valid for case-insensitive patterns.
A string may start or end with :data:`BOUNDARY` where the pattern puts a word boundary
(``\\b``, ``(?<![\\w@])``, ``(?!\\w)``) next to a word character: such a string only counts
as a whole word, so "st" in a street pattern is not looked for inside "first".
"""

from __future__ import annotations

from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

BOUNDARY = "\x00"  # in a required string: no word character lies beyond this end
Strings = frozenset[str]
# (every string the node can match, if few; strings one of which is in every match)
Analysis = tuple[Strings | None, Strings | None]

MAX_STRINGS = 64  # largest set of alternatives expanded before giving up on exactness
MAX_CLASS = 8  # largest character class expanded into its characters
_EMPTY: Strings = frozenset({""})
_ANY: Analysis = (None, None)


def required_strings(source: str, flags: int = 0) -> Strings | None:
    """Case-folded strings one of which is in every match of the regular expression
    ``source`` (None: none known)."""
    exact, factor = _sequence(_parser.parse(source, flags))
    best = _best(exact, factor)
    return _minimal(frozenset(map(_edges, best))) if best else None


def is_word_char(char: str) -> bool:
    """Whether ``re`` counts ``char`` as a word character (``\\w``)."""
    return char.isalnum() or char == "_"


def _edges(string: str) -> str:
    """A string with the boundaries that matter kept: at its ends, next to a word character."""
    core = string.replace(BOUNDARY, "")
    if not core:
        return ""
    left = BOUNDARY if string[0] == BOUNDARY and is_word_char(core[0]) else ""
    right = BOUNDARY if string[-1] == BOUNDARY and is_word_char(core[-1]) else ""
    return left + core + right


def _minimal(strings: Strings | None) -> Strings | None:
    """``strings`` without those containing another one (None if one is empty)."""
    if not strings or "" in strings:
        return None
    kept: set[str] = set()
    lengths: set[int] = set()
    for s in sorted(strings, key=len):
        if not any(s[i : i + n] in kept for n in lengths for i in range(len(s) - n + 1)):
            kept.add(s)
            lengths.add(len(s))
    return frozenset(kept)


def _score(strings: Strings | None) -> tuple[int, int]:
    """How selective a required set is: longer shortest string (a boundary counts half a
    character) first, then fewer strings."""
    cores = [s.replace(BOUNDARY, "") for s in strings or ()]
    if not cores or not all(cores):
        return (-1, 0)
    shortest = min(len(s) + len(core) for s, core in zip(strings or (), cores, strict=True))
    return (shortest, -len(cores))


def _best(*sets: Strings | None) -> Strings | None:
    best = max(sets, key=_score)
    return best if _score(best)[0] > 0 else None


def _product(left: Strings, right: Strings) -> Strings | None:
    if len(left) * len(right) > MAX_STRINGS:
        return None
    return frozenset(a + b for a in left for b in right)


def _sequence(items: Any) -> Analysis:
    """A concatenation: adjacent exact parts combine; the best required set wins."""
    run: Strings = _EMPTY  # exact strings of the current run of exact items
    exact = True
    candidates: list[Strings | None] = []
    for item in items:
        node_exact, node_factor = _node(*item)
        candidates.append(node_factor)
        joined = _product(run, node_exact) if node_exact is not None else None
        if joined is not None:
            run = joined
            continue
        exact = False
        if node_exact is None:  # a word boundary lies beside a node edged with non-word
            before, after = _non_word_edge(*item, 0), _non_word_edge(*item, -1)
            candidates.append(frozenset(r + BOUNDARY for r in run) if before else run)
            run = frozenset({BOUNDARY}) if after else _EMPTY
            continue
        candidates.append(run)
        run = node_exact if node_exact is not None else _EMPTY
    candidates.append(run)
    return (run if exact else None), _best(*candidates)


def _node(op: Any, av: Any) -> Analysis:
    if op == c.LITERAL:
        return frozenset({chr(av).casefold()}), None
    if op == c.IN:
        return _char_class(av), None
    if (op == c.AT and av == c.AT_BOUNDARY) or (op == c.ASSERT_NOT and _is_not_word(av[1])):
        return frozenset({BOUNDARY}), None
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return _EMPTY, None  # zero-width: constrains, never consumes
    if op == c.SUBPATTERN:
        return _sequence(av[-1])
    if op == c.ATOMIC_GROUP:
        return _sequence(av)
    if op == c.BRANCH:
        return _branch(av[1])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return _repeat(*av)
    return _ANY


def _non_word_edge(op: Any, av: Any, side: int) -> bool:
    """Whether every match of a node starts (``side`` 0) or ends (-1) with a character that
    is not a word character, such as ``\\s+`` or ``(?:\\w+\\s+){1,3}`` at its end."""
    if op == c.LITERAL:
        return not is_word_char(chr(av))
    if op == c.IN:
        return all(
            (kind == c.CATEGORY and value == c.CATEGORY_SPACE)
            or (kind == c.LITERAL and not is_word_char(chr(value)))
            for kind, value in av
        )
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return av[0] >= 1 and _non_word_sequence_edge(av[2], side)
    if op == c.SUBPATTERN:
        return _non_word_sequence_edge(av[-1], side)
    if op == c.BRANCH:
        return all(_non_word_sequence_edge(alt, side) for alt in av[1])
    return False


def _non_word_sequence_edge(items: Any, side: int) -> bool:
    consuming = [item for item in items if item[0] not in (c.AT, c.ASSERT, c.ASSERT_NOT)]
    return bool(consuming) and _non_word_edge(*consuming[side], side)


def _is_not_word(lookaround: Any) -> bool:
    """Whether a negative lookaround's content is a class holding ``\\w``."""
    items = list(lookaround)
    return len(items) == 1 and items[0][0] == c.IN and (c.CATEGORY, c.CATEGORY_WORD) in items[0][1]


def _char_class(items: Any) -> Strings | None:
    chars: set[str] = set()
    for op, av in items:
        if op == c.LITERAL:
            chars.add(chr(av).casefold())
        elif op == c.RANGE and av[1] - av[0] < MAX_CLASS:
            chars.update(chr(x).casefold() for x in range(av[0], av[1] + 1))
        else:
            return None
    return frozenset(chars) if len(chars) <= MAX_CLASS else None


def _branch(alternatives: Any) -> Analysis:
    analyses = [_sequence(alt) for alt in alternatives]
    exact: Strings | None = frozenset()
    for node_exact, _ in analyses:
        exact = exact | node_exact if exact is not None and node_exact is not None else None
    if exact is not None and len(exact) > MAX_STRINGS:
        exact = None
    required = [_best(e, f) for e, f in analyses]
    factor = frozenset().union(*required) if all(required) else None  # type: ignore[arg-type]
    return exact, factor


def _repeat(low: int, high: int, item: Any) -> Analysis:
    item_exact, item_factor = _sequence(item)
    factor = _best(item_exact, item_factor) if low >= 1 else None
    if item_exact is None or high > 4:
        return None, factor
    options: set[str] = set()
    power: Strings = _EMPTY
    for count in range(high + 1):
        if count >= low:
            options.update(power)
        if count < high:
            joined = _product(power, item_exact)
            if joined is None:
                return None, factor
            power = joined
    return (frozenset(options) if len(options) <= MAX_STRINGS else None), factor
