"""Writes a run's report folder: ``index.html`` (plus ``details/*.html`` for large runs),
``findings.json``, ``findings.csv``, ``digests/<supervisor>.html|.txt`` and
``action-plans/<supervisor>.csv`` (and ``discovered-groups.csv`` when discovery found any).

The folder is written whole beside its target and switched in with a rename, so a crash or
SIGKILL mid-render leaves the previous report as it was; files are 0600, folders 0700."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from auditor.config import Config
from auditor.reports.deadlines import apply_deadlines
from auditor.reports.digest import build_digests
from auditor.reports.environment import environment, file_stem, readable_stem
from auditor.reports.export import write_action_plan, write_csv, write_discovered_csv, write_json
from auditor.reports.files import ReportFolderError, make_folder, replaced_folder, write_text
from auditor.reports.view import PageView, RunView

# Up to this many pages, every page's section is in index.html (one file to mail or print);
# beyond, sections go to per-school files of at most PAGES_PER_FILE pages each, so no file
# grows past a few megabytes however large the district.
INLINE_LIMIT = 150
PAGES_PER_FILE = 150
DETAILS_DIR = "details"
DIGESTS_DIR = "digests"
PLANS_DIR = "action-plans"
DISCOVERED_CSV = "discovered-groups.csv"
# Everything a report folder holds; a folder holding anything else is not replaced.
OUTPUTS = frozenset(
    (
        "index.html",
        "findings.json",
        "findings.csv",
        DISCOVERED_CSV,
        DETAILS_DIR,
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


def render_html(view: RunView, parts: list[DetailPart] | None = None) -> str:
    """The run report's front page (inline CSS and script, no remote content)."""
    parts = plan_parts(view) if parts is None else parts
    template = environment().get_template("run_report.html.j2")
    return template.render(run=view, parts=parts, root="", limit=100)


def render_part(view: RunView, part: DetailPart) -> str:
    """One file of page sections for a large run."""
    return environment().get_template("details.html.j2").render(run=view, part=part, root="../")


def write_report(view: RunView, out_dir: Path, config: Config | None = None) -> Path:
    """Write every output of the run into ``out_dir`` (replacing the report there); return
    the path of ``index.html``. ``config`` supplies the time zone and ``reports.base_url``
    (defaults when omitted)."""
    config = config or Config()
    view.timezone = config.district.timezone
    apply_deadlines(view, config.remediation, view.timezone)
    try:
        with replaced_folder(out_dir, OUTPUTS) as staging:
            _write_outputs(view, config, staging)
    except OSError as exc:
        raise ReportFolderError(f"{out_dir}: the report could not be written: {exc}") from exc
    return out_dir / "index.html"


def _write_outputs(view: RunView, config: Config, out: Path) -> None:
    """Render every output of the run into the new, empty folder ``out``."""
    parts = plan_parts(view)
    if parts:
        make_folder(out / DETAILS_DIR)
    for part in parts:
        write_text(out / part.path, render_part(view, part))
    write_text(out / "index.html", render_html(view, parts))
    write_json(view, out / "findings.json")
    write_csv(view, out / "findings.csv")
    if view.discovered:
        write_discovered_csv(view, out / DISCOVERED_CSV)
    digests_dir = make_folder(out / DIGESTS_DIR)
    plans_dir = make_folder(out / PLANS_DIR)
    for digest in build_digests(view, config):
        stem = file_stem(digest.recipient)
        write_text(digests_dir / f"{stem}.html", digest.html)
        write_text(digests_dir / f"{stem}.txt", digest.text)
        wanted = set(digest.page_ids)
        write_action_plan((p for p in view.pages if p.id in wanted), plans_dir / f"{stem}.csv")
