"""The whole picture: a report shows every registered page, those the run did not audit with
their newest result from an earlier complete or partial run, marked with that run and
date; a ``--page`` run updates its pages without hiding the rest."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from auditor.cli import app
from auditor.db.engine import make_engine
from auditor.db.models import Run
from auditor.email.alerts import urgent_findings
from auditor.loading import load_config
from auditor.reports.digest import build_digests
from auditor.reports.environment import day
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
PUBLIC = {"settings": {"visibility": "public", "join_policy": "invite", "post_moderation": "all"}}


def result(rule: str, status: Status, severity: Severity = Severity.HIGH) -> RuleResult:
    return RuleResult(rule=rule, status=status, severity=severity, message=f"{rule} {status}")


def run_cli(config: Path, out: Path, *extra: str) -> int:
    outcome = CliRunner().invoke(
        app, ["run", "--config", str(config), "--output", str(out), *extra]
    )
    return outcome.exit_code


def test_a_page_run_hides_no_page(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"a": {}, "b": PUBLIC, "c": {}}, db_url=db_url)
    assert run_cli(config, tmp_path / "r1") == 1
    config = make_config({"a": PUBLIC, "b": PUBLIC, "c": {}}, db_url=db_url)
    assert run_cli(config, tmp_path / "r2", "--page", "a") == 1

    engine = make_engine(db_url)
    view = load_run(engine)
    engine.dispose()
    first, second = view.id - 1, view.id
    pages = {p.id: p for p in view.pages}
    assert sorted(pages) == ["a", "b", "c"]
    assert pages["a"].from_run is None and pages["a"].worst == "fail"
    assert pages["b"].from_run is not None and pages["b"].from_run.id == first
    assert pages["c"].from_run is not None and pages["c"].from_run.id == first
    assert "DS2.closed" in [r.rule for r in pages["b"].failing]
    assert [p.id for p in view.in_run] == ["a"] and [p.id for p in view.carried] == ["b", "c"]
    # what changed is this run's news only: a's new failure, not b's old one
    new = view.changes("new")
    assert {p.id for p, _ in new} == {"a"} and "DS2.closed" in {r.rule for _, r in new}

    html = (tmp_path / "r2" / "index.html").read_text()
    assert "This run audited 1 page. The other 2 registered pages are shown" in html
    b_section = html.split('id="page-b"', 1)[1].split("</article>", 1)[0]
    shown_day = day(pages["b"].from_run.started_at, "America/New_York")  # the config's zone
    assert (
        f"Not audited in run {second}:</strong> these results are from run {first} "
        f"of {shown_day}." in b_section
    )
    table = html.split('id="page-table"', 1)[1].split("</table>", 1)[0]
    assert table.count(f"from run {first}, {shown_day}") == 2

    data = json.loads((tmp_path / "r2" / "findings.json").read_text())
    assert [p["id"] for p in data["pages"]] == ["a", "b", "c"]
    b = next(p for p in data["pages"] if p["id"] == "b")
    assert any(r["rule"] == "DS2.closed" and r["status"] == "fail" for r in b["results"])
    assert b["from_run"]["id"] == first  # a carried page names the run it comes from
    assert "from_run" not in next(p for p in data["pages"] if p["id"] == "a")
    # the manual check's words once, each page naming it by id
    assert list(data["manual_checks"]) == ["DS9.misrepresentation"]
    assert all(p["manual"] == ["DS9.misrepresentation"] for p in data["pages"])
    rows = list(csv.DictReader((tmp_path / "r2" / "findings.csv").open()))
    assert {row["page_id"] for row in rows} == {"a", "b", "c"}

    # the digests show every page too, a carried one saying it was not checked this time
    digests = build_digests(view, load_config(config))
    text = "\n".join(d.text for d in digests)
    html = "\n".join(d.html for d in digests)
    for name in ("a", "b"):  # failing: a section each
        assert f"== {pages[name].name} ==" in text
    assert f"  - {pages['c'].name} (" in text  # passing: one line, dated by its run
    c_line = text.split(f"  - {pages['c'].name} (", 1)[1].split("\n", 1)[0]
    assert f"as of the audit of {day(pages['c'].from_run.started_at, 'America/New_York')}" in c_line
    b_text = text.split(f"== {pages['b'].name} ==", 1)[1].split("\n== ", 1)[0]
    assert "Not checked in this audit: these are its results from the audit of" in b_text
    a_text = text.split(f"== {pages['a'].name} ==", 1)[1].split("\n== ", 1)[0]
    assert "Not checked in this audit" not in a_text
    assert html.count("Not checked in this audit:") == 1  # b, not a


def test_carried_pages_keep_their_history(engine: Engine) -> None:
    """b fails in runs 1 and 2 and is not audited in run 3: it is shown from run 2, open
    since run 1, counted in days to run 3; its older failure raises no alert."""
    add_pages(engine, [PageSpec("a", "A"), PageSpec("b", "B")], DAY0)
    closed = [result("DS2.closed", Status.FAIL)]
    r1 = add_run(engine, DAY0, {"a": closed, "b": closed})
    r2 = add_run(engine, DAY0 + timedelta(days=1), {"a": closed, "b": closed})
    r3 = add_run(engine, DAY0 + timedelta(days=10), {"a": [result("DS2.closed", Status.PASS)]})
    view = load_run(engine, r3)
    b = next(p for p in view.pages if p.id == "b")
    assert b.from_run is not None and (b.from_run.id, b.from_run.started_at) == (
        r2,
        view.trend[1].run.started_at,
    )
    (failing,) = b.failing
    assert (failing.first_seen_run, failing.days_open, failing.trend) == (r1, 10, "still-failing")
    assert b.history["DS2.closed"] == ["fail", "fail", None]
    assert [p.id for p, _ in view.changes("resolved")] == ["a"]
    assert urgent_findings(engine, view, Severity.LOW) == []


def test_only_settled_runs_stand_for_a_page(engine: Engine, tmp_path: Path) -> None:
    """An interrupted run's audit is not a page's latest state; a partial run's is."""
    add_pages(engine, [PageSpec("a", "A"), PageSpec("b", "B"), PageSpec("c", "C")], DAY0)
    passing = [result("DS2.closed", Status.PASS)]
    add_run(engine, DAY0, {"a": passing, "b": passing, "c": passing})
    partial = add_run(
        engine,
        DAY0 + timedelta(days=1),
        {"b": [result("DS2.closed", Status.FAIL)], "c": "connector timed out"},
    )
    cut = add_run(engine, DAY0 + timedelta(days=2), {"b": passing})
    with Session(engine) as session:
        session.execute(update(Run).where(Run.id == cut).values(status="interrupted"))
        session.commit()
    shown = add_run(engine, DAY0 + timedelta(days=3), {"a": passing})
    view = load_run(engine, shown)
    pages = {p.id: p for p in view.pages}
    assert pages["b"].from_run is not None and pages["b"].from_run.id == partial
    assert pages["b"].worst == "fail"
    assert pages["c"].from_run is not None and pages["c"].from_run.id == partial
    assert pages["c"].status == "error" and pages["c"].error == "connector timed out"
    assert view.errored_now == []  # c's error is old news, listed with its run
    write_report(view, tmp_path / "r")
    html = (tmp_path / "r" / "index.html").read_text()
    assert f", in run {partial} of 2026-10-02): <bdi>connector timed out</bdi>" in html


def test_report_of_a_page_run_names_where_each_page_comes_from(
    engine: Engine, tmp_path: Path
) -> None:
    add_pages(engine, [PageSpec("a", "A"), PageSpec("b", "B")], DAY0)
    passing = [result("DS2.closed", Status.PASS)]
    first = add_run(engine, DAY0, {"a": passing, "b": passing})
    second = add_run(engine, DAY0 + timedelta(days=1), {"a": passing})
    write_report(load_run(engine, second), tmp_path / "r")
    html = (tmp_path / "r" / "index.html").read_text()
    assert f"from run {first}, 2026-10-01" in html
    assert html.count("Not audited in run") == 1
