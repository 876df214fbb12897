"""Translates a Python regular expression into RE2 syntax that matches at least the same
texts, for the RE2 set that :mod:`auditor.text.scan` uses as a prefilter.

RE2 has no lookarounds, and its ``\\b``, ``\\w``, ``\\d`` and ``\\s`` are ASCII-only, so the
translation is deliberately looser than the original: zero-width assertions are dropped
(except a word boundary beside a letter or digit whose case partners are all ASCII, and a
lookahead that ends the stretch, whose text follows), ``\\w``/``\\d``/``\\s`` become Unicode
classes that hold every character Python's do, negated categories and ``.`` match any
character, and negated classes are case-sensitive. Long repetitions of
letters (``\\w+``, ``[^.!?]{0,40}``) are cut out too, keeping the most selective stretch of
the pattern between them: hundreds of such loops in one set make RE2's automaton grow with
every new text (about 200 µs a post). Whatever the Python pattern matches, the translation
matches somewhere in the same text (and in any text holding it); Python's ``re`` then gives
the exact answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as c  # type: ignore[attr-defined]  # the node kinds _parse gives
from typing import Any

# Unicode classes holding every character of Python's \w, \d and \s (tested on every code
# point); marks are added to \w as they cost nothing and cover Unicode versions.
_CATEGORIES = {
    c.CATEGORY_WORD: r"\p{L}\p{N}\p{M}_",
    c.CATEGORY_DIGIT: r"\p{N}",
    c.CATEGORY_SPACE: r"\t-\r\x{1c}-\x{20}\x{85}\p{Z}",
}
# A negated class holding \W, \D or \S ("[^\W\d_]": letters) only has characters of
# \w, \d or \s.
_INSIDE_OF = {
    c.CATEGORY_NOT_WORD: c.CATEGORY_WORD,
    c.CATEGORY_NOT_DIGIT: c.CATEGORY_DIGIT,
    c.CATEGORY_NOT_SPACE: c.CATEGORY_SPACE,
}
_ANY = r"(?s:.)"
# Characters Python's IGNORECASE takes for a letter and RE2's case folding does not
# (found by comparing the two on every code point): the dotted and dotless Turkish i.
_PYTHON_CASES = {"i": "\u0130\u0131"}
_MAX_COUNT = 1000  # RE2's largest repetition count
_SHORT = 4  # a repetition of at most this many of anything stays in the translation
_NARROW = (c.CATEGORY_SPACE, c.CATEGORY_DIGIT)  # what a longer repetition may repeat
_ZERO_WIDTH = (c.AT, c.ASSERT, c.ASSERT_NOT)
_REPEATS = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)


class Untranslatable(ValueError):
    """A construct RE2 cannot express even loosely (a backreference, say)."""


def to_re2(source: str, flags: int = 0) -> str:
    """An RE2 pattern matching, somewhere in a text, wherever ``source`` matches in it: the
    pattern's most selective stretch without long repetitions of letters."""
    items, ignore_case = _parse(source, flags)
    return _stretch(items, ignore_case)


def _parse(source: str, flags: int) -> tuple[list[Any], bool]:
    """The nodes of a Python regular expression, and whether it ignores case.

    Python has no public parser of its regular expression syntax (``sre_parse`` is a
    deprecated alias of this one), and a translation must read the pattern exactly as
    ``re`` does, so the private ``re._parser`` is used here and only here. The tests
    compare the translations with ``re`` on every code point and every corpus post, so a
    Python that parses differently shows there.
    """
    from re import _parser  # type: ignore[attr-defined]

    try:
        parsed = _parser.parse(source, flags)
    except re.error as exc:
        raise Untranslatable(str(exc)) from exc
    return list(parsed), bool(parsed.state.flags & re.IGNORECASE)


