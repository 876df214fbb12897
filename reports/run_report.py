"""Writes a run's report folder: ``index.html``, ``findings.json`` and ``findings.csv``."""

from __future__ import annotations

from pathlib import Path

from reports.environment import environment
from reports.export import write_csv, write_json
from reports.view import RunView


def render_html(view: RunView) -> str:
    """The self-contained run report (inline CSS, no scripts needed, no remote content)."""
    return environment().get_template("run_report.html.j2").render(run=view)


def write_report(view: RunView, out_dir: Path) -> Path:
    """Write every output of the run into ``out_dir``; return the path of ``index.html``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(render_html(view), encoding="utf-8")
    write_json(view, out_dir / "findings.json")
    write_csv(view, out_dir / "findings.csv")
    return index
