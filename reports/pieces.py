"""Each page's report pieces, rendered once per results and re-used: its details section,
its findings.json and findings.jsonl record and its findings.csv rows, less what changes
from run to run (ages, deadlines, trends, plans, the rule history, links to the run),
which are holes filled in for the run shown. Every report is written through them, so a
report from stored pieces is the report rendered afresh, byte for byte.

A page's pieces are stored in the database by the audit holding its results (table
``report_pieces``, :mod:`auditor.db.pieces`), under a key of everything else they were
rendered from: this module's templates and code, the report settings and the page's
registration. An unchanged page's audit points at the same holder, so an unchanged run's
report renders only its changed pages; a piece that is missing, stale or unreadable is
rendered again (the unreadable ones logged in one line)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import platform
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import zstandard
from markupsafe import Markup, escape
from sqlalchemy import Engine

from auditor import results as results_module
from auditor.db import pieces as stored
from auditor.reports.charts import Cell, history_strip
from auditor.reports.environment import (
    NUL,
    REPLACEMENT,
    Finished,
    Hole,
    day,
    environment,
    plural,
    strip_bidi,
)
from auditor.reports.evidence import evidence_lines
from auditor.reports.export import (
    BRIEF_STATUSES,
    CSV_COLUMNS,
    RESOLVED,
    brief,
    dumps,
    evidence_text,
    iso,
    quiet_page,
    result_record,
    spreadsheet_safe,
)
from auditor.reports.history import OPEN_STATUSES, RunRef
from auditor.reports.view import NOT_LOADED, PageView, ResultView, RunView, Trend

log = logging.getLogger(__name__)
T = TypeVar("T")

HOLE = NUL  # around a hole in a piece (never in rendered text: see environment._no_bidi)
ARG = "\x01"  # between a hole's kind and the index of its result
_COMPACT = (",", ":")
# A result's members in findings.json and .jsonl that change from run to run (the others,
# and title and clause, are in its stored piece), in the order they are written.
RUN_MEMBERS = ("first_seen", "first_seen_run", "days_open", "trend")
# The reports code that renders the pieces or computes what they show, and what it imports
# from the rest of the package (``RuleInfo.remediation_for``, the history's statuses).
_SOURCES = (
    "pieces.py",
    "export.py",
    "view.py",
    "environment.py",
    "evidence.py",
    "charts.py",
    "history.py",
    "theme.py",
)
_PACKAGE_SOURCES = ("results.py",)
_LIBRARIES = ("page-auditor", "jinja2", "markupsafe")
_HISTORY_KEY = (
    '<figcaption>One cell per run, oldest on the left: <span class="key st-fail"></span> fail '
    '<span class="key st-warn"></span> warn <span class="key st-error"></span> error '
    '<span class="key st-pass"></span> pass <span class="key st-none"></span> no result. '
    "Hover a cell for its run and date.</figcaption>"
)


# A page's pieces as stored hold at most this many bytes once decompressed: what a stored
# body declares is checked before that much memory is allocated for it.
PIECES_MAX = 64 << 20
_held = threading.local()  # see _per_thread


def _per_thread(name: str, make: Callable[[], T]) -> T:
    """This thread's ``name``, made by ``make`` on its first use and re-used: a report
    makes one per result or page, and neither a CSV writer nor a zstd compressor can be
    used by two threads at once."""
    try:
        return getattr(_held, name)
    except AttributeError:
        made = make()
        setattr(_held, name, made)
        return made


def _new_compressor() -> zstandard.ZstdCompressor:
    """A zstd compressor at level 1 writing each frame's checksum (a damaged body is
    refused when read, never shown)."""
    return zstandard.ZstdCompressor(level=1, write_checksum=True)


def _new_row_writer() -> tuple[io.StringIO, Any]:
    """A CSV writer of :func:`csv_cells` and the buffer it writes to."""
    handle = io.StringIO(newline="")
    return handle, csv.writer(handle)


@dataclass(slots=True)
class Pieces:
    """A page's rendered pieces: findings.json members up to ``worst`` (``head``), each
    result's findings.json object up to its run's members (by index in the page's
    results), the page's findings.csv cells ``page_id`` to ``page_error`` and each result's
    cells ``rule`` to ``evidence``, its action-plan cells ``page_id`` to ``owner`` and each
    planned result's cells ``rule`` to ``evidence`` and ``how_to_fix`` (none for the
    others), and its details section with holes."""

    head: str
    results: list[str]
    csv_page: str
    csv_results: list[str]
    plan_page: str
    plans: list[list[str]]
    html: str

    def pack(self) -> bytes:
        """The pieces as stored: a line of JSON (the number of results, each one's plan
        cells, 0 or 2, and the length of each text), the texts one after the other, and
        the section, compressed by zstd at level 1 (a third of zlib's time to compress,
        half of it to read back, and smaller). Texts as they are, not JSON strings: most
        are JSON or CSV themselves, which a JSON string would escape again."""
        texts = [self.head, self.csv_page, self.plan_page, *self.results, *self.csv_results]
        shape = "".join(str(len(plan)) for plan in self.plans)
        for plan in self.plans:
            texts += plan
        header = json.dumps([len(self.results), shape, *map(len, texts)], separators=_COMPACT)
        text = f"{header}\n{''.join(texts)}{self.html}"
        return _per_thread("zstd", _new_compressor).compress(text.encode())

    @classmethod
    def unpack(cls, body: bytes) -> Pieces:
        """Pieces as :meth:`pack` stored them (ValueError, TypeError or ZstdError when
        they are not)."""
        if zstandard.frame_content_size(body) > PIECES_MAX:  # before it is allocated
            raise ValueError("pieces larger than any page's")
        text = zstandard.decompress(body).decode()
        at = text.find("\n") + 1  # the texts' start (a slice each: the rest is not copied)
        if not at:
            raise ValueError("no header")
        header = text[: at - 1]
        if header.count("[") != 1 or "{" in header:  # nothing nested for JSON to recurse in
            raise ValueError("not a page's pieces")
        count, shape, *sizes = json.loads(header)
        if type(count) is not int or not isinstance(shape, str) or len(shape) != count:
            raise ValueError("not a page's pieces")
        if set(shape) - {"0", "2"} or len(sizes) != 3 + 2 * count + 2 * shape.count("2"):
            raise ValueError("not a page's pieces")
        if not all(type(size) is int and size >= 0 for size in sizes):
            raise ValueError("a text's length is not a length")
        if at + sum(sizes) > len(text):
            raise ValueError("texts past the end")
        texts = []
        for size in sizes:
            texts.append(text[at : at + size])
            at += size
        cells = iter(texts[3 + 2 * count :])
        plans = [[next(cells), next(cells)] if kind == "2" else [] for kind in shape]
        head, csv_page, plan_page = texts[:3]
        results, csv_results = texts[3 : 3 + count], texts[3 + count : 3 + 2 * count]
        return cls(head, results, csv_page, csv_results, plan_page, plans, text[at:])


def has_evidence(r: ResultView) -> bool:
    """Whether the result has evidence (stored or loaded), without reading it."""
    return r.evidence_row is not None or (r.evidence is not NOT_LOADED and bool(r.evidence))


# Rendering the pieces (a page's evidence is read for it, see Cache.pieces).


def render(view: RunView, page: PageView, root: str) -> Pieces:
    """The page's pieces, rendered from its results (with their evidence) and
    registration; ``root``: the report folder relative to the file holding its section."""
    head = {
        "id": page.id,
        "name": page.name,
        "platform": page.platform,
        "owner": page.owner,
        "supervisor": page.supervisor,
        "status": page.status,
        "error": page.error,
        "school": page.school,
        "platform_name": page.platform_name,
        "url": page.url,
        "worst": page.worst,
    }
    kept = {k: v for k, v in head.items() if v is not None or k not in ("platform_name", "url")}
    page_cells = (page.id, page.name, page.school, page.platform, page.owner, page.supervisor)
    csv_page = csv_cells([*page_cells, page.status, page.error or ""])
    results = [_result_pieces(r) for r in page.results]
    plan_page, plans = plan_cells(page)
    return Pieces(
        dumps(kept)[1:-1],
        [record for record, _ in results],
        csv_page,
        [cells for _, cells in results],
        plan_page,
        plans,
        _section(view, page, root),
    )


def _result_pieces(r: ResultView) -> tuple[str, str]:
    """A result's findings.json object up to its run's members (no closing brace), and
    its findings.csv cells ``rule`` to ``evidence``; for a result without evidence (most
    passes: the same on thousands of pages) made once per text."""
    if not r.evidence:  # NOT_LOADED refuses this: evidence not read is never "none"
        return _plain_pieces(r.rule, r.status, r.severity, r.message, r.title, r.clause)
    return _made_pieces(r)


def _made_pieces(r: ResultView) -> tuple[str, str]:
    """:func:`_result_pieces`, made from ``r``."""
    record = {k: v for k, v in result_record(r).items() if k not in RUN_MEMBERS}
    cells = [r.rule, r.title, r.clause, r.status, r.severity, r.message, evidence_text(r.evidence)]
    return dumps(record)[:-1], csv_cells(cells)


@lru_cache(maxsize=4096)
def _plain_pieces(
    rule: str, status: str, severity: str, message: str, title: str, clause: str
) -> tuple[str, str]:
    """:func:`_result_pieces` of a result without evidence."""
    return _made_pieces(ResultView(rule, status, severity, message, [], title, clause))


def plan_cells(page: PageView) -> tuple[str, list[list[str]]]:
    """The page's action-plan cells ``page_id`` to ``owner``, and each result's cells
    ``rule`` to ``evidence`` and ``how_to_fix`` where it is planned (none for the others)."""
    plan_page = csv_cells([page.id, page.name, page.school, page.platform, page.owner])
    plans = [
        [
            csv_cells(
                [r.rule, r.title, r.status, r.severity, r.message, evidence_text(r.evidence)]
            ),
            csv_cells([r.remediation, ""])[:-1],  # one cell (an empty one written as nothing)
        ]
        if planned(r)
        else []
        for r in page.results
    ]
    return plan_page, plans


def planned(r: ResultView) -> bool:
    """Whether the result has a row in its supervisor's action plan (fail or warn)."""
    return r.needs_attention and r.status != "error"