def _stretch(items: list[Any], ignore_case: bool) -> str:
    """The most selective stretch of a sequence with no long repetition of letters: every
    match of the sequence holds a match of it. A lone group or alternation is looked
    into."""
    consuming = [i for i, (op, _) in enumerate(items) if op not in _ZERO_WIDTH]
    if len(consuming) == 1:
        at = consuming[0]
        op, av = items[at]
        if op == c.SUBPATTERN and not av[1] and not av[2]:  # no flags: its nodes in its place
            return _stretch([*items[:at], *av[3], *items[at + 1 :]], ignore_case)
        if op == c.SUBPATTERN:
            _, add, remove, inner = av
            inner_case = bool(add & re.IGNORECASE) or (ignore_case and not remove & re.IGNORECASE)
            return _stretch(list(inner), inner_case)
        if op == c.ATOMIC_GROUP:
            return _stretch(list(av), ignore_case)
        if op == c.BRANCH:
            alternatives = (_stretch(list(alt), ignore_case) for alt in av[1])
            return "(?:" + "|".join(alternatives) + ")"
    runs: list[list[Any]] = []
    run: list[Any] = []
    for item in [*items, None]:
        if item is not None and not _has_long_loop(*item):
            run.append(item)
            continue
        if item is not None:  # a match of the loop starts with its lead and ends with its trail
            run += _edge(*item, lead=True)
        runs.append(run)
        run = _edge(*item, lead=False) if item is not None else []
    runs.sort(key=lambda r: (_score(r), _min_width(r)), reverse=True)
    if not _min_width(runs[0]):
        raise Untranslatable("every part of the pattern is a long repetition")
    return _render(_trimmed(runs[0]), ignore_case)


def _trimmed(run: list[Any]) -> list[Any]:
    """A stretch without the classes of letters it starts with (``\\w family`` becomes
    `` family``), if a literal character is left: a pattern that may start at almost any
    character makes RE2's automaton grow fastest."""
    start = 0
    while start < len(run) and (run[start][0] in _ZERO_WIDTH or _lettered(*run[start])):
        start += 1
    if not any(op not in _ZERO_WIDTH for op, _ in run[:start]):
        return run  # it starts with a few characters already: its assertions stay
    rest = run[start:]
    return rest if _score(rest) >= 1.0 else run


def _render(run: list[Any], ignore_case: bool) -> str:
    """A stretch in RE2 syntax."""
    return ("(?i:" if ignore_case else "(?-i:") + _sequence(run, ignore_case) + ")"


def _lettered(op: Any, av: Any) -> bool:
    """Whether a node starts with one of many letters (``\\w``, ``[a-z]``, ``.``)."""
    if op in (c.ANY, c.NOT_LITERAL):
        return True
    if op == c.IN:
        chars = _chars([(op, av)], first=True)
        if chars is not None:
            return sum(ch.isalpha() for ch in chars) > 3
        return any(
            kind in (c.NEGATE, c.RANGE) or (kind, value) == (c.CATEGORY, c.CATEGORY_WORD)
            for kind, value in av
        )
    if op in _REPEATS:
        body = list(av[2])
        return bool(body) and _lettered(*body[0])
    return False


def _edge(op: Any, av: Any, lead: bool) -> list[Any]:
    """Nodes every match of a node holding a long loop starts (``lead``) or ends with."""
    if op in _REPEATS:  # its first (last) few repetitions, or a long loop's edge in one
        low, _, body = av
        items = list(body)
        if any(_has_long_loop(*i) for i in items):
            return _edges(items, lead) if low else []
        return items * min(low, _SHORT)
    if op == c.SUBPATTERN:
        group, add, remove, items = av
        return [(op, (group, add, remove, _edges(list(items), lead)))]
    if op == c.ATOMIC_GROUP:
        return _edges(list(av), lead)
    if op == c.BRANCH:
        return [(op, (None, [_edges(list(alt), lead) for alt in av[1]]))]
    return []


def _edges(items: list[Any], lead: bool) -> list[Any]:
    """The nodes of a sequence before its first long loop (``lead``) or after its last one,
    with that loop's own edge."""
    ordered = items if lead else items[::-1]
    kept: list[Any] = []
    for item in ordered:
        if _has_long_loop(*item):
            kept += _edge(*item, lead)[:: 1 if lead else -1]
            break
        kept.append(item)
    return kept if lead else kept[::-1]


def _has_long_loop(op: Any, av: Any) -> bool:
    """Whether a node repeats something other than spaces or digits more than a few times."""
    if op in _REPEATS:
        low, high, body = av
        long = high > _SHORT and low != high and not _narrow(body)
        return long or any(_has_long_loop(*i) for i in body)
    if op == c.SUBPATTERN:
        return any(_has_long_loop(*i) for i in av[-1])
    if op == c.ATOMIC_GROUP:
        return any(_has_long_loop(*i) for i in av)
    if op == c.BRANCH:
        return any(_has_long_loop(*i) for alt in av[1] for i in alt)
    return False


