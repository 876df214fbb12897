"""Turns an outgoing email (recipient, subject, text, HTML) into a MIME message with
Message-ID and Date headers, as multipart/alternative (plain text first, then HTML), inside
multipart/mixed when files are attached."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from auditor.reports.environment import strip_bidi

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Outgoing:
    """One email to one recipient; ``kind`` is digest, it-summary or alert (the delivery log
    key together with the run and the recipient)."""

    kind: str
    recipient: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A text file sent with an email (a supervisor's action plan as CSV)."""

    filename: str
    text: str
    subtype: str = "csv"


def one_line(value: str, limit: int = 200) -> str:
    """``value`` on one line without bidi controls (header-safe: page names are untrusted),
    shortened to ``limit``."""
    text = _SPACE.sub(" ", strip_bidi(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compose(mail: Outgoing, sender: str, now: datetime | None = None) -> EmailMessage:
    """The MIME message for ``mail`` from ``sender``; its Message-ID uses the sender's domain."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.recipient
    msg["Subject"] = one_line(mail.subject)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=mail.kind, domain=sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    for item in mail.attachments:
        msg.add_attachment(item.text, subtype=item.subtype, filename=item.filename)
    return msg