def _section(view: RunView, page: PageView, root: str) -> str:
    """The page's details section with its holes (``_page.html.j2``)."""
    index = {id(r): i for i, r in enumerate(page.results)}

    def hole(kind: str, r: ResultView | None = None) -> Hole:
        return Hole(f"{HOLE}{kind}{ARG}{'' if r is None else index[id(r)]}{HOLE}")

    template = environment().get_template("_page.html.j2")
    return template.render(run=view, page=page, root=root, hole=hole, **page_context(view))


def history_chart(view: RunView, page: PageView) -> Markup | None:
    """The page's rules that were open in any of the last runs, as a strip of one cell per
    run; None when every rule passed (or did not apply) in every run shown."""
    runs = _run_labels(tuple(view.history_runs), view.timezone)
    rows = []
    for r in page.results:
        statuses = page.history.get(r.rule)
        if statuses and set(OPEN_STATUSES).intersection(statuses):
            rows.append(_history_row(r.title or r.rule, tuple(statuses), runs))
    if not rows:
        return None
    return history_strip(f"history-{page.id}", f"Rule history of {page.name}", rows)


@lru_cache(maxsize=16)
def _run_labels(runs: tuple[RunRef, ...], tz: str) -> tuple[str, ...]:
    """The history runs as a strip's tooltips name them."""
    return tuple(f"run {ref.id}, {day(ref.started_at, tz)}" for ref in runs)


