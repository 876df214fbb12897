"""The jinja2 environment shared by every report: autoescaping on, safe links only."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SAFE_SCHEMES = ("http", "https")


def safe_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL, else None: ``javascript:`` never becomes a link."""
    if not value:
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return text


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A datetime for people; an em dash when unknown."""
    return value.strftime(fmt) if value else "—"


@cache
def environment() -> Environment:
    """The shared environment; templates live in ``reports/templates``."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = when
    return env
