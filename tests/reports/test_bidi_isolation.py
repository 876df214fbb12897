"""Defect 11 of the hardening issue: text from a platform cannot reorder what is shown
beside it. A right-to-left override (U+202E) in a page's name, its platform or its members'
names must not reverse the owner's and supervisor's addresses next to it in any HTML output
(run report, details files, digests, urgent alerts, IT summary), and no bidi control may
reach a plain-text output (text parts, subjects, CSV files) or sit raw in findings.json."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from auditor.config import Config
from auditor.db.engine import make_engine
from auditor.db.models import DiscoveredGroup
from auditor.email.alerts import alert_mails
from auditor.email.compose import Outgoing, compose
from auditor.email.digests import preview, write_preview
from auditor.loading import load_config
from auditor.reports import run_report
from auditor.reports.run_report import write_report
from auditor.reports.view import RunView, load_run
from auditor.runner import Runner
from tests.snapshots import passing_snapshot

RLO = "\u202e"
# Every character with the Unicode Bidi_Control property: ALM, LRM, RLM, LRE, RLE, PDF, LRO,
# RLO, LRI, RLI, FSI and PDI.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
HEBREW = "מועדון"  # right-to-left letters: marks where platform text went in a document
OWNER, SUPERVISOR = "owner@district.org", "boss@district.org"


def spoofed(text: str) -> str:
    """Platform text that opens a right-to-left override and never closes it."""
    return f"{RLO}{HEBREW} {text}"


SPOOF_SNAPSHOT = passing_snapshot("ext-spoof", spoofed("Chess")) | {
    "platform": f"file{RLO}",
    "url": "https://example.org/chess",
    "settings": {
        "visibility": "public",
        "join_policy": "open",
        "post_moderation": "none",
        "invite_links": [],
    },
    "members": [
        {"id": "o", "email": OWNER, "role": "owner", "name": spoofed("Olive")},
        {"id": "s", "email": SUPERVISOR, "role": "member"},
        {"id": "x", "email": "x@evil.test", "name": spoofed("Xavier"), "role": "moderator"},
    ],
    "posts": [
        {
            "id": "p1",
            "author_id": "x",
            "text": spoofed("see https://instagram.com/coachx"),
            "created_at": "2026-11-10T00:00:00+00:00",
        }
    ],
}
BROKEN_SNAPSHOT = {"settings": {"visibility": spoofed("weird")}}
EXTRA = """
[email]
from = "auditor@district.org"
it_recipients = ["it@district.org"]
[reports]
base_url = "https://audit.example.org/reports"
"""


@dataclass
class Spoofed:
    """A run over the spoofing page and a broken one, its report folders and its emails."""

    config: Config
    view: RunView
    inline: Path  # index.html holds every page section
    large: Path  # page sections in details/*.html
    mails: list[Outgoing]  # digests, IT summary and urgent alerts


def audit_spoof(make_config: Callable[..., Path], db_url: str, tmp_path: Path) -> Spoofed:
    """Audit the spoofing district, add a discovered group with a spoofing name, render."""
    config = load_config(
        make_config({"spoof": SPOOF_SNAPSHOT, "broken": BROKEN_SNAPSHOT}, db_url, EXTRA)
    )
    engine = make_engine(config.database.url)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    audit = Runner(config, engine, now=now).run(config.pages)
    with ThreadPoolExecutor(1) as worker:  # Playwright's sync API holds this thread's loop
        run_id = worker.submit(asyncio.run, audit).result().run_id
    with Session(engine) as session:
        session.add(
            DiscoveredGroup(
                run_id=run_id,
                connector="files",
                platform=f"file{RLO}",
                external_id=spoofed("g1"),
                name=spoofed("Secret club"),
                url="https://example.org/g1",
                found_at=now,
            )
        )
        session.commit()
    view = load_run(engine, run_id)
    engine.dispose()
    write_report(view, tmp_path / "inline", config)
    limit = run_report.INLINE_LIMIT
    run_report.INLINE_LIMIT = 1
    try:
        write_report(view, tmp_path / "large", config)
    finally:
        run_report.INLINE_LIMIT = limit
    findings = [(p, r) for p in view.pages for r in p.failing]
    mails = [*preview(view, config), *alert_mails(view, config, findings)]
    return Spoofed(config, view, tmp_path / "inline", tmp_path / "large", mails)


@pytest.fixture
def spoof(make_config: Callable[..., Path], db_url: str, tmp_path: Path) -> Spoofed:
    """The spoofing run on SQLite and PostgreSQL."""
    return audit_spoof(make_config, db_url, tmp_path)


class Isolation(HTMLParser):
    """Collects the text of a document that is outside every ``<bdi>`` element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.exposed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += tag == "bdi"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "bdi"

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.exposed.append(data)


def html_outputs(spoof: Spoofed) -> dict[str, str]:
    """Every HTML document the run produced: report files and each email's HTML part."""
    docs = {
        str(path.relative_to(path.parents[1])): path.read_text(encoding="utf-8")
        for folder in (spoof.inline, spoof.large)
        for path in sorted(folder.rglob("*.html"))
    }
    docs |= {f"{m.kind} to {m.recipient}": m.html for m in spoof.mails}
    return docs