@lru_cache(maxsize=512)
def _history_row(
    label: str, statuses: tuple[str | None, ...], runs: tuple[str, ...]
) -> tuple[str, tuple[Cell, ...]]:
    """A rule's row of a history strip: its label, and one cell per run (shared by every
    page where the rule has that history)."""
    cells = tuple(
        Cell(status, f"{label} — {run}: {status or 'no result'}")
        for run, status in zip(runs, statuses, strict=True)
    )
    return label, cells


@lru_cache(maxsize=1024)
def _rule_text(
    clause_text: str, policy: str, clause: str, rationale: str, remediation: str, platform: str
) -> Markup:
    """``_rule_text.html.j2``, rendered once per rule text and platform."""
    template = environment().get_template("_rule_text.html.j2")
    return Markup(
        template.render(
            clause_text=clause_text,
            policy=policy,
            clause=clause,
            rationale=rationale,
            remediation=remediation,
            platform=platform,
        )
    )


def page_context(view: RunView) -> dict[str, Callable[..., Any]]:
    """What ``_page.html.j2`` needs besides the run and the page."""
    return {
        "rule_text": lambda r, platform: _rule_text(
            r.clause_text, view.policy, r.clause, r.rationale, r.remediation, platform
        ),
        "evidence": lambda result: list(
            zip(evidence_lines(result.evidence, view.timezone), result.evidence, strict=True)
        ),
    }


