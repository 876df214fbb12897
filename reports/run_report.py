"""Writes a run's report folder: ``index.html`` (plus ``details/*.html`` for large runs),
``findings.json``, ``findings.jsonl`` (or ``.jsonl.gz``), ``findings.csv``,
``digests/<supervisor>.html|.txt`` and ``action-plans/<supervisor>.csv`` (and
``discovered-groups.csv`` when discovery found any).

The folder is written whole beside its target and switched in with a rename, so a crash or
SIGKILL mid-render leaves the previous report as it was; files are 0600, folders 0700."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from markupsafe import Markup

from auditor.config import Config
from auditor.reports.charts import Bar, stacked_columns, stacked_rows
from auditor.reports.deadlines import set_deadlines
from auditor.reports.digest import Digest, DigestsAsRead, iter_digests
from auditor.reports.environment import day, environment, file_stem, readable_stem
from auditor.reports.export import write_discovered_csv
from auditor.reports.files import (
    ReportFolderError,
    make_folder,
    replaced_folder,
    write_pieces,
    write_text,
)
from auditor.reports.findings_files import FINDINGS_DIR, ActionPlans, FindingsWriter
from auditor.reports.outline import (
    CHANGES_LISTED,
    LOAD_PAGES,
    PageLine,
    RunOutline,
    RunTotals,
    outline_of,
)
from auditor.reports.pieces import Cache, section
from auditor.reports.view import PageView, RunView

# Up to this many pages, every page's section is in index.html (one file to mail or print);
# beyond, sections go to per-school files of at most PAGES_PER_FILE pages each, so no file
# grows past a few megabytes however large the district.
INLINE_LIMIT = 150
PAGES_PER_FILE = 150
# Above this many pages, findings.json and findings.csv are split like the detail files:
# each part's results in findings/<part>.json and .csv, an index in the two files.
FINDINGS_INLINE_LIMIT = 1000
DETAILS_DIR = "details"
DIGESTS_DIR = "digests"
PLANS_DIR = "action-plans"
DISCOVERED_CSV = "discovered-groups.csv"
# Everything a report folder holds; a folder holding anything else is not replaced.
OUTPUTS = frozenset(
    (
        "index.html",
        "findings.json",
        "findings.jsonl",
        "findings.jsonl.gz",
        "findings.csv",
        DISCOVERED_CSV,
        DETAILS_DIR,
        FINDINGS_DIR,
        DIGESTS_DIR,
        PLANS_DIR,
    )
)


@dataclass
class DetailPart:
    """One file of page sections (a school, or part of a large school)."""

    path: str  # relative to the report folder
    title: str
    pages: list[PageLine]

    @property
    def attention(self) -> int:
        """Its pages needing attention (their results summed up: written after them)."""
        return sum(p.needs_attention for p in self.pages)


def plan_parts(view: RunView | RunOutline) -> list[DetailPart]:
    """Decide which file holds each page's section (sets ``detail_file`` on each page, or
    page line of an outline); an empty list means every section is in ``index.html``."""
    pages: list[Any] = view.lines if isinstance(view, RunOutline) else view.pages
    if len(pages) <= INLINE_LIMIT:
        for page in pages:
            page.detail_file = "index.html"
        return []
    parts: list[DetailPart] = []
    for school, group in groupby(pages, key=lambda p: p.school):
        chunk_of = list(group)
        chunks = [chunk_of[i : i + PAGES_PER_FILE] for i in range(0, len(chunk_of), PAGES_PER_FILE)]
        for k, chunk in enumerate(chunks, start=1):
            name = school or "No school"
            title = name if len(chunks) == 1 else f"{name} (part {k} of {len(chunks)})"
            path = f"{DETAILS_DIR}/{len(parts) + 1:03d}-{readable_stem(name.lower())}.html"
            for page in chunk:
                page.detail_file = path
            parts.append(DetailPart(path, title, chunk))
    return parts


def findings_stem(part: DetailPart) -> str:
    """Where a detail part's findings files are: ``findings/<its file's stem>``."""
    return f"{FINDINGS_DIR}/{Path(part.path).stem}"


def trend_chart(view: RunView) -> Markup:
    """Open items by severity (columns) and failing pages (line) over the last runs."""
    bars = [
        Bar(
            str(point.run.id),
            point.open_by_severity,
            f"run {point.run.id} of {day(point.run.started_at, view.timezone)}, "
            f"{point.status}, {point.pages} pages audited, {point.failing_pages} failing",
        )
        for point in view.trend
    ]
    return stacked_columns(
        "trend",
        f"Open items by severity and failing pages, last {len(bars)} runs",
        bars,
        line=[point.failing_pages for point in view.trend],
        line_label="failing pages",
    )


def school_chart(totals: RunTotals | RunView) -> Markup:
    """Open items by school and severity, most first."""
    bars = [Bar(school, counts) for school, counts in totals.open_by_school()]
    return stacked_rows("by-school", "Open items by school and severity", bars)


def age_chart(totals: RunTotals | RunView) -> Markup:
    """Open items by how long they have been open, by severity."""
    bars = [Bar(label, counts) for label, counts in totals.open_by_age()]
    return stacked_rows("by-age", "Open items by time since first found", bars)


def render_html(view: RunView, parts: list[DetailPart] | None = None) -> str:
    """The front page of a run read in full (inline CSS, SVG and script, no remote
    content), its pages' sections in it when ``parts`` is empty (rendered, not stored)."""
    run = outline_of(view)
    parts = plan_parts(run) if parts is None else parts
    cache = Cache(None, view, inline=True)
    sections: list[Markup] = []
    for lines, pages in run.batches():
        run.totals.add(pages, lines)
        if not parts:
            made = cache.pieces(pages)
            sections += [section(view, p, m) for p, m in zip(pages, made, strict=True)]
    return "".join(generate_html(run, parts, sections))


