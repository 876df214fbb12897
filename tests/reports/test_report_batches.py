"""The report of a run reads its pages in full a batch at a time: however many pages the
run has, the pages held in full at once stay within a batch (and the part being written),
and the report is byte for byte the one written from the run read whole."""

from __future__ import annotations

import filecmp
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine, update

from auditor.config import Config
from auditor.db.models import Page
from auditor.email.alerts import urgent_findings
from auditor.reports import digest, outline, run_report
from auditor.reports import view as view_module
from auditor.reports.outline import PageNotSummedError, open_run
from auditor.reports.run_report import write_report
from auditor.reports.view import PAGES_NOT_READ, PagesNotReadError, PageView, Trend, load_run
from auditor.results import RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
PAGES = 60
BATCH = 8  # pages read in full at a time in these tests
PART = 4  # pages a details file
IN_FULL = 3  # pages a digest lists in full


def results(i: int, day: int) -> list[RuleResult] | str:
    """Page ``i``'s results on ``day``: some fail (some newly), one in 13 errors, every
    page has a manual check."""
    if (i + day) % 13 == 0:
        return "connector timed out"
    fails = (i + day) % 3 == 0
    return [
        RuleResult(
            rule="DS2.closed",
            status=Status.FAIL if fails else Status.PASS,
            severity=Severity.HIGH,
            message="open to anyone" if fails else "closed",
        ),
        RuleResult(
            rule="DS3.moderated",
            status=Status.WARN if i % 5 == 0 else Status.PASS,
            severity=Severity.MEDIUM,
            message="posts not moderated" if i % 5 == 0 else "moderated",
        ),
        RuleResult(
            rule="DS9.misrepresentation",
            status=Status.MANUAL,
            severity=Severity.LOW,
            message="check by hand",
        ),
    ]


