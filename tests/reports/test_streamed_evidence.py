"""A run loaded without its evidence (``load_run(evidence=False)``, as ``auditor report``
and a run's own report and alerts load it) writes exactly the report of a run loaded
whole, reading the evidence a few pages at a time; evidence read outside
``RunView.evidence_of`` is an error, never an empty list."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_seed import PageSpec, add_pages, add_run
from sample_audit import SampleRun
from sqlalchemy import Engine, update

from auditor.db.models import Result
from auditor.db.store import PURGED
from auditor.errors import AuditorError
from auditor.reports import run_report
from auditor.reports.run_report import write_report
from auditor.reports.view import EvidenceGoneError, EvidenceNotLoadedError, load_run
from auditor.results import Evidence, RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path."""
    return {str(f.relative_to(folder)): f.read_bytes() for f in folder.rglob("*") if f.is_file()}


@pytest.mark.parametrize("split", [False, True], ids=["one-file", "detail-files"])
def test_report_from_a_run_loaded_without_evidence_is_the_same(
    sample: SampleRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: bool
) -> None:
    """Every output file (HTML, findings, digests, action plans) is byte for byte the one
    written from a whole load, with the pages in one file and split into detail files."""
    if split:
        monkeypatch.setattr(run_report, "INLINE_LIMIT", 2)
        monkeypatch.setattr(run_report, "PAGES_PER_FILE", 2)
    whole = tmp_path / "whole"
    write_report(load_run(sample.engine, sample.run_id), whole, sample.config)
    streamed = tmp_path / "streamed"
    write_report(load_run(sample.engine, sample.run_id, evidence=False), streamed, sample.config)
    expected, got = files_of(whole), files_of(streamed)
    assert sorted(got) == sorted(expected)
    assert (whole / "details").is_dir() is split
    assert any(b'<dl class="evidence">' in data for data in got.values())  # evidence shown
    for name, data in expected.items():
        assert got[name] == data, name


def test_evidence_outside_its_block_is_refused_and_dropped_after(sample: SampleRun) -> None:
    """Reading evidence not loaded raises (also inside json.dumps); within
    ``evidence_of`` it is there, and after the block it is dropped again."""
    whole = load_run(sample.engine, sample.run_id)
    view = load_run(sample.engine, sample.run_id, evidence=False)
    page = next(p for p in view.pages if any(r.evidence_row for r in p.results))
    result = next(r for r in page.results if r.evidence_row)
    same_page = next(p for p in whole.pages if p.id == page.id)
    expected = next(r.evidence for r in same_page.results if r.rule == result.rule)
    with pytest.raises(EvidenceNotLoadedError):
        bool(result.evidence)
    with pytest.raises((EvidenceNotLoadedError, TypeError)):
        json.dumps(result.evidence)
    with view.evidence_of([page]):
        assert result.evidence == expected
        with view.evidence_of([page]):  # an inner block leaves the outer one's evidence
            pass
        assert result.evidence == expected
    with pytest.raises(EvidenceNotLoadedError):
        list(result.evidence)


def test_with_evidence_holds_one_batch_at_a_time(engine: Engine) -> None:
    """``with_evidence`` gives each page with its evidence, and drops a batch's evidence
    before reading the next (SQLite and PostgreSQL)."""
    pages = [PageSpec(f"p{i}", f"Page {i}") for i in range(5)]
    add_pages(engine, pages, DAY0)
    outcomes = {
        p.id: [
            RuleResult(
                rule="DS4.members",
                status=Status.FAIL,
                severity=Severity.HIGH,
                message="outsiders",
                evidence=[Evidence(kind="member", ref=p.id, value=f"Stranger of {p.id}")],
            ),
            RuleResult(rule="DS2.closed", status=Status.PASS, severity=Severity.LOW, message="ok"),
        ]
        for p in pages
    }
    run_id = add_run(engine, DAY0, outcomes)
    view = load_run(engine, run_id, evidence=False)
    seen = []
    for page in view.with_evidence(view.pages, batch=2):
        seen.append((page.id, [e["value"] for r in page.results for e in r.evidence]))
        held = [p.id for p in view.pages if p.results[0].evidence_row and _loaded(p)]
        assert len(held) <= 2 and page.id in held
    assert seen == [(p.id, [f"Stranger of {p.id}"]) for p in pages]
    assert not any(_loaded(p) for p in view.pages)


def _loaded(page: object) -> bool:
    """Whether the page's first result holds its evidence now."""
    try:
        bool(page.results[0].evidence)  # type: ignore[attr-defined]
    except EvidenceNotLoadedError:
        return False
    return True


def test_evidence_purged_after_the_load_stops_the_report_with_a_sentence(
    sample: SampleRun,
) -> None:
    """The retention purge between the load and the render: the report is refused with a
    sentence (an AuditorError the CLI prints), never written with findings missing their
    evidence."""
    view = load_run(sample.engine, sample.run_id, evidence=False)
    page = next(p for p in view.pages if any(r.evidence_row for r in p.results))
    row = next(r.evidence_row for r in page.results if r.evidence_row)
    with sample.engine.begin() as conn:
        conn.execute(update(Result).where(Result.id == row).values(evidence=[], message=PURGED))
    gone = f"evidence of run {sample.run_id} was removed"
    with pytest.raises(EvidenceGoneError, match=gone), view.evidence_of([page]):
        pass
    assert issubclass(EvidenceGoneError, AuditorError)
