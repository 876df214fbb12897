"""Fixtures for the scheduling and email tests: a real SMTP server on loopback (aiosmtpd)
that records what it receives and can refuse chosen recipients, and a small district
whose pages have different owners and supervisors."""

from __future__ import annotations

import json
import logging
import socket
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.snapshots import passing_snapshot


def free_port() -> int:
    """A port nobody listens on (aiosmtpd's Controller cannot take port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def invoke(*args: str) -> tuple[int, str, str]:
    """Run an ``auditor`` command in-process: (exit code, stdout, stderr). The command points
    the root log handler at the runner's captured stderr, which closes afterwards; the
    original handlers are put back so later log lines (e.g. the SMTP server's) have a home."""
    from typer.testing import CliRunner

    from auditor.cli import app

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, result.stdout, result.stderr


@dataclass
class Mailbox:
    """What the SMTP server received, and which recipients it refuses."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    refusal: str = "mailbox unavailable"  # the text of the 550 reply to a refused recipient
    busy: dict[str, int] = field(default_factory=dict)  # recipient -> 451 replies left
    logins: list[tuple[str, str]] = field(default_factory=list)

    def to(self, recipient: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == recipient]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: {self.refusal}"
        if self.busy.get(address, 0) > 0:
            self.busy[address] -= 1
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 2.0.0 accepted"


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., Mailbox]]:
    """Start an aiosmtpd server on loopback (extra Controller options: TLS, AUTH)."""
    controllers: list[Controller] = []

    def start(**options: Any) -> Mailbox:
        box = Mailbox(port=free_port())
        controller = Controller(box, hostname="127.0.0.1", port=box.port, **options)
        controller.start()
        controllers.append(controller)
        return box

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp(start_smtp: Callable[..., Mailbox]) -> Mailbox:
    """A plain SMTP server on loopback."""
    return start_smtp()


def snapshot(external_id: str, name: str, owner: str, supervisor: str, **overrides: Any) -> dict:
    """A passing snapshot whose moderator acted yesterday (the scheduler runs on real time)."""
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    return passing_snapshot(external_id, name, owner, supervisor, recent, **overrides)


@dataclass
class District:
    """A config file and its pages folder; ``set_page`` rewrites one page's snapshot."""

    config: Path
    pages_dir: Path
    people: dict[str, tuple[str, str, str]]  # page id -> (name, owner, supervisor)
    db_url: str

    def set_page(self, page_id: str, **overrides: Any) -> None:
        name, owner, supervisor = self.people[page_id]
        data = snapshot(f"ext-{page_id}", name, owner, supervisor, **overrides)
        (self.pages_dir / f"ext-{page_id}.json").write_text(json.dumps(data))

    def break_page(self, page_id: str) -> None:
        (self.pages_dir / f"ext-{page_id}.json").write_text("{not json")


HEAD = """
[district]
name = "Test District"
web_domains = ["district.org"]
staff_email_domains = ["district.org"]
timezone = "America/New_York"

[database]
url = "{db_url}"

[reports]
output_dir = "report"

[[connectors]]
name = "files"
type = "file"
path = "pages"
"""

PAGE = """
[[pages]]
id = "{id}"
connector = "files"
external_id = "ext-{id}"
name = "{name}"
school = "Test High"
owner = "{owner}"
supervisor = "{supervisor}"
approved_by = "{supervisor}"
approved_on = 2026-08-01
"""

# Two supervisors: Ada oversees robotics and chess, Bo oversees drama.
PEOPLE = {
    "robotics": ("Robotics Club", "rowner@district.org", "ada@district.org"),
    "chess": ("Chess Club", "cowner@district.org", "ada@district.org"),
    "drama": ("Drama Club", "downer@district.org", "bo@district.org"),
}


def email_section(port: int, **keys: Any) -> str:
    """An ``[email]`` section for the loopback server (plain SMTP unless keys say otherwise)."""
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "from": "auditor@district.org",
        "starttls": False,
        "it_recipients": ["it@district.org"],
    } | keys
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n[email]\n" + "\n".join(lines) + "\n"


@pytest.fixture
def make_district(tmp_path: Path) -> Callable[..., District]:
    """Write the three-page district with ``extra`` TOML appended (email, schedule)."""

    def make(extra: str = "", db_url: str | None = None) -> District:
        pages_dir = tmp_path / "pages"
        pages_dir.mkdir(exist_ok=True)
        url = db_url or f"sqlite:///{tmp_path / 'auditor.db'}"
        text = HEAD.format(db_url=url)
        for page_id, (name, owner, supervisor) in PEOPLE.items():
            text += PAGE.format(id=page_id, name=name, owner=owner, supervisor=supervisor)
        config = tmp_path / "config.toml"
        config.write_text(textwrap.dedent(text) + extra)
        district = District(config, pages_dir, dict(PEOPLE), url)
        for page_id in PEOPLE:
            district.set_page(page_id)
        return district

    return make
