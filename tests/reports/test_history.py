"""History across runs: first-seen dates, trends, "what changed", re-rendering a past run,
discovered groups, and a query count that does not grow with the number of results."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine, event
from typer.testing import CliRunner

from auditor.cli import app
from auditor.reports.run_report import write_report
from auditor.reports.view import Trend, load_run
from auditor.results import RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def result(rule: str, status: Status, severity: Severity = Severity.HIGH) -> RuleResult:
    return RuleResult(rule=rule, status=status, severity=severity, message=f"{rule} {status}")


def five_runs(engine: Engine) -> list[int]:
    """Page a: DS2.closed fails, passes once, fails twice more; page b errors in run 4;
    page c warns then fails."""
    add_pages(engine, [PageSpec("a", "A"), PageSpec("b", "B"), PageSpec("c", "C")], DAY0)
    closed = ["fail", "fail", "pass", "fail", "fail"]
    b_outcomes: list[list[RuleResult] | str] = [
        [result("DS2.moderated", Status.FAIL)],
        [result("DS2.moderated", Status.FAIL)],
        [result("DS2.moderated", Status.FAIL)],
        "connector timed out",
        [result("DS2.moderated", Status.FAIL)],
    ]
    c_status = [Status.WARN, Status.WARN, Status.WARN, Status.FAIL, Status.PASS]
    ids = []
    for i in range(5):
        ids.append(
            add_run(
                engine,
                DAY0 + timedelta(days=i),
                {
                    "a": [result("DS2.closed", Status(closed[i]))],
                    "b": b_outcomes[i],
                    "c": [result("DS2.moderated", c_status[i], Severity.MEDIUM)],
                },
            )
        )
    return ids


def by_page(view, page_id: str):
    return next(p for p in view.pages if p.id == page_id)


def test_first_seen_is_the_start_of_the_unbroken_streak(engine: Engine) -> None:
    ids = five_runs(engine)
    view = load_run(engine, ids[4])
    a = by_page(view, "a").results[0]
    assert a.first_seen == DAY0 + timedelta(days=3)  # the pass in run 3 broke the streak
    assert a.first_seen_run == ids[3] and a.days_open == 1
    b = by_page(view, "b").results[0]
    assert b.first_seen == DAY0  # run 4 could not audit b: no evidence it was fixed
    assert b.days_open == 4


def test_trends_compare_with_each_pages_previous_audit(engine: Engine) -> None:
    ids = five_runs(engine)
    run4 = load_run(engine, ids[3])
    assert by_page(run4, "a").results[0].trend == Trend.NEW
    assert by_page(run4, "c").results[0].trend == Trend.NEW  # warn -> fail
    assert by_page(run4, "c").results[0].first_seen == DAY0 + timedelta(days=3)
    run5 = load_run(engine, ids[4])
    assert by_page(run5, "a").results[0].trend == Trend.STILL
    assert by_page(run5, "b").results[0].trend == Trend.STILL  # vs. its audit in run 3
    assert by_page(run5, "c").results[0].trend == Trend.RESOLVED
    assert run5.previous_run is not None and run5.previous_run.id == ids[3]


def test_a_past_run_renders_as_it_was(engine: Engine, tmp_path: Path) -> None:
    ids = five_runs(engine)
    out = tmp_path / "report"  # beside the SQLite file, not around it
    write_report(load_run(engine, ids[2]), out)
    data = json.loads((out / "findings.json").read_text())
    assert data["run"]["id"] == ids[2]
    a = next(p for p in data["pages"] if p["id"] == "a")
    assert a["resolved"] == ["DS2.closed"] and a["results"] == [] and a["passing"] == []
    full = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    [closed] = next(p for p in full if p["id"] == "a")["results"]
    assert closed["status"] == "pass" and closed["trend"] == "resolved"
    assert data["summary"]["changes"] == {"new": 0, "resolved": 1, "still_failing": 1}
    html = (out / "index.html").read_text()
    assert (
        "<strong>0</strong> new, <strong>1</strong> resolved, <strong>1</strong> still failing"
        in html
    )


def test_cli_report_rerenders_a_chosen_run(engine: Engine, tmp_path: Path) -> None:
    ids = five_runs(engine)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[district]\nname = "Test District"\n[database]\nurl = "{engine.url}"\n'
        '[reports]\nbase_url = "https://audit.example.org/r"\n'
    )
    out = tmp_path / "old"
    outcome = CliRunner().invoke(
        app, ["report", "--config", str(config), "--run", str(ids[1]), "--output", str(out)]
    )
    assert outcome.exit_code == 0, outcome.output
    data = json.loads((out / "findings.json").read_text())
    assert data["run"]["id"] == ids[1]
    digest = (out / "digests" / "boss@district.org.txt").read_text()
    assert "https://audit.example.org/r/index.html" in digest


def test_history_takes_a_fixed_number_of_queries(engine: Engine) -> None:
    def statements_to_load(run_id: int) -> int:
        count = 0

        def tick(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(engine, "before_cursor_execute", tick)
        try:
            load_run(engine, run_id)
        finally:
            event.remove(engine, "before_cursor_execute", tick)
        return count

    small = five_runs(engine)[-1]
    pages = [PageSpec(f"p{i}", f"P{i}") for i in range(40)]
    add_pages(engine, pages, DAY0)
    rules = ["DS2.closed", "DS2.moderated", "DS2.invite-only"]
    for day in range(5, 8):
        big = add_run(
            engine,
            DAY0 + timedelta(days=day),
            {p.id: [result(rule, Status.FAIL) for rule in rules] for p in pages},
        )
    assert statements_to_load(big) == statements_to_load(small)


def test_discovered_groups_appear_when_present(engine: Engine, tmp_path: Path) -> None:
    add_pages(engine, [PageSpec("a", "A")], DAY0)
    plain = add_run(engine, DAY0, {"a": [result("DS2.closed", Status.PASS)]})
    found = add_run(
        engine,
        DAY0 + timedelta(days=1),
        {"a": [result("DS2.closed", Status.PASS)]},
        discovered=[
            {
                "connector": "gg",
                "platform": "google-groups",
                "external_id": "secret-club@district.org",
                "name": "Secret Club",
                "url": "https://groups.google.com/g/secret-club",
            }
        ],
    )
    write_report(load_run(engine, plain), tmp_path / "plain")
    assert "not registered" not in (tmp_path / "plain" / "index.html").read_text()
    assert not (tmp_path / "plain" / "discovered-groups.csv").exists()
    write_report(load_run(engine, found), tmp_path / "found")
    html = (tmp_path / "found" / "index.html").read_text()
    assert "Groups found that are not registered (1)" in html
    assert '<a href="https://groups.google.com/g/secret-club"' in html
    data = json.loads((tmp_path / "found" / "findings.json").read_text())
    assert data["discovered_groups"][0]["external_id"] == "secret-club@district.org"
    assert "secret-club@district.org" in (tmp_path / "found" / "discovered-groups.csv").read_text()
