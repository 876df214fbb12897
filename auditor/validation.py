"""Turns pydantic validation errors into short lines that name the field."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "private_key")


def dotted(loc: Sequence[int | str]) -> str:
    """``('pages', 2, 'approved_on')`` -> ``pages[2].approved_on``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def error_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per error: ``prefix + field: message``, with a hint for pasted secrets."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = dotted(err["loc"])
        key = str(err["loc"][-1]) if err["loc"] else ""
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            if any(word in key.lower() for word in SECRET_WORDS):
                msg += f" (secrets are read from environment variables: use {key}_env)"
        elif (
            "input" in err
            and err["type"] != "missing"
            and not key.endswith("_env")  # may be a pasted secret: never echo it
            and _short(err["input"])
        ):
            msg += f" (got {err['input']!r})"
        lines.append(f"{prefix}{loc}: {msg}")
    return lines


def describe_validation_error(exc: ValidationError) -> str:
    """All errors of ``exc`` joined into one line."""
    lines = error_lines(exc)
    more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
    return "; ".join(lines[:3]) + more


def _short(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and len(repr(value)) <= 60