def seed(engine: Engine, by_school: bool = False) -> int:
    """Three runs of ``PAGES`` pages in five schools and three supervisors across them
    (``by_school``: in schools of ``BATCH`` pages, each its own supervisor); the last run
    leaves a few pages out (shown from the run before). Returns the last run's id."""
    pages = [
        PageSpec(
            f"p{i:03d}",
            f"Club {i:03d}",
            school=f"School {i // BATCH if by_school else i % 5}",
            supervisor=f"boss{i // BATCH if by_school else i % 3}@district.org",
        )
        for i in range(PAGES)
    ]
    add_pages(engine, pages, DAY0)
    run_id = 0
    for day in range(3):
        shown = [p for k, p in enumerate(pages) if day < 2 or k % 10]
        outcomes = {p.id: results(int(p.id[1:]), day) for p in shown}
        run_id = add_run(engine, DAY0 + timedelta(days=7 * day), outcomes)
    return run_id


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of ``BATCH`` pages, parts of ``PART`` pages, findings split, digests
    listing ``IN_FULL`` pages in full (read for several digests at once: at most a batch
    and one digest's)."""
    monkeypatch.setattr(digest, "PAGES_IN_FULL", IN_FULL)
    monkeypatch.setattr(run_report, "INLINE_LIMIT", PART)
    monkeypatch.setattr(run_report, "PAGES_PER_FILE", PART)
    monkeypatch.setattr(run_report, "FINDINGS_INLINE_LIMIT", PART)
    for module in (outline, run_report, digest):
        monkeypatch.setattr(module, "LOAD_PAGES", BATCH)


def count_pages(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the pages built in full: how many in all, and the most alive at once."""
    alive: dict[int, weakref.ref[PageView]] = {}  # PageView is not hashable: by id
    seen = {"built": 0, "most": 0}
    build: Callable[..., PageView] = view_module._page_view

    def counted(*args: Any) -> PageView:
        page = build(*args)
        key = id(page)
        alive[key] = weakref.ref(page, lambda _: alive.pop(key, None))
        seen["built"] += 1
        seen["most"] = max(seen["most"], len(alive))
        return page

    monkeypatch.setattr(view_module, "_page_view", counted)
    return seen


def same_folders(left: Path, right: Path) -> list[str]:
    """Files that differ (or are missing) between two report folders."""
    compare = filecmp.dircmp(left, right)
    out = [*compare.left_only, *compare.right_only, *compare.diff_files, *compare.funny_files]
    for name, sub in compare.subdirs.items():
        out += [f"{name}/{f}" for f in same_folders(Path(sub.left), Path(sub.right))]
    # dircmp compares by os.stat signature first: check contents too
    for name in compare.same_files:
        if (left / name).read_bytes() != (right / name).read_bytes():
            out.append(name)
    return out


@pytest.mark.usefixtures("small_batches")
def test_the_report_holds_one_batch_of_pages_in_full(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page is read (for its part, then again for its digest when listed in full),
    never more than a batch and a part (or a batch and a digest's pages) alive at once;
    the report is the one written from the run read whole."""
    run_id = seed(engine)
    whole = tmp_path / "whole"
    write_report(load_run(engine, run_id, evidence=False), whole, Config(), reuse=False)
    seen = count_pages(monkeypatch)
    streamed = tmp_path / "streamed"
    write_report(open_run(engine, run_id), streamed, Config(), reuse=False)
    assert seen["built"] > PAGES, "every page read for its part, some again for digests"
    assert seen["most"] <= BATCH + max(PART, IN_FULL), seen
    assert len(list((streamed / "details").glob("*.html"))) == PAGES // PART
    assert same_folders(whole, streamed) == []


@pytest.mark.usefixtures("small_batches")
def test_a_school_supervisors_digest_is_built_from_the_pages_read_for_the_details(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When each supervisor's pages are read in one batch, no page is read twice: the
    digests are built with the details; the report is still the one of the run whole."""
    run_id = seed(engine, by_school=True)
    whole = tmp_path / "whole"
    write_report(load_run(engine, run_id, evidence=False), whole, Config(), reuse=False)
    seen = count_pages(monkeypatch)
    streamed = tmp_path / "streamed"
    write_report(open_run(engine, run_id), streamed, Config(), reuse=False)
    assert seen["built"] == PAGES
    assert seen["most"] <= BATCH + PART, seen
    assert len(list((streamed / "digests").glob("*.html"))) == -(-PAGES // BATCH)
    assert same_folders(whole, streamed) == []


def test_the_count_of_pages_alive_sees_a_whole_load(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counter above is able to fail: a run read whole holds every page at once."""
    run_id = seed(engine)
    seen = count_pages(monkeypatch)
    view = load_run(engine, run_id)
    assert seen["most"] == len(view.pages) == PAGES


def test_an_outline_has_no_pages_to_sum_up_by_mistake(engine: Engine) -> None:
    """The run of an outline has no pages list: a total worked out over it is an error,
    never a zero; its lines hold no summary until their pages are summed up."""
    run = open_run(engine, seed(engine))
    assert run.view.pages is PAGES_NOT_READ
    with pytest.raises(PagesNotReadError):
        len(run.view.failing_pages)
    assert len(run.lines) == PAGES and not any(line.summed for line in run.lines)
    with pytest.raises(PageNotSummedError):
        run.lines[0].needs_attention  # noqa: B018


@pytest.mark.usefixtures("small_batches")
def test_a_page_reregistered_while_the_report_is_written_is_shown_as_the_outline_read_it(
    engine: Engine, tmp_path: Path
) -> None:
    """A registry sync between the outline and a page's batch (another supervisor, say)
    does not break the report: every output shows the page as the outline read it."""
    run_id = seed(engine)
    whole = tmp_path / "whole"
    write_report(load_run(engine, run_id, evidence=False), whole, Config(), reuse=False)
    run = open_run(engine, run_id)
    with engine.begin() as conn:
        conn.execute(
            update(Page)
            .where(Page.id == "p007")
            .values(supervisor="new-boss@district.org", school="Elsewhere", name="Renamed")
        )
    streamed = tmp_path / "streamed"
    write_report(run, streamed, Config(), reuse=False)
    assert same_folders(whole, streamed) == []


@pytest.mark.usefixtures("small_batches")
def test_alerts_read_only_the_pages_with_a_failing_result_and_find_what_a_whole_read_finds(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = seed(engine)
    whole = urgent_findings(engine, load_run(engine, run_id), Severity.LOW)
    run = open_run(engine, run_id)
    write_report(run, tmp_path / "report", Config(), reuse=False)  # sums its pages up
    failing = {line.id for line in run.lines if line.failing}
    asked: list[str] = []
    reader = run.reader

    def counted(ids: list[str], changes: bool) -> list[PageView]:
        asked.extend(ids)
        return reader(ids, changes)

    run.reader = counted
    streamed = urgent_findings(engine, run, Severity.LOW)
    assert whole, "the seeded run has newly failing results"
    key = [(page.id, result.rule) for page, result in whole]
    assert [(page.id, result.rule) for page, result in streamed] == key
    assert set(asked) == failing and len(asked) == len(failing), "each failing page once"


def test_the_reports_changes_leave_out_pages_shown_from_an_earlier_run(
    engine: Engine, tmp_path: Path
) -> None:
    """New, resolved and still-failing results count only pages this run audited, as the
    run read whole counts them: a page shown from an earlier run changed in that one."""
    run_id = seed(engine)
    whole = load_run(engine, run_id)
    assert any(r.trend for p in whole.carried for r in p.results), "carried pages had trends"
    run = open_run(engine, run_id)
    write_report(run, tmp_path / "report", Config(), reuse=False)
    for trend in (Trend.NEW, Trend.RESOLVED, Trend.STILL):
        changes = run.totals.changes(trend)
        assert len(changes) == len(whole.changes(trend)), trend
        assert not any(line.carried for line, _ in changes.listed), trend
