"""Translates a Python regular expression into RE2 syntax that matches at least the same
texts, for the RE2 set that :mod:`auditor.text.scan` uses as a prefilter.

RE2 has no lookarounds, and its ``\\b``, ``\\w``, ``\\d`` and ``\\s`` are ASCII-only, so the
translation is deliberately looser than the original: zero-width assertions (lookarounds,
word boundaries, anchors) are dropped, ``\\w``/``\\d``/``\\s`` become Unicode classes that
hold every character Python's do, negated categories and ``.`` match any character, and
negated classes are case-sensitive. Whatever the Python pattern matches, the translation
matches somewhere in the same text (and in any text holding it); Python's ``re`` then gives
the exact answer.
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
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


class Untranslatable(ValueError):
    """A construct RE2 cannot express even loosely (a backreference, say)."""


def to_re2(source: str, flags: int = 0) -> str:
    """An RE2 pattern matching, somewhere in a text, wherever ``source`` matches in it."""
    try:
        parsed = _parser.parse(source, flags)
    except re.error as exc:
        raise Untranslatable(str(exc)) from exc
    ignore_case = bool(parsed.state.flags & re.IGNORECASE)
    return ("(?i)" if ignore_case else "") + _sequence(parsed, ignore_case)


def _sequence(items: Any, ignore_case: bool) -> str:
    return "".join(_node(op, av, ignore_case) for op, av in items)


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
