"""Phrase lists shipped in ``auditor/data`` and their compiled, case-insensitive patterns.

Lists are plain phrases (``*`` stands for one word) so that districts can extend them in
config without writing regular expressions; a whole list compiles to one alternation.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

_WORD = r"[\w'’-]+"
# Pattern -> (prefix, alternatives, suffix) of the alternations compiled here, so that
# auditor.text.scan can prefilter and run each alternative on its own.
_PARTS: dict[re.Pattern[str], tuple[str, tuple[str, ...], str]] = {}


@cache
def data_file(name: str) -> dict[str, Any]:
    """A TOML data file of the package (``auditor/data/NAME``), parsed once."""
    text = resources.files("auditor").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def phrase_source(phrase: str) -> str:
    """The regex of one phrase: words literal, ``*`` any one word, flexible spacing."""
    parts = [_WORD if w == "*" else re.escape(w) for w in phrase.lower().split()]
    return r"\s+".join(parts)


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One word-bounded pattern matching any of ``phrases`` (None for an empty list)."""
    sources = sorted({phrase_source(p) for p in phrases if p.strip()}, key=len, reverse=True)
    if not sources:
        return None
    return _alternation(r"(?<![\w@])", sources, r"(?![\w])", re.IGNORECASE)


def compile_regexes(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of the regular expressions given."""
    sources = [p for p in patterns if p.strip()]
    if not sources:
        return None
    return _alternation("", sources, "", re.IGNORECASE)


def _alternation(prefix: str, sources: list[str], suffix: str, flags: int) -> re.Pattern[str]:
    """``prefix(?:a|b|...)suffix``, remembering its parts (see :func:`alternatives`)."""
    pattern = re.compile(prefix + "(?:" + "|".join(f"(?:{s})" for s in sources) + ")" + suffix, flags)
    _PARTS[pattern] = (prefix, tuple(sources), suffix)
    return pattern


def alternatives(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Each alternative of an alternation compiled here as a whole pattern source (with the
    shared prefix and suffix), in order; None for any other pattern."""
    parts = _PARTS.get(pattern)
    if parts is None:
        return None
    prefix, sources, suffix = parts
    return tuple(f"{prefix}(?:{s}){suffix}" for s in sources)


# Characters that stand in for a letter when a word is disguised ("f*ck", "sh1t", "a$$").
_DISGUISES = {
    "a": "@4",
    "e": "3",
    "i": "1!|",
    "o": "0",
    "s": "$5",
    "t": "7",
    "u": "v",
    "g": "9",
    "l": "1!|",
}
_MASK_CHARS = "*#_"


def disguised_source(word: str) -> str:
    """A regex for ``word`` where any letter after the first may be disguised or starred."""
    parts = [re.escape(word[0])]
    for ch in word[1:]:
        if not ch.isalpha():
            parts.append(r"\s+" if ch == " " else re.escape(ch))
            continue
        alternatives = re.escape(ch + _DISGUISES.get(ch, "") + _MASK_CHARS)
        parts.append(f"[{alternatives}]")
    return "".join(parts)


def compile_disguised(words: Iterable[str], ignore_case: bool = True) -> re.Pattern[str] | None:
    """One pattern matching any of ``words`` written plainly or disguised, as whole words."""
    sources = sorted(
        {disguised_source(w.lower()) for w in words if w.strip()}, key=len, reverse=True
    )
    if not sources:
        return None
    flags = re.IGNORECASE if ignore_case else 0
    return _alternation(r"(?<![\w*@$!#])", sources, r"(?![\w*])", flags)