def generate_html(
    run: RunOutline, parts: list[DetailPart], sections: list[Markup]
) -> Iterator[str]:
    """The front page piece by piece, from the run's totals (every page summed up) and,
    when they are in it, its pages' ``sections``."""
    view = run.view
    charts = {
        "trend": trend_chart(view),
        "school": school_chart(run.totals),
        "age": age_chart(run.totals),
    }
    template = environment().get_template("run_report.html.j2")
    yield from template.generate(
        run=view,
        totals=run.totals,
        parts=parts,
        root="",
        limit=CHANGES_LISTED,
        charts=charts,
        sections=sections,
    )


def render_part(view: RunView, part: DetailPart, sections: list[Markup]) -> Iterator[str]:
    """One file of page sections for a large run (at most ``PAGES_PER_FILE`` pages), piece
    by piece (written as it comes, never held whole)."""
    template = environment().get_template("details.html.j2")
    return template.generate(run=view, part=part, root="../", sections=sections)


def write_report(
    view: RunView | RunOutline, out_dir: Path, config: Config | None = None, reuse: bool = True
) -> Path:
    """Write every output of the run into ``out_dir`` (replacing the report there); return
    the path of ``index.html``. ``view``: the run read in full, or its outline (its pages
    read a batch at a time: ``outline.open_run``). ``config`` supplies the time zone and
    ``reports.base_url`` (defaults when omitted); ``reuse``: use (and keep) the pages'
    stored report pieces in the database the run was loaded from (``reports.pieces``)."""
    config = config or Config()
    run = view if isinstance(view, RunOutline) else outline_of(view)
    run.view.timezone = config.district.timezone
    run.totals = RunTotals(list(run.view.rules))  # summed up again by this report
    try:
        with replaced_folder(out_dir, OUTPUTS) as staging:
            _write_outputs(run, config, staging, reuse)
    except OSError as exc:
        raise ReportFolderError(f"{out_dir}: the report could not be written: {exc}") from exc
    return out_dir / "index.html"