def csv_cells(values: Sequence[object]) -> str:
    """``values`` as CSV cells (formula-safe, quoted as ``csv`` quotes them), no newline."""
    handle, writer = _per_thread("csv", _new_row_writer)
    handle.seek(0)
    handle.truncate()
    writer.writerow([spreadsheet_safe(v) for v in values])
    return handle.getvalue()[:-2]  # the row's "\r\n"


# Filling the holes for the run shown.


def section(view: RunView, page: PageView, pieces: Pieces) -> Markup:
    """The page's details section for the run shown."""
    parts = pieces.html.split(HOLE)
    for i in range(1, len(parts), 2):
        kind, _, arg = parts[i].partition(ARG)
        parts[i] = FILLERS[kind](view, page, page.results[int(arg)] if arg else None)
    return Finished("".join(parts))


def _from(view: RunView, page: PageView, _: ResultView | None) -> str:
    """The "not audited in this run" line of a page shown from an earlier run."""
    ref = page.from_run
    if ref is None:
        return ""
    return (
        f'<p class="from"><strong>Not audited in run {view.id}:</strong> these results are '
        f"from run {ref.id} of {day(ref.started_at, view.timezone)}.</p>"
    )


def _history(view: RunView, page: PageView, _: ResultView | None) -> str:
    """The page's rule history strip, when a rule was open in one of the runs shown."""
    strip = history_chart(view, page)
    if strip is None:
        return ""
    # Filled in after rendering, past ``finalize``: its page name and rule titles are
    # cleaned here as finalize would (no bidi control, no NUL).
    text = strip_bidi(str(strip)).replace(NUL, REPLACEMENT)
    return f'  <h4>Rule history</h4>\n  <figure class="history">{text}{_HISTORY_KEY}</figure>\n'


def _overdue(view: RunView, page: PageView, r: ResultView | None) -> str:
    """The OVERDUE badge of a result past its due day."""
    return '<span class="badge s-fail">OVERDUE</span>' if r is not None and r.overdue else ""


def _resolved(view: RunView, page: PageView, r: ResultView | None) -> str:
    """The RESOLVED badge of a settled result that failed in the page's previous audit."""
    resolved = r is not None and r.trend == Trend.RESOLVED
    return ' <span class="badge t-resolved">RESOLVED</span>' if resolved else ""


