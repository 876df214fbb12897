"""Platform content is untrusted: script tags, event attributes and ``javascript:`` links in
every platform field must come out as inert text in every report, digest and export."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from auditor.db.engine import make_engine
from auditor.db.models import DiscoveredGroup
from auditor.loading import load_config
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.runner import Runner

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
BREAKOUT = '"><svg onload=alert(2)>'
JS_URLS = [
    "javascript:alert(3)",
    " JaVaScRiPt:alert(4)",
    "data:text/html,<script>alert(5)</script>",
    "java\tscript:alert(6)",
    "vbscript:msgbox(7)",
]
STUDENT_PHONE = "203-555-0187"
SECRET = "s3cr3t-smtp-password-value"

EVIL_SNAPSHOT = {
    "platform": f"facebook{SCRIPT}",
    "name": f"Evil {IMG}",
    "url": JS_URLS[0],
    "description": SCRIPT + BREAKOUT,
    "kind": "profile",
    "links": JS_URLS,
    "settings": {
        "visibility": "public",
        "join_policy": "open",
        "post_moderation": "none",
        "invite_links": [{"url": JS_URLS[1], "created_by": BREAKOUT}],
    },
    "members": [
        {"id": f"o{BREAKOUT}", "name": IMG, "email": "owner@district.org", "role": "owner"},
        {
            "id": "m2",
            "name": f'=HYPERLINK("http://x"){SCRIPT}',
            "email": "outsider@evil.test",
            "role": "moderator",
        },
        {
            "id": "m3",
            "name": BREAKOUT,
            "email": f"kid{SCRIPT}@students.district.org",
            "role": "member",
            "state": "requested",
            "joined_at": "2026-09-01T00:00:00+00:00",
        },
    ],
    "posts": [
        {
            "id": f"p{SCRIPT}",
            "author_id": "m2",
            "text": f"{SCRIPT} call me {STUDENT_PHONE} {IMG}",
            "links": JS_URLS,
            "created_at": "2026-11-10T00:00:00+00:00",
        },
    ],
    "moderation": {"last_moderator_action_at": "2026-08-01T00:00:00+00:00", "pending_reports": 3},
}
BROKEN_SNAPSHOT = {"settings": {"visibility": SCRIPT, "join_policy": "invite"}}


class Audit(HTMLParser):
    """Records scripts, event-handler attributes and link targets of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value is not None:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


@pytest.fixture
def evil_report(
    make_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A run over the hostile page and a broken one, with a hostile discovered group."""
    monkeypatch.setenv("AUDITOR_TEST_SMTP_PASSWORD", SECRET)
    path = make_config(
        {"evil": EVIL_SNAPSHOT, "broken": BROKEN_SNAPSHOT},
        extra='\n[email]\nusername_env = "AUDITOR_TEST_SMTP_USER"\n'
        'password_env = "AUDITOR_TEST_SMTP_PASSWORD"\n'
        '[reports]\nbase_url = "https://audit.example.org/reports"\n',
    )
    config = load_config(path)
    engine = make_engine(config.database.url)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    summary = asyncio.run(Runner(config, engine, now=now).run(config.pages))
    with Session(engine) as session:
        session.add(
            DiscoveredGroup(
                run_id=summary.run_id,
                connector="files",
                platform=SCRIPT,
                external_id=BREAKOUT,
                name=IMG,
                url=JS_URLS[0],
                found_at=now,
            )
        )
        session.commit()
    out = tmp_path / "out"
    write_report(load_run(engine, summary.run_id), out, config)
    engine.dispose()
    return out


def test_no_markup_from_a_platform_becomes_live(evil_report: Path) -> None:
    pages = [evil_report / "index.html", *sorted((evil_report / "digests").glob("*.html"))]
    assert len(pages) == 2
    template_script = None
    for page in pages:
        html = page.read_text()
        audit = Audit()
        audit.feed(html)
        assert audit.handlers == [], page
        for url in audit.urls:
            assert url.startswith(("#", "https://", "http://", "findings.")), (page, url)
            assert "script" not in url.lower() and "data:" not in url.lower()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "<svg onload" not in html
        if page.name == "index.html":
            assert len(audit.scripts) == 1
            template_script = audit.scripts[0]
        else:
            assert audit.scripts == []
    assert template_script is not None and "alert" not in template_script
    # The hostile text is still shown (escaped), so a person can see what was there.
    assert "&lt;script&gt;alert(" in (evil_report / "index.html").read_text()


def test_unsafe_urls_are_never_links_in_text_or_exports(evil_report: Path) -> None:
    text = (evil_report / "digests" / "boss@district.org.txt").read_text()
    for line in text.splitlines():
        if "Open the page" in line or line.strip().startswith("http"):
            assert "javascript" not in line.lower()
    data = json.loads((evil_report / "findings.json").read_text())
    assert data["pages"][1]["url"] == JS_URLS[0]  # kept as data, never rendered as a link


def test_csv_cells_cannot_run_as_formulas(evil_report: Path) -> None:
    files = [evil_report / "findings.csv", *(evil_report / "action-plans").glob("*.csv")]
    for path in files:
        with path.open() as handle:
            for row in csv.reader(handle):
                assert not any(cell[:1] in ("=", "+", "-", "@") for cell in row), row


def test_student_data_and_secrets_never_reach_any_output(evil_report: Path) -> None:
    outputs = [p for p in evil_report.rglob("*") if p.is_file()]
    assert len(outputs) >= 6
    for path in outputs:
        content = path.read_text()
        assert SECRET not in content, path
        assert STUDENT_PHONE not in content, path
