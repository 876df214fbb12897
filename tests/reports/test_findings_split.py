"""A large run's findings are split like its detail files (so no file grows with the
district): findings.json keeps the run, summary, manual checks and an index of pages and
parts, findings.csv one row per page, and each part's files hold exactly the records and
rows a whole findings.json and findings.csv would."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sample_audit import SampleRun
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.db.models import Page, PageAudit, Result, results_holder
from auditor.reports import run_report
from auditor.reports.export import findings
from auditor.reports.run_report import write_report
from auditor.reports.view import RunView, load_run


def rows_of(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def planned(sample: SampleRun) -> RunView:
    """The sample run loaded whole, its pages' detail files planned as the report's are."""
    view = load_run(sample.engine, sample.run_id)
    run_report.plan_parts(view)
    return view


@pytest.fixture
def split_report(sample: SampleRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample run's report with two pages a part, and findings split above two pages."""
    monkeypatch.setattr(run_report, "INLINE_LIMIT", 2)
    monkeypatch.setattr(run_report, "PAGES_PER_FILE", 2)
    monkeypatch.setattr(run_report, "FINDINGS_INLINE_LIMIT", 2)
    out = tmp_path / "split"
    write_report(load_run(sample.engine, sample.run_id, evidence=False), out, sample.config)
    return out


def test_split_findings_json_holds_every_page_record_once(
    sample: SampleRun, split_report: Path
) -> None:
    """The parts' pages, in order, are the pages of the whole document; the index names
    each page's file, and the head keeps the run, summary and manual checks."""
    whole = json.loads(json.dumps(findings(planned(sample))))
    head = json.loads((split_report / "findings.json").read_text(encoding="utf-8"))
    assert "pages" not in head
    assert head["run"] == whole["run"] and head["summary"] == whole["summary"]
    assert head["manual_checks"] == whole["manual_checks"]
    pages: list[dict[str, object]] = []
    for part in head["parts"]:
        data = json.loads((split_report / part["file"]).read_text(encoding="utf-8"))
        assert data["run_id"] == whole["run"]["id"] and len(data["pages"]) == part["pages"]
        assert part["need_attention"] == sum(p["worst"] != "pass" for p in data["pages"])
        pages += data["pages"]
    assert len(head["parts"]) > 1
    assert pages == whole["pages"]
    files = {p["id"]: part["file"] for part in head["parts"] for p in _pages(split_report, part)}
    assert [(e["id"], e["findings"]) for e in head["page_index"]] == [
        (p["id"], files[p["id"]]) for p in whole["pages"]
    ]
    assert all(path.stat().st_size > 0 for path in (split_report / "findings").iterdir())


def test_split_findings_csv_lists_every_row_in_its_part(
    sample: SampleRun, split_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts' CSV rows, in order, are the rows of a whole findings.csv; findings.csv
    has one row per page naming the part's file when it lists results there."""
    monkeypatch.setattr(run_report, "FINDINGS_INLINE_LIMIT", 1000)
    whole = tmp_path / "whole"  # the same run's report, its findings.csv whole
    write_report(load_run(sample.engine, sample.run_id), whole, sample.config, reuse=False)
    expected = rows_of(whole / "findings.csv")
    head = json.loads((split_report / "findings.json").read_text(encoding="utf-8"))
    got = [row for part in head["parts"] for row in rows_of(split_report / part["csv"])]
    assert got == expected
    summary = rows_of(split_report / "findings.csv")
    assert [r["page_id"] for r in summary] == [e["id"] for e in head["page_index"]]
    for row, entry in zip(summary, head["page_index"], strict=True):
        listed = sum(r["page_id"] == row["page_id"] and r["rule"] != "" for r in expected)
        if listed:
            assert row["message"] == f"{listed} result(s) listed in {entry['findings'][:-5]}.csv"
            assert row["status"] == entry["worst"]


def _pages(folder: Path, part: dict[str, str]) -> list[dict[str, str]]:
    """The page records of one part file."""
    return json.loads((folder / part["file"]).read_text(encoding="utf-8"))["pages"]


def test_findings_csv_rows_are_the_stored_results(sample: SampleRun, tmp_path: Path) -> None:
    """Independently of the code that writes it: findings.csv, parsed, lists exactly the
    run's stored results that are not passing or not applicable, each with its page's
    registration and the rule, status, severity and message the database holds, and one
    row for each page that lists none."""
    out = tmp_path / "whole"
    write_report(load_run(sample.engine, sample.run_id), out, sample.config, reuse=False)
    rows = rows_of(out / "findings.csv")
    with Session(sample.engine) as session:
        stored = session.execute(
            select(
                PageAudit.page_id,
                Page.name,
                Page.school,
                Page.owner,
                Page.supervisor,
                Result.rule_id,
                Result.status,
                Result.severity,
                Result.message,
            )
            .join(Page, Page.id == PageAudit.page_id)
            .join(Result, Result.page_audit_id == results_holder(PageAudit))
            .where(PageAudit.run_id == sample.run_id)
        ).all()
        audited = set(
            session.scalars(select(PageAudit.page_id).where(PageAudit.run_id == sample.run_id))
        )
    listed = {
        (r.page_id, r.rule_id): r for r in stored if r.status not in ("pass", "not-applicable")
    }
    assert len(listed) > 10
    got = {(row["page_id"], row["rule"]): row for row in rows if row["rule"]}
    assert got.keys() == listed.keys()
    for key, row in got.items():
        want = listed[key]
        assert row["run_id"] == str(sample.run_id)
        assert (row["page_name"], row["school"], row["owner"], row["supervisor"]) == (
            want.name,
            want.school,
            want.owner,
            want.supervisor,
        )
        assert (row["status"], row["severity"], row["message"]) == (
            want.status,
            want.severity,
            want.message,
        ), key
    quiet = {row["page_id"] for row in rows if not row["rule"]}
    assert quiet == audited - {page for page, _ in listed}
    assert len(rows) == len(got) + len(quiet)
