"""Deadlines: a failing result is due ``[remediation] due_days`` (by severity) after the
audit that first found it failing, in the district's time zone; past that day it is
overdue in the digest, the run report and the IT summary (which names the supervisor)."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine

from auditor.config import Config, DueDays, RemediationConfig
from auditor.email.digests import it_summary_mails
from auditor.reports.deadlines import apply_deadlines, due_day, is_overdue, overdue_items
from auditor.reports.digest import build_digests
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 2026-09-30 22:00 in New York
TZ = "America/New_York"


def result(rule: str, status: Status, severity: Severity) -> RuleResult:
    return RuleResult(rule=rule, status=status, severity=severity, message=f"{rule} {status}")


def test_due_day_counts_days_by_severity_from_the_local_day_first_seen() -> None:
    config = RemediationConfig()
    assert config.due_days == DueDays(high=2, medium=7, low=30)
    assert due_day(DAY0, "high", config, "UTC") == date(2026, 10, 3)
    assert due_day(DAY0, "high", config, TZ) == date(2026, 10, 2)
    assert due_day(DAY0, "low", config, TZ) == date(2026, 10, 30)
    custom = RemediationConfig(due_days=DueDays(medium=1))
    assert due_day(DAY0, "medium", custom, "UTC") == date(2026, 10, 2)


def test_overdue_only_after_the_due_day_ends_in_the_district() -> None:
    due = date(2026, 10, 2)
    end_local = datetime(2026, 10, 3, 4, 0, tzinfo=UTC)  # midnight in New York (EDT)
    assert not is_overdue(due, end_local - timedelta(seconds=1), TZ)
    assert is_overdue(due, end_local, TZ)
    assert not is_overdue(due, datetime(2026, 10, 2, 23, 59, tzinfo=UTC), "UTC")


def seeded(engine: Engine) -> int:
    """Page a fails a high rule since DAY0 (overdue by day 3); b fails a medium one (due day
    7); c warns; d's high failure passed on day 2 and is back on day 3 (its clock restarts)."""
    add_pages(
        engine,
        [
            PageSpec("a", "Alpha", supervisor="boss@district.org"),
            PageSpec("b", "Beta", supervisor="boss@district.org"),
            PageSpec("c", "Gamma", supervisor="chief@district.org"),
            PageSpec("d", "Delta", supervisor="chief@district.org"),
        ],
        DAY0,
    )
    d_status = [Status.FAIL, Status.FAIL, Status.PASS, Status.FAIL]
    last = 0
    for i in range(4):
        last = add_run(
            engine,
            DAY0 + timedelta(days=i),
            {
                "a": [result("DS2.closed", Status.FAIL, Severity.HIGH)],
                "b": [result("DS2.moderated", Status.FAIL, Severity.MEDIUM)],
                "c": [result("DS2.moderated", Status.WARN, Severity.LOW)],
                "d": [result("DS2.closed", d_status[i], Severity.HIGH)],
            },
        )
    return last


def test_results_past_their_due_day_are_overdue_everywhere(engine: Engine, tmp_path: Path) -> None:
    run_id = seeded(engine)
    config = Config()
    config.email.it_recipients = ["it@district.org"]
    view = load_run(engine, run_id)
    apply_deadlines(view, config.remediation, "UTC")

    due = {p.id: (r.due, r.overdue) for p in view.pages for r in p.results}
    assert due == {
        "a": (date(2026, 10, 3), True),
        "b": (date(2026, 10, 8), False),
        "c": (None, False),  # a warning has no deadline
        "d": (date(2026, 10, 6), False),  # failing again since day 3
    }
    assert [(p.id, r.rule) for p, r in overdue_items(view)] == [("a", "DS2.closed")]

    boss = next(d for d in build_digests(view, config) if d.recipient == "boss@district.org")
    assert "1 item is past its due date." in boss.text
    assert "Alpha: Failing, 1 open item (1 overdue)" in boss.text
    assert "* OVERDUE, FAIL, high severity" in boss.text
    assert "Overdue: it was due by 2026-10-03." in boss.text
    assert "Fix by 2026-10-08." in boss.text
    assert boss.text.index("Alpha: Failing") < boss.text.index("Beta: Failing")
    assert "OVERDUE" in boss.html and "Overdue: it was due by 2026-10-03." in boss.html

    [summary] = it_summary_mails(view, config, [])
    assert "OVERDUE ITEMS (1)" in summary.text
    assert (
        "- Alpha (Test High), supervisor boss@district.org: DS2.closed, high severity, "
        "due by 2026-10-03" in summary.text
    )
    assert "Beta" not in summary.text.split("OVERDUE ITEMS", 1)[1].split("SUPERVISOR", 1)[0]
    assert "boss@district.org" in summary.html and "2026-10-03" in summary.html

    index = write_report(load_run(engine, run_id), tmp_path / "report", config)
    html = index.read_text()
    alpha = html[html.index('id="page-a--DS2.closed"') :]
    assert "OVERDUE" in alpha[: alpha.index("</div>")]
    assert "Overdue:</strong> it was due by 2026-10-03." in html
    assert "Fix by 2026-10-08." in html


def test_due_days_from_the_config_move_the_deadline(engine: Engine) -> None:
    run_id = seeded(engine)
    config = Config()
    config.remediation.due_days.high = 10
    view = load_run(engine, run_id)

    [boss] = [d for d in build_digests(view, config) if d.recipient == "boss@district.org"]

    assert "OVERDUE" not in boss.text and "Fix by 2026-10-11." in boss.text


def test_example_config_documents_the_default_due_days() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    section = tomllib.loads(example.read_text())["remediation"]
    assert section == {"due_days": RemediationConfig().due_days.model_dump()}
