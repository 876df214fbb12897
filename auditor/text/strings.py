"""One index of the required strings of every pattern set, searched once per text.

Each detector's :class:`auditor.text.scan.PatternSet` registers the strings its patterns
need (see :mod:`auditor.text.literals`), and a text is searched for all of them with
Aho-Corasick (pyahocorasick) after case folding. Strings of words and spaces are searched
for in the text with every character that is not a word character turned into a space, a
:data:`BOUNDARY` written as a space too: "st" as a whole word is " st ", which "first" does
not hold. Other strings ("f*ck", "50/50") are searched for in the text as it is, boundaries
left out. Either way the index finds at least the strings that occur, which is all a
prefilter needs. Answers are kept for the last texts, so the rules reading one post share
the work.
"""

from __future__ import annotations

from functools import lru_cache

import ahocorasick

from auditor.text.literals import BOUNDARY, is_word_char


class _Spaces(dict[int, str]):
    """``str.translate`` table: a word character stays, any other becomes a space."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        self[code] = char if is_word_char(char) else " "
        return self[code]


SPACES = _Spaces()  # shared with the profanity model's word split
_IDS: dict[str, int] = {}  # registered string -> id
# String as searched for -> ids, in the spaced text (words and spaces) or the folded text.
_SPACED: dict[str, set[int]] = {}
_LITERAL: dict[str, set[int]] = {}
_automata: tuple[ahocorasick.Automaton | None, ahocorasick.Automaton | None] | None = None


def register(string: str) -> int:
    """The id of a required string (case-folded, with :data:`BOUNDARY` marks at its ends)."""
    global _automata
    if string not in _IDS:
        _IDS[string] = len(_IDS)
        spaced = string.replace(BOUNDARY, " ")
        if spaced.translate(SPACES) == spaced:
            _SPACED.setdefault(spaced, set()).add(_IDS[string])
        else:
            _LITERAL.setdefault(string.replace(BOUNDARY, ""), set()).add(_IDS[string])
        _automata = None  # rebuilt on the next search
    return _IDS[string]


def _automaton(keys: dict[str, set[int]]) -> ahocorasick.Automaton | None:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, ids in keys.items():
        automaton.add_word(key, tuple(ids))
    automaton.make_automaton()
    return automaton


def present(text: str) -> frozenset[int]:
    """Ids of registered strings that may occur in ``text`` (all those that do, and a few
    more)."""
    global _automata
    if _automata is None:
        _automata = (_automaton(_SPACED), _automaton(_LITERAL))
        _present.cache_clear()
    return _present(text)


def spaced(text: str) -> str:
    """``text`` case-folded, each character that is not a word character a space, with a
    space at each end (kept for the last texts, like :func:`present`)."""
    return _spaced(text)[1]


@lru_cache(maxsize=512)
def _spaced(text: str) -> tuple[str, str]:
    """``(folded, spaced)`` forms of a text, shared by the index and the profanity model."""
    folded = text.casefold()
    return folded, " " + folded.translate(SPACES) + " "


@lru_cache(maxsize=512)
def _present(text: str) -> frozenset[int]:
    assert _automata is not None
    spaced_automaton, literal_automaton = _automata
    folded, spaced_text = _spaced(text)
    found: set[int] = set()
    if spaced_automaton is not None:
        for _, ids in spaced_automaton.iter(spaced_text):
            found.update(ids)
    if literal_automaton is not None:
        for _, ids in literal_automaton.iter(folded):
            found.update(ids)
    return frozenset(found)