def _narrow(body: Any) -> bool:
    """Whether a repeated body is one space or digit (``\\s``, ``\\d``, ``[0-9]``)."""
    items = list(body)
    if len(items) != 1 or items[0][0] != c.IN:
        return False
    return all(
        (op == c.CATEGORY and av in _NARROW) or (op == c.RANGE and av == (48, 57))
        for op, av in items[0][1]
    )


def _score(items: Any) -> float:
    """How selective a stretch is: the characters it must match, classes counting less."""
    return _measure(items, _selectivity)


def _min_width(items: Any) -> float:
    """The fewest characters a sequence of nodes matches."""
    return _measure(items, lambda op, av: 1.0)


def _selectivity(op: Any, av: Any) -> float:
    """What one character node adds to a stretch's score."""
    if op == c.LITERAL:
        return 0.5 if chr(av).isspace() else 1.0
    if op == c.IN:
        chars = _chars([(op, av)], first=True)
        return 0.8 if chars is not None and len(chars) <= 3 else 0.2
    return 0.0


def _measure(items: Any, weight: Callable[[Any, Any], float]) -> float:
    """The sum of ``weight`` over the characters every match of a sequence must hold."""
    total = 0.0
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN):
            total += weight(op, av)
        elif op == c.SUBPATTERN:
            total += _measure(av[-1], weight)
        elif op == c.ATOMIC_GROUP:
            total += _measure(av, weight)
        elif op == c.BRANCH:
            total += min(_measure(alt, weight) for alt in av[1])
        elif op in _REPEATS:
            total += av[0] * _measure(av[2], weight)
    return total


def _sequence(items: Any, ignore_case: bool) -> str:
    items = list(items)
    return "".join(
        _zero_width(items, at, ignore_case) if op in _ZERO_WIDTH else _node(op, av, ignore_case)
        for at, (op, av) in enumerate(items)
    )


def _zero_width(items: list[Any], at: int, ignore_case: bool) -> str:
    """RE2 for a zero-width node: a safe ``\\b``; the content of a lookahead that ends the
    stretch (or a lookbehind that starts it), which the text holds right there; else nothing."""
    op, av = items[at]
    if _word_boundary(items, at):
        return r"\b"
    if op == c.ASSERT and not any(_has_long_loop(*i) for i in av[1]):
        rest = items[at + 1 :] if av[0] > 0 else items[:at]
        if all(i[0] in _ZERO_WIDTH for i in rest):
            return "(?:" + _sequence(av[1], ignore_case) + ")"
    return ""


def _word_boundary(items: list[Any], at: int) -> bool:
    """Whether the zero-width node at ``at`` (``\\b``, ``(?<![\\w@])``, ``(?![\\w])``) may
    become RE2's ASCII ``\\b``: where Python sees a word boundary next to a letter or digit
    that has no non-ASCII case partner (not i, k or s), RE2 sees one too."""
    op, av = items[at]
    before = next((i for i in reversed(items[:at]) if i[0] not in _ZERO_WIDTH), None)
    after = next((i for i in items[at + 1 :] if i[0] not in _ZERO_WIDTH), None)
    if op == c.AT and av == c.AT_BOUNDARY:
        return _safe(after, first=True) or _safe(before, first=False)
    if op == c.ASSERT_NOT and _holds_word(av[1]):
        return _safe(after, first=True) if av[0] < 0 else _safe(before, first=False)
    return False


def _holds_word(lookaround: Any) -> bool:
    """Whether a lookaround's content is one class holding ``\\w``."""
    items = list(lookaround)
    return len(items) == 1 and items[0][0] == c.IN and (c.CATEGORY, c.CATEGORY_WORD) in items[0][1]


def _safe(item: Any, first: bool) -> bool:
    """Whether a node always starts (``first``) or ends with an ASCII letter or digit whose
    case partners are ASCII too."""
    chars = _chars([item], first) if item is not None else None
    return bool(chars) and all(
        ch.isascii() and ch.isalnum() and ch.lower() not in "iks" for ch in chars
    )