def _dates(view: RunView, page: PageView, r: ResultView | None) -> str:
    """A result's lines after its message: since when it is open, its due day, its plan."""
    assert r is not None
    lines = []
    if r.first_seen:
        if r.first_seen_run == view.id:
            new = '<span class="badge t-new">NEW</span> ' if view.previous_run else ""
            since = f"{new}First found in this run"
        else:
            verb = "Failing" if r.status == "fail" else "Open"
            days = plural(r.days_open or 0, "day")
            since = (
                f"{verb} since {day(r.first_seen, view.timezone)} ({days}, run {r.first_seen_run})"
            )
        lines.append(f'<p class="since">{since}</p>')
    if r.due:
        due = r.due.isoformat()
        text = f"<strong>Overdue:</strong> it was due by {due}." if r.overdue else f"Fix by {due}."
        lines.append(f"<p>{text}</p>")
    if r.plan_fix_on or r.plan_by or r.plan_note:
        plan = ""
        if r.plan_fix_on:
            plan += f"to be fixed by {r.plan_fix_on.isoformat()}"
        if r.plan_by:
            plan += (", " if r.plan_fix_on else "") + f"by {_bdi(r.plan_by)}"
        if r.plan_note:
            plan += f" — {_bdi(r.plan_note)}"
        lines.append(f"<p><strong>Planned:</strong> {plan}</p>")
    return "".join(f"\n  {line}" for line in lines)


def _bdi(value: str) -> str:
    """Text a person wrote, escaped and isolated as the templates' ``bdi`` filter does."""
    return f"<bdi>{escape(strip_bidi(value)).replace(HOLE, REPLACEMENT)}</bdi>"


FILLERS: dict[str, Callable[[RunView, PageView, ResultView | None], str]] = {
    "from": _from,
    "history": _history,
    "overdue": _overdue,
    "resolved": _resolved,
    "dates": _dates,
}


def record(
    view: RunView,
    page: PageView,
    pieces: Pieces,
    checks: dict[str, str] | None = None,
    complete: bool = False,
) -> str:
    """The page's object in findings.json (see ``export.page_record``: ``checks`` the
    manual checks so far) or, ``complete``, its line in findings.jsonl (no newline)."""
    out = [f'{{"run_id":{view.id},' if complete else "{", pieces.head]
    out.append(',"report":' + dumps(page.href))
    ref = page.from_run
    if ref is not None:
        out.append(',"from_run":' + dumps({"id": ref.id, "started_at": iso(ref.started_at)}))
    out.append(',"results":[')
    keys = (*BRIEF_STATUSES.values(), RESOLVED, *(["manual"] if checks is not None else []))
    listed: dict[str, list[str]] = {key: [] for key in keys}
    first = True
    for i, r in enumerate(page.results):
        key = None if complete else brief(r)
        if checks is not None and r.status == "manual" and not has_evidence(r):
            key = "manual" if checks.setdefault(r.rule, r.message) == r.message else None
        if key is not None:
            listed[key].append(r.rule)
            continue
        out.append(("" if first else ",") + pieces.results[i] + _run_members(r) + "}")
        first = False
    out.append("]")
    if not complete:
        out.append("," + dumps(listed)[1:-1])
    out.append("}")
    return "".join(out)


def _run_members(r: ResultView) -> str:
    """A result's findings.json members that change from run to run (those known): an
    ISO date, numbers and a trend, none of which JSON escapes."""
    out = ""
    if r.first_seen:
        out += f',"first_seen":"{r.first_seen.isoformat()}"'
    if r.first_seen_run is not None:
        out += f',"first_seen_run":{r.first_seen_run}'
    if r.days_open is not None:
        out += f',"days_open":{r.days_open}'
    if r.trend:
        out += f',"trend":"{r.trend}"'
    return out