def _loaded_parts(
    run: RunOutline,
    parts: list[DetailPart],
    config: Config,
    after: Callable[[list[PageLine], list[PageView]], None],
) -> Iterator[tuple[int, DetailPart, list[PageView]]]:
    """Each part (its index, itself, its pages in full with their deadlines), its pages
    read with the next parts' up to ``LOAD_PAGES`` at a time and summed up into the run's
    totals, then handed to ``after`` once the batch's parts are written; only one such
    batch of pages is held at a time."""
    start = 0
    while start < len(parts):
        end, size = start, 0
        while end < len(parts) and (end == start or size + len(parts[end].pages) <= LOAD_PAGES):
            size += len(parts[end].pages)
            end += 1
        lines = [line for part in parts[start:end] for line in part.pages]
        pages = run.load(lines)
        set_deadlines(pages, run.view.started_at, config.remediation, run.view.timezone)
        run.totals.add(pages, lines)
        at = 0
        for k in range(start, end):
            count = len(parts[k].pages)
            yield k, parts[k], pages[at : at + count]
            at += count
        after(lines, pages)
        del pages, lines
        start = end


def _write_parts(
    run: RunOutline, config: Config, out: Path, parts: list[DetailPart], cache: Cache, split: bool
) -> tuple[list[Markup], set[str]]:
    """Write the pages' details files, findings files and action plans, a part at a time
    (the pages read in full a batch of parts at a time, and their pieces a part at a time),
    and the digests whose pages were all read by then (see ``DigestsAsRead``); the sections
    of a run whose sections are in index.html, and the supervisors whose digests are
    written."""
    view = run.view
    stems = [(findings_stem(part), part.title, part.pages) for part in parts]
    sections: list[Markup] = []
    plans = ActionPlans(view, make_folder(out / PLANS_DIR), (p.supervisor for p in run.lines))
    planned = parts or [DetailPart("index.html", "", run.lines)]
    early = DigestsAsRead(run, config)

    def after(lines: list[PageLine], pages: list[PageView]) -> None:
        _write_digests(out / DIGESTS_DIR, early.after(lines, pages))

    with FindingsWriter(run, out, stems if split else None) as findings:
        for k, part, pages in _loaded_parts(run, planned, config, after):
            made = cache.pieces(pages)
            shown = [section(view, p, m) for p, m in zip(pages, made, strict=True)]
            if parts:
                write_pieces(out / part.path, render_part(view, part, shown))
            else:
                sections = shown
            findings.add(pages, made, stems[k][:2] if split else None)
            plans.add(pages, made)
            del made, shown, pages  # not held while the next part is read, or digests built
    return sections, early.done


def _write_digests(folder: Path, digests: Iterable[Digest]) -> None:
    """Write each digest as it comes (then dropped), as ``<supervisor>.html`` and ``.txt``."""
    for digest in digests:
        stem = file_stem(digest.recipient)
        write_text(folder / f"{stem}.html", digest.html)
        write_text(folder / f"{stem}.txt", digest.text)


def _write_outputs(run: RunOutline, config: Config, out: Path, reuse: bool) -> None:
    """Render every output of the run into the new, empty folder ``out``: the pages a part
    at a time (their pieces read, or rendered and stored, then written to each file), then
    the front page from the run's totals, then the digests not written with the pages."""
    view = run.view
    parts = plan_parts(run)
    cache = Cache(view.database if reuse else None, view, inline=not parts)
    split = bool(parts) and len(run.lines) > FINDINGS_INLINE_LIMIT
    if parts:
        make_folder(out / DETAILS_DIR)
    if split:
        make_folder(out / FINDINGS_DIR)
    digests_dir = make_folder(out / DIGESTS_DIR)
    sections, written = _write_parts(run, config, out, parts, cache, split)
    write_pieces(out / "index.html", generate_html(run, parts, sections))
    cache.report()
    if view.discovered:
        write_discovered_csv(view, out / DISCOVERED_CSV)
    _write_digests(digests_dir, iter_digests(run, config, written))
