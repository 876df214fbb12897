"""Defect 13 of the hardening issue (second part): supervisors whose addresses differ only in
characters a file name cannot hold (``o'brien@`` and ``o_brien@``) get a digest, an action
plan and a preview email each; one never overwrites the other."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from auditor.db.engine import make_engine, upgrade
from auditor.email.digests import preview, write_preview
from auditor.loading import load_config
from auditor.reports.environment import file_stem
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status
from tests.reports.report_seed import PageSpec, add_pages, add_run

DAY = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
FAIL = RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="open")
APOSTROPHE, UNDERSCORE = "o'brien@district.org", "o_brien@district.org"
PAGES = [
    PageSpec("chess", "Chess Club", supervisor=APOSTROPHE),
    PageSpec("drama", "Drama Club", supervisor=UNDERSCORE),
]


def test_supervisors_differing_only_in_punctuation_get_separate_files(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = load_config(make_config({}, db_url=db_url))
    engine = make_engine(db_url)
    upgrade(engine)
    add_pages(engine, PAGES, DAY)
    view = load_run(engine, add_run(engine, DAY, {p.id: [FAIL] for p in PAGES}))
    engine.dispose()
    out = tmp_path / "report"
    write_report(view, out, config)

    digests = sorted((out / "digests").glob("*.txt"))
    plans = sorted((out / "action-plans").glob("*.csv"))
    assert len(digests) == len(plans) == 2
    assert len(list((out / "digests").glob("*.html"))) == 2
    for supervisor, page in ((APOSTROPHE, "Chess Club"), (UNDERSCORE, "Drama Club")):
        stem = file_stem(supervisor)
        text = (out / "digests" / f"{stem}.txt").read_text(encoding="utf-8")
        assert f"for {supervisor}" in text and page in text
        with (out / "action-plans" / f"{stem}.csv").open(encoding="utf-8") as handle:
            assert {row["page_name"] for row in csv.DictReader(handle)} == {page}
    # An address a file name can hold keeps its name; the other gets a distinguishing suffix.
    assert file_stem(UNDERSCORE) == UNDERSCORE
    assert file_stem(APOSTROPHE).startswith("o_brien@district.org~")

    emails = write_preview(preview(view, config), config, tmp_path / "eml")
    assert len({p.name for p in emails}) == len(emails) == 2
    assert {p.read_bytes().count(b"To: o") for p in emails} == {1}
