"""Evidence in words: a post's date, its author's role, a link to it and what flagged it
reach the digest and the run report; nothing unsafe becomes a link."""

from __future__ import annotations

import re
from html import unescape

from sample_audit import SampleRun

from auditor.reports.deadlines import apply_deadlines
from auditor.reports.digest import build_digests
from auditor.reports.evidence import evidence_lines
from auditor.reports.run_report import render_html

POST = {
    "kind": "post",
    "ref": "m-77",
    "value": "call me at •••-•••-•147",
    "note": "by member u-9",
    "at": "2026-11-18T23:30:00+00:00",
    "role": "student",
    "url": "https://teams.microsoft.com/l/message/19:abc/77",
    "decided_by": "classifier",
    "score": 0.934,
}


def test_a_post_line_says_when_who_where_and_what_flagged_it() -> None:
    (line,) = evidence_lines([POST], "America/New_York")

    assert line.label == "Post" and line.value == POST["value"]
    assert line.about == "by a student, written 2026-11-18"  # 18:30 in New York
    assert line.post_href == POST["url"]
    assert line.decided == "flagged by the language model (score 0.93 of 1)"
    assert line.href is None  # the post's text is never a link


def test_a_pattern_finding_and_unsafe_or_missing_details() -> None:
    unsafe = {**POST, "url": "javascript:alert(1)", "decided_by": "pattern", "at": "yesterday"}
    (line,) = evidence_lines([unsafe])
    assert line.post_href is None
    assert line.decided == "matched a known word, phrase or pattern"
    assert line.about == "by a student"  # an unreadable date is left out, not guessed

    (bare,) = evidence_lines([{"kind": "member", "value": "Ann Lee <ann@x.org>"}])
    assert (bare.about, bare.decided, bare.post_href) == (None, None, None)
    (unknown,) = evidence_lines([{"kind": "post", "value": "x", "role": "unknown member"}])
    assert unknown.about == "by an unknown member"


def _visible(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_digest_and_report_show_the_post_details(sample: SampleRun) -> None:
    view = sample.view()
    apply_deadlines(view, sample.config.remediation, sample.config.district.timezone)
    page = next(p for p in view.pages if p.attention and p.status == "audited")
    result = page.attention[0]
    result.evidence = [POST, *result.evidence]

    digest = next(d for d in build_digests(view, sample.config) if page.id in d.page_ids)
    body = _visible(digest.html.split("</head>", 1)[1])
    for text in (digest.text, body):
        assert "Post (by a student, written 2026-11-18)" in text
        assert "Flagged by the language model (score 0.93 of 1)." in text
    assert f"Open the post: {POST['url']}" in digest.text
    assert f'href="{POST["url"]}"' in digest.html

    report = render_html(view)
    section = report.split(f'id="page-{page.id}--{result.rule}"', 1)[1].split("</dl>", 1)[0]
    assert "by a student, written 2026-11-18" in _visible(section)
    assert f'href="{POST["url"]}"' in section
    assert "Flagged by the language model (score 0.93 of 1)." in _visible(section)


def test_flagged_teams_and_discord_posts_link_to_the_post(sample: SampleRun) -> None:
    view = sample.view()
    linked = [
        (page, e)
        for page in view.pages
        for r in page.attention
        for e in r.evidence
        if e.get("kind") == "post" and e.get("url")
    ]
    hosts = {e["url"].split("/")[2] for _, e in linked}
    assert "discord.com" in hosts  # Discord's message link (the flagged Teams posts are
    # replies, which the sample's Graph answers give no webUrl)
    for page, e in linked:
        assert e.get("at") and e.get("role")  # each says when and by whom
        if page.platform == "discord":
            assert e["url"].endswith(f"/{e['ref']}")  # .../channels/guild/channel/message
    page, e = linked[0]
    digest = next(d for d in build_digests(view, sample.config) if page.id in d.page_ids)
    assert f"Open the post: {e['url']}" in digest.text