def test_platform_text_is_isolated_in_every_html_output(spoof: Spoofed) -> None:
    docs = html_outputs(spoof)
    assert len(list((spoof.large / "details").glob("*.html"))) == 1
    assert {m.kind for m in spoof.mails} == {"digest", "it-summary", "alert"}
    for name, html in docs.items():
        assert not BIDI_CONTROLS & set(html), name
        parser = Isolation()
        parser.feed(html)
        exposed = [text for text in parser.exposed if HEBREW in text]
        assert exposed == [], f"{name}: platform text outside <bdi>: {exposed}"
    # The platform's words are still shown (isolated), so a person sees what was there.
    assert f"<bdi>{HEBREW} Chess</bdi>" in docs["inline/index.html"]


def test_no_bidi_control_reaches_a_plain_text_output(spoof: Spoofed, tmp_path: Path) -> None:
    texts: dict[str, str] = {}
    for folder in (spoof.inline, spoof.large):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".txt", ".csv"):
                texts[str(path)] = path.read_text(encoding="utf-8")
    assert {Path(name).name for name in texts} >= {
        "findings.csv",
        "discovered-groups.csv",
        "boss@district.org.csv",
        "boss@district.org.txt",
    }
    for mail in spoof.mails:
        texts[f"{mail.kind} text"] = mail.text
        texts[f"{mail.kind} subject"] = mail.subject
        texts[f"{mail.kind} Subject header"] = str(compose(mail, "auditor@district.org")["Subject"])
    for path in write_preview(spoof.mails, spoof.config, tmp_path / "eml"):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        texts[path.name] = str(msg["Subject"]) + msg.get_body(("plain",)).get_content()
    assert any(HEBREW in text for text in texts.values())  # the platform text is there
    for name, text in texts.items():
        assert not BIDI_CONTROLS & set(text), name
    with (spoof.inline / "findings.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["platform"] for row in rows} >= {"file"}


def test_findings_json_keeps_the_exact_text_with_the_controls_escaped(spoof: Spoofed) -> None:
    raw = (spoof.inline / "findings.json").read_text(encoding="utf-8")
    assert not BIDI_CONTROLS & set(raw)
    assert "\\u202e" in raw
    data = json.loads(raw)
    pages = {p["id"]: p for p in data["pages"]}
    assert pages["spoof"]["platform_name"] == spoofed("Chess")  # exactly what was seen
    assert pages["spoof"]["platform"] == f"file{RLO}"


# For each visible occurrence of each needle: where its first and last characters are drawn,
# and which block (paragraph, list item, cell) holds it.
LAYOUT_JS = """
(needles) => {
  const blocks = new Map();
  const found = [];
  const range = document.createRange();
  const box = (node, k) => {
    range.setStart(node, k);
    range.setEnd(node, k + 1);
    return range.getBoundingClientRect();
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const needle of needles) {
      for (let i = node.data.indexOf(needle); i !== -1; i = node.data.indexOf(needle, i + 1)) {
        const first = box(node, i);
        const last = box(node, i + needle.length - 1);
        if (!first.width) { continue; }
        const block = node.parentElement.closest("p, li, td, th, h1, h2, h3, dd, dt, div");
        if (!blocks.has(block)) { blocks.set(block, blocks.size); }
        found.push({needle: needle, block: blocks.get(block), first: first.left,
                    last: last.left, top: Math.round(first.top)});
      }
    }
  }
  return found;
}
"""


def drawn(browser: Any, path: Path) -> list[dict[str, Any]]:
    """Where the owner's and supervisor's addresses are drawn in ``path`` (Chromium)."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        return page.evaluate(LAYOUT_JS, [OWNER, SUPERVISOR])
    finally:
        context.close()


@pytest.fixture
def sqlite_spoof(make_config: Callable[..., Path], tmp_path: Path) -> Iterator[Spoofed]:
    """The spoofing run on SQLite only (the browser test is about rendering)."""
    yield audit_spoof(make_config, f"sqlite:///{tmp_path / 'bidi.db'}", tmp_path)


@pytest.mark.browser
def test_an_override_in_platform_text_does_not_reorder_the_emails_in_chromium(
    sqlite_spoof: Spoofed, browser: Any, tmp_path: Path
) -> None:
    spoof = sqlite_spoof
    files = [
        spoof.inline / "index.html",
        *sorted((spoof.large / "details").glob("*.html")),
        spoof.inline / "digests" / f"{SUPERVISOR}.html",
    ]
    for mail in spoof.mails:
        if mail.kind == "alert":
            files.append(tmp_path / f"alert-{mail.recipient}.html")
            files[-1].write_text(mail.html, encoding="utf-8")
    pairs = 0
    for path in files:
        found = drawn(browser, path)
        assert found, path
        for spot in found:  # each address reads left to right, as written
            assert spot["first"] < spot["last"], f"{path.name}: {spot['needle']} drawn reversed"
        for owner in (s for s in found if s["needle"] == OWNER):
            for boss in found:
                same_line = boss["block"] == owner["block"] and boss["top"] == owner["top"]
                if boss["needle"] == SUPERVISOR and same_line:
                    pairs += 1
                    assert owner["first"] < boss["first"], f"{path.name}: supervisor drawn first"
    assert pairs >= 3  # the page header in index.html and details, and the alert email
