"""Phrase lists shipped in ``auditor/data`` and their case-insensitive patterns.

Lists are plain phrases (``*`` stands for one word) so that districts can extend them in
config without writing regular expressions; a whole list becomes one :class:`Alternation`,
whose alternatives :mod:`auditor.text.scan` runs one by one, finding what the whole list as
one regex would (tested).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

_WORD = r"[\w'’-]+"


@dataclass(frozen=True)
class Alternation:
    """``prefix(?:a|b|...)suffix`` for a list of regex sources, compiled on first use."""

    prefix: str
    sources: tuple[str, ...]
    suffix: str
    flags: int

    @property
    def pattern(self) -> str:
        """The whole regular expression."""
        return self.prefix + "(?:" + "|".join(f"(?:{s})" for s in self.sources) + ")" + self.suffix

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        """The whole alternation, compiled."""
        return re.compile(self.pattern, self.flags)

    def alternatives(self) -> tuple[str, ...]:
        """Each alternative as a whole pattern (with the prefix and suffix), in order."""
        return tuple(f"{self.prefix}(?:{s}){self.suffix}" for s in self.sources)


@cache
def data_file(name: str) -> dict[str, Any]:
    """A TOML data file of the package (``auditor/data/NAME``), parsed once."""
    text = resources.files("auditor").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def phrase_source(phrase: str) -> str:
    """The regex of one phrase: words literal, ``*`` any one word, flexible spacing."""
    parts = [_WORD if w == "*" else re.escape(w) for w in phrase.lower().split()]
    return r"\s+".join(parts)


def compile_phrases(phrases: Iterable[str]) -> Alternation | None:
    """One word-bounded pattern matching any of ``phrases`` (None for an empty list)."""
    by_source = {phrase_source(p): p for p in phrases if p.strip()}
    sources = sorted(by_source, key=len, reverse=True)
    if not sources:
        return None
    return Alternation(r"(?<![\w@])", tuple(sources), r"(?![\w])", re.IGNORECASE)


def compile_regexes(patterns: Iterable[str]) -> Alternation | None:
    """One case-insensitive pattern matching any of the regular expressions given."""
    sources = tuple(p for p in patterns if p.strip())
    if not sources:
        return None
    return Alternation("", sources, "", re.IGNORECASE)


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


# The shortest word also matched spelled out ("s h i t", "F-U-C-K"): shorter ones spelled
# out are too often initials or list markers ("a s s" is rare, "U-S-A" is a chant).
SPELLED_MIN = 4


def spelled_out_source(word: str) -> str | None:
    """A regex for ``word`` spelled out one letter at a time, each letter (possibly
    disguised) followed by one space, dot or hyphen ("s h i t", "F.U.C.K", "b-1-t-c-h");
    None for a phrase or a word shorter than :data:`SPELLED_MIN`."""
    if len(word) < SPELLED_MIN or not word.isalpha():
        return None
    letters = (f"[{re.escape(ch + _DISGUISES.get(ch, ''))}]" for ch in word)
    return r"[ .\-]".join(letters)


def compile_disguised(words: Iterable[str], ignore_case: bool = True) -> Alternation | None:
    """One pattern matching any of ``words`` written plainly, disguised or spelled out, as
    whole words."""
    lowered = [w.lower() for w in words if w.strip()]
    by_source = {disguised_source(w): w for w in lowered}
    by_source |= {s: w for w in lowered if (s := spelled_out_source(w))}
    sources = sorted(by_source, key=len, reverse=True)
    if not sources:
        return None
    flags = re.IGNORECASE if ignore_case else 0
    return Alternation(r"(?<![\w*@$!#])", tuple(sources), r"(?![\w*])", flags)
