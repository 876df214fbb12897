"""Writes a run's report folder: ``index.html`` (plus ``details/*.html`` for large runs),
``findings.json``, ``findings.jsonl`` (or ``.jsonl.gz``), ``findings.csv``,
``digests/<supervisor>.html|.txt`` and ``action-plans/<supervisor>.csv`` (and
``discovered-groups.csv`` when discovery found any).

The folder is written whole beside its target and switched in with a rename, so a crash or
SIGKILL mid-render leaves the previous report as it was; files are 0600, folders 0700."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from markupsafe import Markup

from auditor.config import Config
from auditor.reports.charts import Bar, stacked_columns, stacked_rows
from auditor.reports.deadlines import apply_deadlines
from auditor.reports.digest import iter_digests
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
    pages: list[PageView]

    @property
    def attention(self) -> int:
        return sum(p.needs_attention for p in self.pages)


def plan_parts(view: RunView) -> list[DetailPart]:
    """Decide which file holds each page's section (sets ``PageView.detail_file``); an empty
    list means every section is in ``index.html``."""
    if len(view.pages) <= INLINE_LIMIT:
        for page in view.pages:
            page.detail_file = "index.html"
        return []
    parts: list[DetailPart] = []
    for school, group in groupby(view.pages, key=lambda p: p.school):
        pages = list(group)
        chunks = [pages[i : i + PAGES_PER_FILE] for i in range(0, len(pages), PAGES_PER_FILE)]
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


def school_chart(view: RunView) -> Markup:
    """Open items by school and severity, most first."""
    bars = [Bar(school, counts) for school, counts in view.open_by_school()]
    return stacked_rows("by-school", "Open items by school and severity", bars)


def age_chart(view: RunView) -> Markup:
    """Open items by how long they have been open, by severity."""
    bars = [Bar(label, counts) for label, counts in view.open_by_age()]
    return stacked_rows("by-age", "Open items by time since first found", bars)


def render_html(view: RunView, parts: list[DetailPart] | None = None) -> str:
    """The run report's front page (inline CSS, SVG and script, no remote content)."""
    return "".join(generate_html(view, parts))


def generate_html(
    view: RunView, parts: list[DetailPart] | None = None, sections: list[Markup] | None = None
) -> Iterator[str]:
    """:func:`render_html` piece by piece; ``sections``: the pages' sections, when they are
    in it (rendered here, with no stored pieces, when not given)."""
    parts = plan_parts(view) if parts is None else parts
    if not parts and sections is None:
        cache = Cache(None, view, inline=True)
        sections = [
            section(view, p, made)
            for p, made in zip(view.pages, cache.pieces(view.pages), strict=True)
        ]
    charts = {"trend": trend_chart(view), "school": school_chart(view), "age": age_chart(view)}
    template = environment().get_template("run_report.html.j2")
    yield from template.generate(
        run=view, parts=parts, root="", limit=100, charts=charts, sections=sections or []
    )


def render_part(view: RunView, part: DetailPart, sections: list[Markup]) -> Iterator[str]:
    """One file of page sections for a large run (at most ``PAGES_PER_FILE`` pages), piece
    by piece (written as it comes, never held whole)."""
    template = environment().get_template("details.html.j2")
    return template.generate(run=view, part=part, root="../", sections=sections)


def write_report(
    view: RunView, out_dir: Path, config: Config | None = None, reuse: bool = True
) -> Path:
    """Write every output of the run into ``out_dir`` (replacing the report there); return
    the path of ``index.html``. ``config`` supplies the time zone and ``reports.base_url``
    (defaults when omitted); ``reuse``: use (and keep) the pages' stored report pieces in
    the database the run was loaded from (``reports.pieces``)."""
    config = config or Config()
    view.timezone = config.district.timezone
    apply_deadlines(view, config.remediation, view.timezone)
    try:
        with replaced_folder(out_dir, OUTPUTS) as staging:
            _write_outputs(view, config, staging, reuse)
    except OSError as exc:
        raise ReportFolderError(f"{out_dir}: the report could not be written: {exc}") from exc
    return out_dir / "index.html"


def _write_parts(
    view: RunView, out: Path, parts: list[DetailPart], cache: Cache, split: bool
) -> list[Markup]:
    """Write the pages' details files, findings files and action plans, a part at a time
    (its pieces dropped before the next part's are read); the sections of a run whose
    sections are in index.html."""
    stems = [(findings_stem(part), part.title, part.pages) for part in parts]
    sections: list[Markup] = []
    plans = ActionPlans(view, make_folder(out / PLANS_DIR))
    with FindingsWriter(view, out, stems if split else None) as findings:
        for k, part in enumerate(parts or [DetailPart("index.html", "", view.pages)]):
            made = cache.pieces(part.pages)
            shown = [section(view, p, m) for p, m in zip(part.pages, made, strict=True)]
            if parts:
                write_pieces(out / part.path, render_part(view, part, shown))
            else:
                sections = shown
            findings.add(part.pages, made, stems[k][:2] if split else None)
            plans.add(part.pages, made)
    return sections


def _write_outputs(view: RunView, config: Config, out: Path, reuse: bool) -> None:
    """Render every output of the run into the new, empty folder ``out``: the pages a part
    at a time (their pieces read, or rendered and stored, then written to each file)."""
    parts = plan_parts(view)
    cache = Cache(view.database if reuse else None, view, inline=not parts)
    split = bool(parts) and len(view.pages) > FINDINGS_INLINE_LIMIT
    if parts:
        make_folder(out / DETAILS_DIR)
    if split:
        make_folder(out / FINDINGS_DIR)
    sections = _write_parts(view, out, parts, cache, split)
    write_pieces(out / "index.html", generate_html(view, parts, sections))
    cache.report()
    if view.discovered:
        write_discovered_csv(view, out / DISCOVERED_CSV)
    digests_dir = make_folder(out / DIGESTS_DIR)
    for digest in iter_digests(view, config):  # one at a time: each written, then dropped
        stem = file_stem(digest.recipient)
        write_text(digests_dir / f"{stem}.html", digest.html)
        write_text(digests_dir / f"{stem}.txt", digest.text)
