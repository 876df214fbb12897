"""The jinja2 environment shared by every report: autoescaping on, safe links only, no
bidi control in any output (platform text is isolated in ``<bdi>`` instead), and the small
formatting filters the templates use."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from markupsafe import Markup, escape

from auditor.reports.theme import DARK, LIGHT

SAFE_SCHEMES = ("http", "https")
# Control characters and spaces: a browser skips them in " javascript:..." or "java\tscript:".
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20]")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9@._+-]+")
# The characters with the Unicode Bidi_Control property: an override (U+202E) or embedding
# in platform text would reorder the text after it, e.g. the addresses beside a page name.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))
_HAS_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi(value: str) -> str:
    """``value`` without bidi controls, for outputs that cannot isolate text (plain text,
    CSV, email subjects, HTML titles)."""
    if value.isascii() or not _HAS_BIDI.search(value):  # a search is cheaper than translate
        return value
    return value.translate(_NO_BIDI)


class Finished(Markup):
    """Markup already through ``finalize`` (a page's section, filled in: see
    ``reports.pieces``), passed on as it is rather than scanned again."""


class Hole(Finished):
    """A hole's marker in a rendered report piece (``reports.pieces``): the one value
    that may hold a NUL."""


NUL, REPLACEMENT = "\x00", "\ufffd"  # a NUL in text, and what HTML parsers read it as


def _no_bidi(value: object) -> object:
    """``finalize`` of both environments: no ``{{ }}`` value puts a bidi control in a
    document, whatever the template does with it, nor a NUL (it marks the holes of a
    report piece; HTML parsers read it as U+FFFD, which it is replaced by)."""
    if not isinstance(value, str) or isinstance(value, Finished):
        return value
    if NUL in value:
        value = type(value)(value.replace(NUL, REPLACEMENT))
    if value.isascii():  # ASCII cannot hold a bidi control
        return value
    if isinstance(value, Markup):
        return Markup(strip_bidi(str(value)))
    return strip_bidi(value)


def bdi(value: object) -> Markup:
    """Text from a platform or the register as ``<bdi>``: right-to-left text in it cannot
    move the text beside it (the owner's and supervisor's addresses next to a page name)."""
    return Markup(f"<bdi>{escape(value)}</bdi>")


def html(value: object) -> Markup:
    """A value as a template's ``{{ }}`` writes it: through ``finalize``, then escaped."""
    return escape(_no_bidi(value))


@lru_cache(maxsize=4096)
def _settled_html(title: str, rule: str, message: str) -> Finished:
    """A settled rule's row after its badges (``_settled.html.j2``), rendered once for all
    the pages where it reads the same (most passing rules' messages do)."""
    template = environment().get_template("_settled.html.j2")
    return Finished(template.render(title=title, rule=rule, message=message))


@lru_cache(maxsize=4096)
def _settled_badge(rule: str, status: str) -> str:
    """A settled row's id after its page's, and its status badge."""
    return f'{html(rule)}"><span class="badge s-{html(status)}">{html(status.upper())}</span>'


def settled_items(page: Any, hole: Callable[..., Markup]) -> Finished:
    """Filter: the ``<li>`` of each result of a page (a ``PageView``) that needs nothing
    now, in its "Other rules" list: id, badges, ``hole("resolved", r)`` and row. Written
    here rather than by a template loop: a large report has one per rule and page, and a
    loop of six ``{{ }}`` each took a fifth of its first rendering."""
    page_id = html(page.id)
    return Finished(
        "".join(
            f'    <li id="page-{page_id}--{_settled_badge(r.rule, r.status)}'
            f"{hole('resolved', r)}{_settled_html(r.title or r.rule, r.rule, r.message)}</li>\n"
            for r in page.settled
        )
    )


def page_row(p: Any, tz: str) -> Finished:
    """Filter: a page's row (a ``PageLine``) in the front page's pages table, less its last
    newline. Written here rather than by the template: a large district's table has
    thousands, and its twenty ``{{ }}`` each were most of the front page's time."""
    carried = ""
    if p.from_run:
        started = html(day(p.from_run.started_at, tz))
        carried = f'<span class="count from">from run {html(p.from_run.id)}, {started}</span>'
    count = ""
    if p.open:
        severity = f", {html(p.worst_severity)}" if p.worst_severity else ""
        count = f'<span class="count">{html(p.open)} open{severity}</span>'
    oldest = html(day(p.oldest_open) if p.oldest_open else "9999")
    shown = html(day(p.oldest_open, tz) if p.oldest_open else "—")
    keys = html(" ".join(p.finding_keys))
    return Finished(
        f'    <tr data-school="{html(p.school)}" data-status="{html(p.worst)}" data-f="{keys}">\n'
        f"      <td>{html(bdi(p.school))}</td>"
        f'<td><a href="{html(p.href_from("index.html"))}">{html(bdi(p.name))}</a>{carried}</td>'
        f'<td class="hide-sm">{html(bdi(p.platform))}</td>\n'
        f'      <td class="hide-sm">{html(bdi(p.owner))}</td>'
        f'<td class="hide-sm">{html(bdi(p.supervisor))}</td>\n'
        f'      <td class="status" data-sort="{html(p.worst_rank)}">'
        f'<span class="badge s-{html(p.worst)}">{html(p.worst.upper())}</span>{count}</td>\n'
        f'      <td class="hide-sm" data-sort="{oldest}">{shown}</td></tr>'
    )


