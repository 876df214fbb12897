"""The sample district's run report and a supervisor digest in headless Chromium: no console
errors, the filters and sorting work, the page works without scripts, the digest fits a
phone, the pictures of a 14-run history read at desktop and phone widths and in dark mode,
and screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sample_audit import SampleRun
from test_charts import fourteen_runs

from auditor.config import Config, SchoolConfig
from auditor.db.engine import make_engine, upgrade
from auditor.email.digests import it_summary_mails
from auditor.email.escalation import escalation_mails
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def open_page(browser: Any, path: Path, viewport: dict[str, int], **options: Any) -> Any:
    """A new page at ``path``; console errors and page errors collected in ``page.errors``."""
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri())
    return page


def visible_rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#page-table tbody tr:not([hidden])", "rows => rows.map(r => r.cells[1].innerText)"
    )


def test_run_report_filters_and_sorts(sample: SampleRun, browser: Any) -> None:
    data = json.loads((sample.out / "findings.json").read_text())
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page(browser, sample.out / "index.html", DESKTOP)
    assert len(visible_rows(page)) == len(data["pages"])
    page.screenshot(path=str(ARTIFACTS / "run-report-desktop.png"))
    page.locator("section[aria-labelledby=charts-h]").screenshot(
        path=str(ARTIFACTS / "run-report-sample-charts-desktop.png")
    )

    page.select_option("select[name=status]", "error")
    errored = sorted(p["name"] for p in data["pages"] if p["status"] == "error")
    assert sorted(visible_rows(page)) == errored
    assert page.inner_text("#shown") == f"Showing {len(errored)} of {len(data['pages'])} pages."

    page.click("button[type=reset]")
    page.select_option("select[name=rule]", "DS2.closed")
    closed = sorted(
        p["name"]
        for p in data["pages"]
        if any(r["rule"] == "DS2.closed" and r["status"] in ("fail", "warn") for r in p["results"])
    )
    assert closed and sorted(visible_rows(page)) == closed

    page.select_option("select[name=school]", "Rogers Park Middle School")
    expected = sorted(
        p["name"]
        for p in data["pages"]
        if p["name"] in closed and p["school"] == "Rogers Park Middle School"
    )
    assert sorted(visible_rows(page)) == expected

    page.click("button[type=reset]")
    page.select_option("select[name=severity]", "low")
    low = sorted(
        p["name"]
        for p in data["pages"]
        if any(r["severity"] == "low" and r["status"] in ("fail", "warn") for r in p["results"])
    )
    assert sorted(visible_rows(page)) == low

    page.click("button[type=reset]")
    page.click("#page-table thead th:nth-child(2) button")
    names = visible_rows(page)
    assert names == sorted(names, key=str.lower)
    page.click("#page-table thead th:nth-child(2) button")
    assert visible_rows(page) == sorted(names, key=str.lower, reverse=True)
    assert page.get_attribute("#page-table thead th:nth-child(2)", "aria-sort") == "descending"
    assert page.errors == []

    phone = open_page(browser, sample.out / "index.html", PHONE)
    phone.screenshot(path=str(ARTIFACTS / "run-report-phone.png"), full_page=True)
    assert phone.errors == []
    dark = open_page(browser, sample.out / "index.html", DESKTOP, color_scheme="dark")
    section = dark.locator("#page-dhs-track-coach-profile")
    section.screenshot(path=str(ARTIFACTS / "run-report-page-dark.png"))
    assert dark.errors == []


def test_run_report_without_scripts_lists_every_page(sample: SampleRun, browser: Any) -> None:
    page = open_page(browser, sample.out / "index.html", DESKTOP, java_script_enabled=False)
    assert page.is_hidden("#filters")
    assert len(visible_rows(page)) == len(sample.config.pages)
    assert page.is_visible("#page-dhs-band")


def test_digest_reads_on_desktop_and_phone(sample: SampleRun, browser: Any) -> None:
    supervisor = "dreyes@danbury.k12.ct.us"
    html_path = sample.out / "digests" / f"{supervisor}.html"
    text = (sample.out / "digests" / f"{supervisor}.txt").read_text()
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport, scheme in (
        ("desktop", {"width": 800, "height": 900}, "light"),
        ("phone", PHONE, "light"),
        ("phone-dark", PHONE, "dark"),
    ):
        page = open_page(browser, html_path, viewport, color_scheme=scheme)
        assert page.errors == []
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= viewport["width"], f"{name}: content is {overflow}px wide"
        page.screenshot(path=str(ARTIFACTS / f"digest-{name}.png"), full_page=True)
        shown = page.inner_text("body")
    headline = re.search(r"(\d+) of (\d+) pages need attention", shown)
    assert headline is not None
    mine = [p for p in sample.view().pages if p.supervisor == supervisor]
    attention = sum(p.needs_attention for p in mine)
    assert headline.groups() == (str(attention), str(len(mine)))
    assert headline.group(0) in text  # the plain-text part carries the same counts
    failing = sum(len(p.failing) for p in mine)
    assert f"fail {failing} rule checks" in shown and f"fail {failing} rule checks" in text


def test_pictures_read_on_desktop_phone_and_dark(tmp_path: Path, browser: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'history.db'}")
    upgrade(engine)
    run_id = fourteen_runs(engine)[-1]
    index = write_report(load_run(engine, run_id), tmp_path / "report")
    engine.dispose()
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport, scheme in (
        ("desktop", DESKTOP, "light"),
        ("phone", PHONE, "light"),
        ("dark", DESKTOP, "dark"),
    ):
        page = open_page(browser, index, viewport, color_scheme=scheme)
        assert page.errors == []
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= viewport["width"], f"{name}: content is {overflow}px wide"
        charts = page.locator("svg.chart.columns, svg.chart.rows")
        assert charts.count() == 3
        for i in range(3):  # drawn, and no wider than the screen
            box = charts.nth(i).bounding_box()
            assert box and 0 < box["width"] <= viewport["width"] and box["height"] > 0
        page.locator("section[aria-labelledby=charts-h]").screenshot(
            path=str(ARTIFACTS / f"run-report-charts-{name}.png")
        )
        page.locator("#page-b").screenshot(path=str(ARTIFACTS / f"run-report-history-{name}.png"))
        # passing rules stay folded until asked for
        assert page.locator("#page-c details.settled ul").is_hidden()
        page.click("#page-c details.settled summary")
        assert page.locator("#page-c details.settled ul").is_visible()
        if scheme == "dark":  # the bars take the dark palette, not the light one
            fill = page.eval_on_selector("svg.chart .sev-high", "e => getComputedStyle(e).fill")
            assert fill == "rgb(255, 179, 173)"


def test_it_summary_and_overdue_list_read_on_desktop_and_phone(
    tmp_path: Path, browser: Any
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'history.db'}")
    upgrade(engine)
    run_id = fourteen_runs(engine)[-1]
    view = load_run(engine, run_id)
    engine.dispose()
    config = Config()
    config.email.it_recipients = ["it@district.org"]
    config.reports.base_url = "https://audit.district.org/report/"
    school = view.pages[0].school
    config.schools = {school: SchoolConfig(escalate_to=["principal@district.org"])}
    [summary] = it_summary_mails(view, config, [])
    overdue = escalation_mails(view, config)
    assert overdue, "the history has items past their due date"
    mails = {"it-summary": summary.html, "overdue-list": overdue[0].html}
    ARTIFACTS.mkdir(exist_ok=True)
    for kind, html in mails.items():
        path = tmp_path / f"{kind}.html"
        path.write_text(html)
        for name, viewport in (("desktop", {"width": 800, "height": 900}), ("phone", PHONE)):
            page = open_page(browser, path, viewport)
            assert page.errors == []
            page.screenshot(path=str(ARTIFACTS / f"{kind}-{name}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= viewport["width"], f"{kind} {name}: content is {overflow}px wide"
    shown = page.inner_text("body")
    assert "Overdue items at" in shown and "Due by" in shown
