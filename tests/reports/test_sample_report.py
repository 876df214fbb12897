"""The run report, exports, digests and action plans of the sample district (``auditor
demo``'s data), checked against the database they were rendered from."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from html.parser import HTMLParser

from markupsafe import escape
from sample_audit import SampleRun
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditor.db.models import PageAudit, Result
from auditor.reports.export import ACTION_PLAN_COLUMNS, CSV_COLUMNS


class Outline(HTMLParser):
    """Collects what the structure tests need: tags, attributes, headings, script count."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str | None]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            self.attrs.append((tag, name, value))
            if name == "id" and value:
                self.ids.add(value)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def db_counts(sample: SampleRun) -> dict[str, int]:
    with Session(sample.engine) as s:
        statuses = dict(
            s.execute(
                select(PageAudit.status, func.count())
                .where(PageAudit.run_id == sample.run_id)
                .group_by(PageAudit.status)
            ).all()
        )
        failing_pages = s.scalar(
            select(func.count(func.distinct(PageAudit.page_id)))
            .join(Result)
            .where(PageAudit.run_id == sample.run_id, Result.status == "fail")
        )
        results = s.scalar(
            select(func.count())
            .select_from(Result)
            .join(PageAudit)
            .where(PageAudit.run_id == sample.run_id)
        )
    return {
        "audited": statuses.get("audited", 0),
        "error": statuses.get("error", 0),
        "failing_pages": failing_pages or 0,
        "results": results or 0,
    }


def test_front_page_summary_matches_the_database(sample: SampleRun) -> None:
    html = (sample.out / "index.html").read_text()
    counts = db_counts(sample)
    text = re.sub(r"<[^>]+>", " ", html)
    text = " ".join(text.split())
    assert "Danbury Public Schools (sample)" in text
    total = counts["audited"] + counts["error"]
    assert f"{counts['audited']} of {total} pages audited" in text
    assert f"{counts['failing_pages']} pages with failures" in text
    assert f"{counts['error']} pages not audited" in text
    assert "first run in the database" in text  # nothing to compare with yet


def test_every_page_has_a_section_and_a_table_row(sample: SampleRun) -> None:
    html = (sample.out / "index.html").read_text()
    doc = outline(html)
    for page in sample.config.pages:
        assert f"page-{page.id}" in doc.ids
        assert f'href="#page-{page.id}"' in html
    rows = re.findall(r"<tr data-school=", html)
    assert len(rows) == len(sample.config.pages)


def test_failing_results_quote_the_clause_and_the_platform_fix(sample: SampleRun) -> None:
    view = sample.view()
    html = (sample.out / "index.html").read_text()
    band = next(p for p in view.pages if p.id == "dhs-band")
    closed = next(r for r in band.results if r.rule == "DS2.closed")
    assert closed.status == "fail"
    rule = view.rules["DS2.closed"]
    section = html.split('id="page-dhs-band"', 1)[1].split("</article>", 1)[0]
    assert str(escape(rule.clause_text)) in section
    assert str(escape(rule.remediation_for(band.platform))) in section
    # Failing results come before the checklist and the passing rules.
    assert section.index("DS2.closed") < section.index("Checklist for a person")
    assert section.index("Checklist for a person") < section.index("Other rules")
    assert "DS9.misrepresentation" in section.split("Checklist for a person", 1)[1]


def test_report_is_self_contained(sample: SampleRun) -> None:
    html = (sample.out / "index.html").read_text()
    doc = outline(html)
    assert doc.tags["link"] == 0 and doc.tags["img"] == 0 and doc.tags["iframe"] == 0
    assert doc.tags["script"] == 1  # the inline table script
    assert not any(name == "src" for _, name, _ in doc.attrs)
    assert "@import" not in html and "url(" not in html
    for tag, name, value in doc.attrs:
        if name == "href" and value:
            assert value.startswith(("#", "https://", "http://", "findings.")), (tag, value)
    # Semantic structure: one h1, labelled filter controls, header cells with scope.
    assert doc.tags["h1"] == 1
    assert doc.tags["label"] >= 4
    assert all(v in ("col", "row") for t, n, v in doc.attrs if n == "scope")


def test_findings_json_keeps_the_contract_and_adds_history(sample: SampleRun) -> None:
    data = json.loads((sample.out / "findings.json").read_text())
    assert {"id", "started_at", "finished_at", "status"} <= set(data["run"])
    counts = db_counts(sample)
    listed = [
        len(p["results"]) + sum(len(p[k]) for k in ("passing", "not_applicable", "manual"))
        for p in data["pages"]
    ]
    assert sum(listed) == counts["results"]
    for page in data["pages"]:
        assert {"id", "name", "platform", "owner", "supervisor", "status", "error"} <= set(page)
        for r in page["results"]:
            assert {"rule", "status", "severity", "message", "evidence"} <= set(r)
            if r["status"] == "fail":
                assert r["first_seen"] == data["run"]["started_at"]  # first run: seen today
                assert r["trend"] == "new"
            assert r["status"] not in ("pass", "not-applicable") or r["trend"]  # else by id
    assert data["summary"]["with_failures"] == counts["failing_pages"]
    assert data["summary"]["not_audited"] == counts["error"]


def test_findings_csv_has_a_row_per_result_to_look_at_and_every_page(
    sample: SampleRun,
) -> None:
    with (sample.out / "findings.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == CSV_COLUMNS
    view = sample.view()
    listed = {
        p.id: [r.rule for r in p.results if r.status not in ("pass", "not-applicable")]
        for p in view.pages
    }  # a first run: nothing resolved yet
    expected = [(page_id, rule) for page_id, rules in listed.items() for rule in rules or [""]]
    assert sorted((r["page_id"], r["rule"]) for r in rows) == sorted(expected)
    assert {r["page_id"] for r in rows} == {p.id for p in view.pages}
    fails = [r for r in rows if r["status"] == "fail"]
    assert fails and all(r["first_seen"] and r["trend"] == "new" for r in fails)


def test_one_digest_per_supervisor_covers_only_their_pages(sample: SampleRun) -> None:
    supervisors = {p.supervisor for p in sample.config.pages}
    written = {f.stem for f in (sample.out / "digests").glob("*.html")}
    assert written == supervisors
    for sup in supervisors:
        html = (sample.out / "digests" / f"{sup}.html").read_text()
        text = (sample.out / "digests" / f"{sup}.txt").read_text()
        for page in sample.config.pages:
            mine = page.supervisor == sup
            assert (f"#page-{page.id}" in html) == mine, (sup, page.id)
            assert (f"#page-{page.id}" in text) == mine, (sup, page.id)


def test_action_plans_list_the_open_results_with_blank_columns(sample: SampleRun) -> None:
    view = sample.view()
    for sup in {p.supervisor for p in view.pages}:
        with (sample.out / "action-plans" / f"{sup}.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert rows == [] or list(rows[0]) == ACTION_PLAN_COLUMNS
        expected = sorted(
            (p.id, r.rule)
            for p in view.pages
            if p.supervisor == sup
            for r in p.results
            if r.status in ("fail", "warn")
        )
        assert sorted((r["page_id"], r["rule"]) for r in rows) == expected
        assert all(r["reason"] == r["planned_fix_date"] == r["fixed_by"] == "" for r in rows)
        assert all(r["how_to_fix"] for r in rows)