def safe_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL, else None: ``javascript:`` never becomes a link."""
    if not value:
        return None
    text = value.strip()
    if _CONTROL_OR_SPACE.search(text):  # one search: a Teams link has 400 characters
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
    offset = value.utcoffset()
    if offset is None:  # naive: read as the machine's local time, which may change
        return value.astimezone(ZoneInfo(tz)).strftime(fmt)
    return _when(value, offset, tz, fmt)


@lru_cache(maxsize=4096)
def _when(value: datetime, offset: timedelta, tz: str, fmt: str) -> str:
    """:func:`when` of an aware ``value``, kept for the next such call (a report shows the
    same few dates on thousands of pages). Its ``offset`` is in the key: two times an hour
    apart, in the hour a clock is set back, compare (and hash) equal."""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def day(value: datetime | None, tz: str = "UTC") -> str:
    """Just the date (in the district's time zone)."""
    return when(value, tz, "%Y-%m-%d")


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 page"`` / ``"3 pages"``."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def readable_stem(value: str) -> str:
    """``value`` made safe as part of a file name (school names in numbered files); two
    values may share one."""
    stem = _UNSAFE_FILE_CHARS.sub("_", value.strip()).strip("._") or "unnamed"
    return stem[:120]


def file_stem(value: str) -> str:
    """A file name for ``value`` that no other value gets (a supervisor's digest and action
    plan): ``value`` itself when it is lower case and safe as it is, else its readable stem,
    ``~`` (never in such a value) and a hash of it, so ``o'brien@`` and ``o_brien@``, or
    ``Ada@`` and ``ada@`` on a case-blind disk, never overwrite each other's files."""
    stem = readable_stem(value)
    if stem == value == value.lower():
        return value
    return f"{stem}~{hashlib.sha256(value.encode()).hexdigest()[:10]}"


def join_url(base: str | None, href: str) -> str | None:
    """``href`` (relative to the report folder) under ``reports.base_url``; None if unset."""
    if not base:
        return None
    return safe_url(base.rstrip("/") + "/" + href.lstrip("/"))


class _Compiled(FileSystemBytecodeCache):
    """Templates compiled by an earlier process, in jinja2's own folder for this user in the
    temporary directory (a tenth of a second of every report); best effort: one that
    cannot be written there is compiled again next time."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep a compiled template, if the folder takes it."""
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled(kind: str) -> _Compiled | None:
    """Where the ``kind`` environment's compiled templates are kept: files named for this
    module's code and jinja2's version (jinja2's own key has the template's source, not
    the environment's options, which this module sets); none where jinja2's folder cannot
    be made."""
    made_by = Path(__file__).read_bytes() + jinja2.__version__.encode()
    tag = hashlib.sha256(made_by).hexdigest()[:16]
    try:
        return _Compiled(pattern=f"page-auditor-{kind}-{tag}-%s.cache")
    except (OSError, RuntimeError):  # RuntimeError: no folder safe for this user
        return None


@cache
def environment() -> Environment:
    """The shared environment; templates live in ``reports/templates``."""
    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        bytecode_cache=_compiled("html"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_no_bidi,
        auto_reload=False,  # packaged templates never change: no stat() per include
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["plural"] = plural
    env.filters["bdi"] = bdi
    env.filters["settled_items"] = settled_items
    env.filters["page_row"] = page_row
    env.globals["light"] = LIGHT
    env.globals["dark"] = DARK
    return env


@cache
def text_environment() -> Environment:
    """For plain-text templates (email text parts, no HTML escaping applies)."""
    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        bytecode_cache=_compiled("text"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_no_bidi,
        auto_reload=False,  # packaged templates never change: no stat() per include
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["plural"] = plural
    return env


def render_email(stem: str, context: dict[str, Any]) -> tuple[str, str]:
    """An email's plain-text and HTML parts: ``<stem>.txt.j2`` and ``<stem>.html.j2``
    rendered with the same ``context`` (the HTML part escaped, the text part not)."""
    text = text_environment().get_template(f"{stem}.txt.j2").render(context)
    html = environment().get_template(f"{stem}.html.j2").render(context)
    return text, html
