"""The jinja2 environment shared by every report: autoescaping on, safe links only, and
the small formatting filters the templates use."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from auditor.reports.theme import DARK, LIGHT

SAFE_SCHEMES = ("http", "https")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9@._+-]+")


def safe_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL, else None: ``javascript:`` never becomes a link."""
    if not value:
        return None
    text = value.strip()
    if any(ord(ch) < 0x21 for ch in text):  # control characters and spaces hide schemes
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return text


def when(value: datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A datetime for people, in the district's time zone; an em dash when unknown."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def day(value: datetime | None, tz: str = "UTC") -> str:
    """Just the date (in the district's time zone)."""
    return when(value, tz, "%Y-%m-%d")


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 page"`` / ``"3 pages"``."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def file_stem(value: str) -> str:
    """A string made safe as a file name (supervisor emails, school names)."""
    stem = _UNSAFE_FILE_CHARS.sub("_", value.strip()).strip("._") or "unnamed"
    return stem[:120]


def join_url(base: str | None, href: str) -> str | None:
    """``href`` (relative to the report folder) under ``reports.base_url``; None if unset."""
    if not base:
        return None
    return safe_url(base.rstrip("/") + "/" + href.lstrip("/"))


@cache
def environment() -> Environment:
    """The shared environment; templates live in ``reports/templates``."""
    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["plural"] = plural
    env.globals["light"] = LIGHT
    env.globals["dark"] = DARK
    return env


@cache
def text_environment() -> Environment:
    """For plain-text templates (email text parts, no HTML escaping applies)."""
    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["plural"] = plural
    return env
