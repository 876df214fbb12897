"""Writes a run's report folder: ``index.html`` (plus ``details/*.html`` for large runs),
``findings.json``, ``findings.csv``, ``digests/<supervisor>.html|.txt`` and
``action-plans/<supervisor>.csv`` (and ``discovered-groups.csv`` when discovery found any)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from auditor.config import Config
from auditor.reports.digest import build_digests
from auditor.reports.environment import environment, file_stem
from auditor.reports.export import write_action_plan, write_csv, write_discovered_csv, write_json
from auditor.reports.view import PageView, RunView

# Up to this many pages, every page's section is in index.html (one file to mail or print);
# beyond, sections go to per-school files of at most PAGES_PER_FILE pages each, so no file
# grows past a few megabytes however large the district.
INLINE_LIMIT = 150
PAGES_PER_FILE = 150
DETAILS_DIR = "details"
GENERATED = (
    (DETAILS_DIR, "*.html"),
    ("digests", "*.html"),
    ("digests", "*.txt"),
    ("action-plans", "*.csv"),
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
            path = f"{DETAILS_DIR}/{len(parts) + 1:03d}-{file_stem(name.lower())}.html"
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


def _clear_generated(out_dir: Path) -> None:
    """Remove files an earlier render wrote into the sub-folders this module owns."""
    for folder, pattern in GENERATED:
        for old in (out_dir / folder).glob(pattern):
            old.unlink()


def write_report(view: RunView, out_dir: Path, config: Config | None = None) -> Path:
    """Write every output of the run into ``out_dir``; return the path of ``index.html``.
    ``config`` supplies the time zone and ``reports.base_url`` (defaults when omitted)."""
    config = config or Config()
    view.timezone = config.district.timezone
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_generated(out_dir)
    parts = plan_parts(view)
    for part in parts:
        target = out_dir / part.path
        target.parent.mkdir(exist_ok=True)
        target.write_text(render_part(view, part), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(render_html(view, parts), encoding="utf-8")
    write_json(view, out_dir / "findings.json")
    write_csv(view, out_dir / "findings.csv")
    discovered = out_dir / "discovered-groups.csv"
    if view.discovered:
        write_discovered_csv(view, discovered)
    else:
        discovered.unlink(missing_ok=True)
    digests_dir = out_dir / "digests"
    plans_dir = out_dir / "action-plans"
    digests_dir.mkdir(exist_ok=True)
    plans_dir.mkdir(exist_ok=True)
    for digest in build_digests(view, config):
        stem = file_stem(digest.recipient)
        (digests_dir / f"{stem}.html").write_text(digest.html, encoding="utf-8")
        (digests_dir / f"{stem}.txt").write_text(digest.text, encoding="utf-8")
        wanted = set(digest.page_ids)
        write_action_plan((p for p in view.pages if p.id in wanted), plans_dir / f"{stem}.csv")
    return index
