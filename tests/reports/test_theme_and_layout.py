"""WCAG AA contrast of the palette, and large runs split into per-school detail files
whose links all resolve."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine

from auditor.reports import run_report
from auditor.reports.run_report import write_report
from auditor.reports.theme import DARK, LIGHT, contrast
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_every_text_colour_meets_wcag_aa(palette) -> None:
    for name, (fg, bg) in palette.text_pairs().items():
        assert contrast(fg, bg) >= 4.5, f"{name}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_contrast_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_large_runs_put_details_in_linked_per_school_files(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_report, "INLINE_LIMIT", 4)
    monkeypatch.setattr(run_report, "PAGES_PER_FILE", 3)
    pages = [PageSpec(f"n{i}", f"North {i}", school="North") for i in range(5)]
    pages += [PageSpec(f"s{i}", f"South {i}", school="South") for i in range(2)]
    add_pages(engine, pages, datetime(2026, 1, 1, tzinfo=UTC))
    fail = RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="x")
    run_id = add_run(engine, datetime(2026, 1, 2, tzinfo=UTC), {p.id: [fail] for p in pages})
    out = tmp_path / "report"  # beside the SQLite file, not around it
    write_report(load_run(engine, run_id), out)
    files = sorted(p.name for p in (out / "details").glob("*.html"))
    assert files == ["001-north.html", "002-north.html", "003-south.html"]
    index = (out / "index.html").read_text()
    assert 'class="page"' not in index  # no page section on the front page
    for href in re.findall(r'href="(details/[^"#]+)#(page-[^"]+)"', index):
        target = (out / href[0]).read_text()
        assert f'id="{href[1]}"' in target
    linked = set(re.findall(r'href="details/[^"#]+#page-([^"]+)"', index))
    assert linked == {p.id for p in pages}
