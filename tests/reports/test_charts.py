"""The report's pictures: the SVG chart functions (escaped labels, text alternatives, no
script or remote resource, bars in proportion), and the run report drawing them from a
history of runs: the 12-run trend, open items by school and by age, each page's rule
history strip, passing rules collapsed and the manual checklist shown once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from report_seed import PageSpec, add_pages, add_run
from sqlalchemy import Engine

from auditor.reports.charts import Bar, Cell, history_strip, stacked_columns, stacked_rows
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status

DAY0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


class Svg(HTMLParser):
    """Tags, attributes and text of SVG markup, for structural assertions."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text.setdefault(self._open[-1], []).append(data)

    def rects(self, css: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "rect" and a.get("class") == css]


def test_labels_are_escaped_and_nothing_runs_or_loads() -> None:
    markup = str(
        stacked_rows("x", EVIL, [Bar(EVIL, {"high": 2}, note=EVIL)])
        + stacked_columns("y", EVIL, [Bar(EVIL, {"low": 1})], line=[1], line_label=EVIL)
        + history_strip("z", EVIL, [(EVIL, [Cell("fail", EVIL)])])
    )
    assert "<script" not in markup and "<img" not in markup
    svg = Svg(markup)
    assert {tag for tag, _ in svg.tags} <= {
        "svg",
        "title",
        "desc",
        "g",
        "rect",
        "text",
        "line",
        "polyline",
        "circle",
    }
    for _, attrs in svg.tags:
        assert not any(name.startswith("on") or "href" in name for name in attrs)
    assert EVIL in svg.text["title"]  # shown as text, escaped, never as markup


def test_text_alternative_names_every_number() -> None:
    bars = [Bar("Adams High", {"high": 3, "medium": 1}), Bar("Baker Middle", {"low": 2})]
    markup = str(stacked_rows("schools", "Open items by school", bars))
    svg = Svg(markup)
    root = svg.tags[0][1]
    assert root["role"] == "img"
    assert root["aria-labelledby"] == "chart-schools-t chart-schools-d"
    assert [a.get("id") for t, a in svg.tags if t in ("title", "desc")][:2] == [
        "chart-schools-t",
        "chart-schools-d",
    ]
    desc = "".join(svg.text["desc"])
    assert "Adams High: 4 (high 3, medium 1, low 0)" in desc
    assert "Baker Middle: 2 (high 0, medium 0, low 2)" in desc


def test_bars_are_in_proportion() -> None:
    markup = str(stacked_rows("p", "t", [Bar("a", {"high": 4}), Bar("b", {"high": 1})]))
    widths = [float(a["width"] or 0) for a in Svg(markup).rects("sev-high")[:2]]
    assert widths[0] == 4 * widths[1] > 0
    columns = Svg(str(stacked_columns("c", "t", [Bar("1", {"high": 2, "low": 6})])))
    high, low = columns.rects("sev-high")[0], columns.rects("sev-low")[0]
    assert float(low["height"] or 0) == 3 * float(high["height"] or 0)
    # stacked: high at the bottom, low on top of it
    assert float(low["y"] or 0) + float(low["height"] or 0) == float(high["y"] or 0)


def test_history_strip_has_one_titled_cell_per_run() -> None:
    cells = [Cell("pass", "run 1: pass"), Cell(None, "run 2: no result"), Cell("fail", "r3")]
    svg = Svg(str(history_strip("h", "History", [("Closed group", cells)])))
    rects = [a for t, a in svg.tags if t == "rect"]
    assert [r["class"] for r in rects] == ["st-pass", "st-none", "st-fail"]
    assert svg.text["title"][1:] == ["run 1: pass", "run 2: no result", "r3"]


def result(rule: str, status: Status, severity: Severity = Severity.HIGH) -> RuleResult:
    return RuleResult(rule=rule, status=status, severity=severity, message=f"{rule} {status}")


