"""Masks sensitive values for evidence: the kind of data and a few characters, never all."""

from __future__ import annotations

from auditor.text.chars import CharMap

_DOTS = CharMap(lambda char: "•" if char.isalnum() else char)  # letters and digits hidden


def mask(value: str) -> str:
    """Hide all but a few characters of ``value``: the last ones of a number, else the first.

    At most a third of the letters and digits (and never more than three) stay visible, so a
    one-letter grade or a short code is hidden entirely.
    """
    positions = [i for i, char in enumerate(value) if char.isalnum()]
    total = len(positions)
    keep = min(3, total // 3)
    if not keep:
        return value.translate(_DOTS)
    if sum(map(str.isdigit, value)) > total / 2:  # a number: its last characters show
        cut = positions[total - keep]
        return value[:cut].translate(_DOTS) + value[cut:]
    cut = positions[keep - 1] + 1
    return value[:cut] + value[cut:].translate(_DOTS)


def masked(kind: str, value: str) -> str:
    """Evidence text for sensitive data: ``phone number (•••-•••-•867)``."""
    return f"{kind} ({mask(value.strip())})"