def csv_rows(view: RunView, page: PageView, pieces: Pieces) -> str:
    """The page's rows in findings.csv (see ``export.write_csv``)."""
    base = f"{view.id},{pieces.csv_page},"
    rows = []
    for i, r in enumerate(page.results):
        if brief(r) in BRIEF_STATUSES.values():
            continue
        tail = (iso(r.first_seen) or "", r.first_seen_run or "", r.days_open, r.trend or "")
        cells = ",".join("" if v is None else str(v) for v in tail)
        rows.append(f"{base}{pieces.csv_results[i]},{cells}\r\n")
    if not rows:
        rows.append(base + quiet_cells(page) + "\r\n")
    return "".join(rows)


def plan_rows(run_id: int | None, page: PageView, made: tuple[str, Sequence[Sequence[str]]]) -> str:
    """The page's rows in its supervisor's action plan: its fail and warn results, with
    their due day and imported plan; ``run_id``: the run shown (a page carried over from
    an earlier run names that one); ``made``: :func:`plan_cells` (or as stored)."""
    shown = page.from_run.id if page.from_run else run_id
    run = "" if shown is None else shown
    plan_page, plans = made
    rows = []
    for r, plan in zip(page.results, plans, strict=True):
        if not plan:
            continue
        cells, fix = plan
        first = r.first_seen.isoformat() if r.first_seen else ""
        days = "" if r.days_open is None else r.days_open
        due = r.due.isoformat() if r.due else ""
        fix_on = r.plan_fix_on.isoformat() if r.plan_fix_on else ""
        imported = csv_cells([r.plan_note or "", fix_on, r.plan_by or ""])
        rows.append(
            f"{run},{plan_page},{cells},{first},{days},{r.trend or ''},{fix},{due},{imported},\r\n"
        )
    return "".join(rows)


def quiet_cells(page: PageView) -> str:
    """The cells ``rule`` to ``trend`` of a page's one row when it lists no result."""
    values = quiet_page(page)
    return csv_cells([values.get(c, "") for c in CSV_COLUMNS[9:]])


# Where the pieces are kept.