def _chars(items: list[Any], first: bool) -> frozenset[str] | None:
    """The characters a sequence's matches can start (``first``) or end with, if few."""
    ordered = items if first else items[::-1]
    for op, av in ordered:
        if op in _ZERO_WIDTH:
            continue
        if op == c.LITERAL:
            return frozenset(chr(av))
        if op == c.IN:
            found: set[str] = set()
            for kind, value in av:
                if kind == c.LITERAL:
                    found.add(chr(value))
                elif kind == c.RANGE and value[1] - value[0] < 64:
                    found.update(map(chr, range(value[0], value[1] + 1)))
                else:
                    return None
            return frozenset(found)
        if op == c.SUBPATTERN:
            return _chars(list(av[-1]), first)
        if op == c.ATOMIC_GROUP:
            return _chars(list(av), first)
        if op == c.BRANCH:
            alternatives = [_chars(list(alt), first) for alt in av[1]]
            if any(a is None for a in alternatives):
                return None
            return frozenset().union(*alternatives)  # type: ignore[arg-type]
        if op in _REPEATS and av[0] >= 1:
            return _chars(list(av[2]), first)
        return None
    return None


def _node(op: Any, av: Any, ignore_case: bool) -> str:
    if op == c.LITERAL:
        extra = _extra_cases(av, av) if ignore_case else ""
        return "[" + _char(av) + extra + "]" if extra else _char(av)
    if op == c.NOT_LITERAL:
        return "(?-i:[^" + _char(av) + "])"
    if op == c.ANY:
        return _ANY
    if op == c.IN:
        return _class(av, ignore_case)
    if op == c.BRANCH:
        return "(?:" + "|".join(_sequence(alt, ignore_case) for alt in av[1]) + ")"
    if op == c.SUBPATTERN:
        _, add, remove, items = av
        flag = "i" if add & re.IGNORECASE else "-i" if remove & re.IGNORECASE else ""
        inner = bool(add & re.IGNORECASE) or (ignore_case and not remove & re.IGNORECASE)
        return f"(?{flag}:" + _sequence(items, inner) + ")"
    if op == c.ATOMIC_GROUP:
        return "(?:" + _sequence(av, ignore_case) + ")"
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return _repeat(*av, ignore_case=ignore_case)
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return ""  # zero-width: dropping it only widens the pattern
    raise Untranslatable(f"no RE2 form for {op}")


def _char(code: int) -> str:
    """One character: letters and digits as they are, anything else escaped by code."""
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


def _extra_cases(low: int, high: int) -> str:
    """Escaped characters that Python's IGNORECASE adds to the range ``low``-``high``."""
    extra = {
        e
        for letter, cases in _PYTHON_CASES.items()
        for e in cases
        if any(low <= ord(x) <= high for x in (letter, letter.upper()))
    }
    return "".join(_char(ord(e)) for e in sorted(extra))


def _class(items: Any, ignore_case: bool) -> str:
    negated = bool(items) and items[0][0] == c.NEGATE
    inside = [_INSIDE_OF[av] for op, av in items if op == c.CATEGORY and av in _INSIDE_OF]
    if negated and inside:
        return "[" + _CATEGORIES[inside[0]] + "]"
    parts = []
    for op, av in items[1:] if negated else items:
        if op == c.LITERAL:
            parts.append(_char(av) + (_extra_cases(av, av) if ignore_case else ""))
        elif op == c.RANGE:
            extra = _extra_cases(*av) if ignore_case else ""
            parts.append(_char(av[0]) + "-" + _char(av[1]) + extra)
        elif op == c.CATEGORY and av in _CATEGORIES and not negated:
            parts.append(_CATEGORIES[av])
        else:  # \W, \D, \S, or a category in a negated class: any character will do
            return _ANY
    if negated:  # case-sensitive: it then excludes fewer characters than Python's
        return "(?-i:[^" + "".join(parts) + "])"
    return "[" + "".join(parts) + "]"


def _repeat(low: int, high: int, items: Any, ignore_case: bool) -> str:
    body = "(?:" + _sequence(items, ignore_case) + ")"
    low = min(low, _MAX_COUNT)
    if high == c.MAXREPEAT or high > _MAX_COUNT:
        return body + ("*" if low == 0 else "+" if low == 1 else f"{{{low},}}")
    return body + (f"{{{low}}}" if low == high else f"{{{low},{high}}}")
