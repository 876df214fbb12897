"""``check-config --connect``: each connector's credentials and the SMTP login are tried
for real, one line each, without an audit; any failure exits 3."""

from __future__ import annotations

import socket
from collections.abc import Callable

from auditor.errors import ExitCode
from tests.scheduling.conftest import District, Mailbox, email_section
from tests.scheduling.conftest import invoke as cli


def test_everything_reachable_is_ok(smtp: Mailbox, make_district: Callable[..., District]) -> None:
    district = make_district(email_section(smtp.port))
    code, out, err = cli("check-config", "--connect", "--config", str(district.config))
    assert code == ExitCode.OK, out + err
    assert "connector files (file): ok: read page" in out
    assert f"SMTP 127.0.0.1:{smtp.port}: ok: connected" in out
    assert smtp.messages == []  # nothing was sent


def test_an_unreachable_server_and_a_broken_page_are_failures(
    make_district: Callable[..., District],
) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        district = make_district(email_section(closed.getsockname()[1]))
        district.break_page(next(iter(district.people)))  # the page the check reads
        code, out, err = cli("check-config", "--connect", "--config", str(district.config))
    assert code == ExitCode.INCOMPLETE, out + err
    lines = out.splitlines()
    assert any(line.startswith("connector files (file): FAILED: ") for line in lines), out
    assert any(line.startswith("SMTP 127.0.0.1:") and "FAILED" in line for line in lines), out
    assert "Traceback" not in out + err
