"""The IT summary of a run: new, resolved and still-failing counts, this run's pages that
could not be audited and why, unregistered groups found, the trend of the last runs as
bars (HTML) and to-scale marks (text), and the report's link when ``reports.base_url`` is
set."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine

from auditor.config import Config
from auditor.email.digests import DigestLine, it_summary_mails
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status

DAY0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
GROUP = {
    "connector": "gg",
    "platform": "google-groups",
    "external_id": "secret-club@district.org",
    "name": "Secret <Club>",
    "url": "https://groups.google.com/g/secret-club",
}


def result(rule: str, status: Status, severity: Severity = Severity.HIGH) -> RuleResult:
    return RuleResult(rule=rule, status=status, severity=severity, message=f"{rule} {status}")


def three_runs(engine: Engine) -> int:
    """Run 1: a fails closed and moderated, d errors. Run 2: a fails closed, b fails
    moderated (medium), c times out, d is not audited; an unregistered group is found.
    Run 3 audits a, b and c only: a resolved one and still fails one, b's is resolved,
    c fails anew (low); d is shown from run 1 with its old error."""
    add_pages(engine, [PageSpec(p, p.upper()) for p in "abcd"], DAY0)
    fail, ok = Status.FAIL, Status.PASS
    add_run(
        engine,
        DAY0,
        {
            "a": [result("DS2.closed", fail), result("DS2.moderated", fail)],
            "b": [result("DS2.moderated", ok)],
            "c": [result("DS2.closed", ok)],
            "d": "token expired",
        },
    )
    add_run(
        engine,
        DAY0 + timedelta(days=1),
        {
            "a": [result("DS2.closed", fail), result("DS2.moderated", fail)],
            "b": [result("DS2.moderated", fail, Severity.MEDIUM)],
            "c": [result("DS2.closed", ok)],
        },
    )
    return add_run(
        engine,
        DAY0 + timedelta(days=2),
        {
            "a": [result("DS2.closed", fail), result("DS2.moderated", ok)],
            "b": [result("DS2.moderated", ok)],
            "c": "connector timed out after 30 s",
        },
        discovered=[GROUP],
    )


def summary(engine: Engine, run_id: int, base_url: str | None) -> tuple[str, str]:
    config = Config()
    config.email.it_recipients = ["it@district.org"]
    config.reports.base_url = base_url
    view = load_run(engine, run_id)
    (mail,) = it_summary_mails(view, config, [DigestLine("boss@district.org", 4, "sent")])
    return mail.html, mail.text


def test_counts_errors_and_groups(engine: Engine) -> None:
    html, text = summary(engine, three_runs(engine), "https://audit.example.org/r/")
    for body in (html, text):
        flat = re.sub(r"(<[^>]+>|\s)+", " ", body)
        assert re.search(r"New failures:? 0 ", flat)
        assert re.search(r"Resolved:? 2 ", flat)
        assert re.search(r"Still failing:? 1 ", flat)
        assert re.search(r"Could not be audited:? 1 ", flat)
        assert re.search(r"Not in this run[^0-9]*1 ", flat)
        assert "connector timed out after 30 s" in body
        assert "token expired" not in body  # d's old error is not this run's news
        assert "secret-club@district.org" in body
    assert "Secret &lt;Club&gt;" in html and "Secret <Club>" in text
    assert "1 page(s) failing, 1 not audited" in html  # the subject: this run's errors
    assert '<a href="https://groups.google.com/g/secret-club"' in html
    assert '<a href="https://audit.example.org/r/index.html"' in html
    assert "Run report: https://audit.example.org/r/index.html" in text


def test_trend_is_drawn_to_scale(engine: Engine) -> None:
    html, text = summary(engine, three_runs(engine), None)
    # open items per run: 2 high + 1 error page (no results) = 2; 3 (2 high, 1 medium); 1
    lines = [line for line in text.splitlines() if line.startswith("- run ")]
    assert len(lines) == 3
    marks = [len(re.search(r": (#+) ", line).group(1)) for line in lines]
    assert marks == [20, 30, 10]
    assert lines[1].endswith("3 open (high 2, medium 1, low 0); 2 of 3 pages failing")
    widths = re.findall(r"background: #[0-9a-f]{6}; height: 10px; width: (\d+)px", html)
    assert [int(w) for w in widths] == [100, 100, 50, 50]  # 150 px for the busiest run
    assert "3 open items: high 2, medium 1 · 2 of 3 pages failing" in html
    assert "Run report:" not in text and "Open the run report" not in html


def test_first_run_says_nothing_changed_yet(engine: Engine) -> None:
    add_pages(engine, [PageSpec("a", "A")], DAY0)
    run_id = add_run(engine, DAY0, {"a": [result("DS2.closed", Status.PASS)]})
    html, text = summary(engine, run_id, None)
    for body in (html, text):
        assert "This is the first run, so nothing is new or resolved yet." in body
        assert "No unregistered group was found." in body
        assert "Every page was audited." in body
