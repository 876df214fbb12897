"""Masks sensitive values for evidence: the kind of data and a few characters, never all."""

from __future__ import annotations


def mask(value: str) -> str:
    """Hide all but a few characters of ``value``: the last ones of a number, else the first.

    At most a third of the letters and digits (and never more than three) stay visible, so a
    one-letter grade or a short code is hidden entirely.
    """
    chars = [c for c in value if c.isalnum()]
    keep = min(3, len(chars) // 3)
    digits = sum(c.isdigit() for c in chars) > len(chars) / 2
    out = []
    seen = 0
    total = len(chars)
    for c in value:
        if not c.isalnum():
            out.append(c)
            continue
        seen += 1
        visible = seen > total - keep if digits else seen <= keep
        out.append(c if visible else "•")
    return "".join(out)


def masked(kind: str, value: str) -> str:
    """Evidence text for sensitive data: ``phone number (•••-•••-•867)``."""
    return f"{kind} ({mask(value.strip())})"
