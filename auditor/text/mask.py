"""Masks sensitive values for evidence: the kind of data and a few characters, never all."""

from __future__ import annotations

import re

# A letter or digit (``str.isalnum``): a word character that is not the underscore.
_ALNUM_RE = re.compile(r"[^\W_]")


def mask(value: str) -> str:
    """Hide all but a few characters of ``value``: the last ones of a number, else the first.

    At most a third of the letters and digits (and never more than three) stay visible, so a
    one-letter grade or a short code is hidden entirely.
    """
    positions = [m.start() for m in _ALNUM_RE.finditer(value)]
    total = len(positions)
    keep = min(3, total // 3)
    if not keep:
        return _ALNUM_RE.sub("•", value)
    if sum(map(str.isdigit, value)) > total / 2:  # a number: its last characters show
        cut = positions[total - keep]
        return _ALNUM_RE.sub("•", value[:cut]) + value[cut:]
    cut = positions[keep - 1] + 1
    return value[:cut] + _ALNUM_RE.sub("•", value[cut:])


def masked(kind: str, value: str) -> str:
    """Evidence text for sensitive data: ``phone number (•••-•••-•867)``."""
    return f"{kind} ({mask(value.strip())})"
