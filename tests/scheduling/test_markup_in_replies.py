"""Defect 8 of the hardening issue: a server's words printed through rich are text, never
markup (a reply with ``[/bold]`` once made ``digest --send`` exit 1 instead of 5)."""

from __future__ import annotations

from collections.abc import Callable

from auditor.errors import ExitCode
from tests.scheduling.conftest import District, Mailbox, email_section
from tests.scheduling.conftest import invoke as cli


def test_an_smtp_reply_with_markup_is_printed_as_text(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK
    smtp.refuse.add("ada@district.org")
    smtp.refusal = "[/bold] see [link=https://evil.example]here[/link]"
    code, out, err = cli("digest", "--config", str(district.config), "--send")
    assert code == ExitCode.UNDELIVERED, err
    shown = out + err
    assert "[/bold] see [link=https://evil.example]here[/link]" in shown.replace("\n", "")
    assert "\x1b]8;" not in shown  # no terminal hyperlink escape