@cache
def code_version() -> str:
    """Digest of what renders the pieces: the templates, this package's code that renders
    them or computes what they show, the installed versions of the package, jinja2 and
    markupsafe (escaping), and Python's (csv, json)."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    package = Path(results_module.__file__).parent
    paths = sorted((here / "templates").iterdir()) + [here / name for name in _SOURCES]
    for path in paths + [package / name for name in _PACKAGE_SOURCES]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{name}\0{metadata.version(name)}\0".encode())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()


def settings_key(view: RunView, inline: bool) -> str:
    """Digest of the report settings the pieces depend on: the time zone, the policy, the
    rules' texts as the run recorded them, and whether sections are in index.html."""
    rules = {k: v.model_dump(mode="json") for k, v in view.rules.items()}
    text = json.dumps([code_version(), view.timezone, view.policy, rules, inline], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def page_key(settings: str, page: PageView) -> str:
    """Digest of everything a page's pieces depend on besides its results."""
    fields = (
        settings,
        page.id,
        page.name,
        page.platform_name,
        page.school,
        page.platform,
        page.owner,
        page.supervisor,
        page.status,
        page.error,
        page.url,
        page.source,
    )
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def _kept_by(page: PageView) -> int | None:
    """The audit whose stored pieces are the page's, or None when they are not stored: an
    audit that errored holds its own (empty) results in every run, so its pieces would
    never be re-used, and they are cheap to render."""
    if page.holder is None or page.status == "error" or not page.results:
        return None
    return page.holder


# The hole kinds whose filler shows a result (the others show the page's).
_RESULT_HOLES = frozenset({"overdue", "resolved", "dates"})


def _check_fits(pieces: Pieces, count: int) -> None:
    """Raise ValueError unless stored ``pieces`` fit a page of ``count`` results: a piece
    per result in each list, and known holes naming results the page has (what
    :func:`section`, :func:`record`, :func:`csv_rows` and :func:`plan_rows` rely on; that
    each piece is text, and each plan none or two cells, :meth:`Pieces.unpack` saw)."""
    if not len(pieces.results) == len(pieces.csv_results) == len(pieces.plans) == count:
        raise ValueError(f"pieces for another number of results than {count}")
    parts = pieces.html.split(HOLE)
    if len(parts) % 2 == 0:
        raise ValueError("a hole is not closed")
    for marker in parts[1::2]:
        kind, arg_sep, arg = marker.partition(ARG)
        if kind not in FILLERS or not arg_sep:
            raise ValueError(f"unknown hole {kind!r}")
        if (kind in _RESULT_HOLES) != bool(arg) or (arg and not 0 <= int(arg) < count):
            raise ValueError(f"hole {kind!r} names no result of the page")


class Cache:
    """The pieces of a report's pages: read from the database (``engine``; None: none
    stored), rendered where missing or stale, and the rendered ones stored."""

    def __init__(self, engine: Engine | None, view: RunView, inline: bool) -> None:
        self.engine = engine
        self.view = view
        self.root = "" if inline else "../"
        self.settings = settings_key(view, inline)
        self.reused = self.rendered = self.unreadable = 0
        self._failed: str | None = None  # why the store could not be read or written

    def pieces(self, pages: Sequence[PageView]) -> list[Pieces]:
        """The pieces of ``pages``, in order (a part's pages: read and written at once)."""
        keys = [page_key(self.settings, p) for p in pages]
        found = self._read([h for p in pages if (h := _kept_by(p)) is not None])
        out: list[Pieces | None] = []
        for page, key in zip(pages, keys, strict=True):
            holder = _kept_by(page)
            hit = found.pop(holder, None) if holder is not None else None
            fits = hit is not None and hit[0] == key
            out.append(self._unpack(page, hit[1]) if hit is not None and fits else None)
        missing = [i for i, pieces in enumerate(out) if pieces is None]
        self.reused += len(pages) - len(missing)
        if missing:
            self.rendered += len(missing)
            with self.view.evidence_of([pages[i] for i in missing]):
                for i in missing:
                    out[i] = render(self.view, pages[i], self.root)
            self._save(
                (holder, keys[i], made.pack())
                for i in missing
                if (holder := _kept_by(pages[i])) is not None and (made := out[i]) is not None
            )
        return [pieces for pieces in out if pieces is not None]

    def _unpack(self, page: PageView, body: bytes) -> Pieces | None:
        """Stored pieces that fit ``page``'s results, or None (counted) when they cannot be
        read or do not fit."""
        try:
            pieces = Pieces.unpack(body)
            _check_fits(pieces, len(page.results))
        except (ValueError, TypeError, KeyError, IndexError, zstandard.ZstdError):
            self.unreadable += 1
            return None
        return pieces

    def _read(self, holders: list[int]) -> dict[int, tuple[str, bytes]]:
        """The stored pieces of ``holders``: none when the store cannot be read."""
        if self.engine is None or self._failed or not holders:
            return {}
        try:
            return {audit: (key, body) for audit, key, body in stored.read(self.engine, holders)}
        except Exception as exc:
            self._failed = f"{type(exc).__name__}: {exc}".splitlines()[0]
            return {}

    def _save(self, rows: Iterable[tuple[int, str, bytes]]) -> None:
        """Store rendered pieces (best effort: a cache)."""
        if self.engine is None or self._failed:
            return
        try:
            stored.save(self.engine, list(rows))
        except Exception as exc:
            self._failed = f"{type(exc).__name__}: {exc}".splitlines()[0]

    def report(self) -> None:
        """Log, in one line each, what the store did (pieces re-used and rendered) and
        what went wrong with it."""
        log.info(
            "run %s: report pieces of %d page(s) re-used, %d rendered",
            self.view.id,
            self.reused,
            self.rendered,
        )
        if self.unreadable:
            log.warning(
                "run %s: %d stored report piece(s) could not be read; rendered again",
                self.view.id,
                self.unreadable,
            )
        if self._failed:
            log.warning(
                "run %s: stored report pieces could not be used (%s); pages rendered again",
                self.view.id,
                self._failed,
            )