def fourteen_runs(engine: Engine) -> list[int]:
    """Two schools; page a fails DS2.closed from run 3 on, page b warns in odd runs, page c
    passes; every page has the DS9 manual check; 14 runs a week apart."""
    add_pages(
        engine,
        [
            PageSpec("a", "Art Club", school="Adams High"),
            PageSpec("b", "Band", school="Baker Middle"),
            PageSpec("c", "Chess", school="Baker Middle"),
        ],
        DAY0,
    )
    manual = result("DS9.misrepresentation", Status.MANUAL, Severity.LOW)
    ids = []
    for i in range(14):
        ids.append(
            add_run(
                engine,
                DAY0 + timedelta(days=7 * i),
                {
                    "a": [result("DS2.closed", Status.FAIL if i >= 2 else Status.PASS), manual],
                    "b": [
                        result(
                            "DS2.moderated", Status.WARN if i % 2 else Status.PASS, Severity.LOW
                        ),
                        manual,
                    ],
                    "c": [result("DS2.closed", Status.PASS), manual],
                },
            )
        )
    return ids


def chart(html: str, ident: str) -> Svg:
    match = re.search(rf'<svg [^>]*aria-labelledby="chart-{ident}-t.*?</svg>', html, re.S)
    assert match, ident
    return Svg(match.group(0))


def test_run_report_draws_the_last_twelve_runs(engine: Engine, tmp_path: Path) -> None:
    ids = fourteen_runs(engine)
    write_report(load_run(engine, ids[-1]), tmp_path / "r")
    html = (tmp_path / "r" / "index.html").read_text()
    trend = chart(html, "trend")
    desc = "".join(trend.text["desc"])
    assert [part.split(":")[0] for part in desc.split("; ")] == [str(i) for i in ids[-12:]]
    # the last run: a fails (high), b warns (low) since run 14 is odd-indexed
    assert f"{ids[-1]}: 2 (high 1, medium 0, low 1)" in desc
    assert "failing pages 1" in desc

    school = "".join(chart(html, "by-school").text["desc"])
    assert school.index("Adams High: 1") < school.index("Baker Middle: 1")
    age = "".join(chart(html, "by-age").text["desc"])
    # a's failure was first seen 11 weeks before the run shown; b's warning this run
    assert "under a week: 1 (high 0, medium 0, low 1)" in age
    assert "1–3 months: 1 (high 1, medium 0, low 0)" in age


def test_each_page_has_its_rule_history_strip(engine: Engine, tmp_path: Path) -> None:
    ids = fourteen_runs(engine)
    write_report(load_run(engine, ids[-1]), tmp_path / "r")
    html = (tmp_path / "r" / "index.html").read_text()
    strip = chart(html, "history-b")
    cells = [a["class"] for t, a in strip.tags if t == "rect"]
    assert cells == ["st-pass" if i % 2 == 0 else "st-warn" for i in range(2, 14)]
    tips = strip.text["title"][1:]
    assert tips[-1].endswith(f"run {ids[-1]}, {(DAY0 + timedelta(days=91)).date()}: warn")
    # a page whose rules never failed or warned in the runs shown has no strip
    assert 'aria-labelledby="chart-history-c-t' not in html


def test_passing_rules_collapse_and_the_checklist_is_shown_once(
    engine: Engine, tmp_path: Path
) -> None:
    ids = fourteen_runs(engine)
    write_report(load_run(engine, ids[-1]), tmp_path / "r")
    html = (tmp_path / "r" / "index.html").read_text()
    assert html.count("DS9.misrepresentation manual") == 1  # the check's message, once
    checklist = html.split('id="checklist-h"', 1)[1].split("</section>", 1)[0]
    assert "Applies to 3 pages" in checklist
    assert all(f'href="#page-{p}"' in checklist for p in "abc")
    chess = html.split('id="page-c"', 1)[1].split("</article>", 1)[0]
    assert '<details class="settled"><summary>Other rules: 1 pass or do not apply' in chess
    assert 'href="#check-DS9.misrepresentation"' in chess
