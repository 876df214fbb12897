"""A ``str.translate`` table that maps each character by a rule, filled in as characters
are met (a table of every code point would cost a second to build)."""

from __future__ import annotations

from collections.abc import Callable


class CharMap(dict[int, str]):
    """``str.translate`` table: each character becomes ``rule(character)``."""

    def __init__(self, rule: Callable[[str], str]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, code: int) -> str:
        self[code] = self._rule(chr(code))
        return self[code]
