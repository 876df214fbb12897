"""``auditor digest``: previews, SMTP delivery to a real loopback server, the delivery log
(no double sends), retries and failures that leave other recipients delivered."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.db.engine import make_engine
from auditor.db.models import Delivery
from auditor.email.deliver import RetryPolicy
from auditor.email.digests import digest_run, send_digests
from auditor.errors import ExitCode
from auditor.loading import load_config
from auditor.logs import redact

from .conftest import District, Mailbox, email_section, free_port, invoke

FAST = RetryPolicy(attempts=3, first_wait_s=0.05, max_wait_s=0.2)
cli = invoke


def audited(district: District) -> None:
    """Run one audit (drama's export is broken, so it cannot be audited)."""
    code, _, err = cli("run", "--config", str(district.config))
    assert code == ExitCode.INCOMPLETE, err


def deliveries(district: District) -> list[Delivery]:
    with Session(make_engine(district.db_url)) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def body(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(("plain",)).get_content()


def test_each_supervisor_gets_one_digest_with_only_their_pages_and_it_a_summary(
    db_url: str, smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port), db_url=db_url)
    district.set_page(
        "chess",
        settings={
            "visibility": "public",
            "join_policy": "invite",
            "post_moderation": "all",
            "invite_links": [],
        },
    )
    district.break_page("drama")
    audited(district)

    code, out, err = cli("digest", "--config", str(district.config), "--send")

    assert code == ExitCode.OK, out + err
    ada, bo, it = (
        smtp.to("ada@district.org"),
        smtp.to("bo@district.org"),
        smtp.to("it@district.org"),
    )
    assert len(ada) == len(bo) == len(it) == 1
    assert len(smtp.messages) == 3
    assert "Robotics Club" in body(ada[0]) and "Chess Club" in body(ada[0])
    assert "Drama Club" not in body(ada[0])
    assert "Drama Club" in body(bo[0]) and "Chess Club" not in body(bo[0])
    summary = body(it[0])
    assert "Could not be audited:  1" in summary
    assert "Drama Club (drama" in summary and "not valid JSON" in summary
    assert "ada@district.org (2 pages): sent" in summary
    for msg in smtp.messages:
        # a digest with items to plan is multipart/mixed: the alternative, then the CSV plan
        alternative = next(m for m in msg.walk() if m.get_content_type() == "multipart/alternative")
        assert [p.get_content_type() for p in alternative.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        assert msg["Date"] and msg["Message-ID"].endswith("@district.org>")
        assert msg["From"] == "auditor@district.org"
    rows = deliveries(district)
    assert {(r.kind, r.recipient, r.status) for r in rows} == {
        ("digest", "ada@district.org", "sent"),
        ("digest", "bo@district.org", "sent"),
        ("it-summary", "it@district.org", "sent"),
    }
    assert {r.message_id for r in rows} == {m["Message-ID"] for m in smtp.messages}
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)


def test_second_send_sends_nothing_unless_forced(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    district.break_page("drama")
    audited(district)
    assert cli("digest", "--config", str(district.config), "--send")[0] == ExitCode.OK
    first = len(smtp.messages)

    code, out, _ = cli("digest", "--config", str(district.config), "--send")

    assert code == ExitCode.OK
    assert len(smtp.messages) == first == 3
    assert out.count("skipped") == 3 and "already sent" in out
    code, _, _ = cli("digest", "--config", str(district.config), "--send", "--force")
    assert code == ExitCode.OK
    assert len(smtp.messages) == 2 * first
    assert len(deliveries(district)) == 3  # one log row per run, kind and recipient


def test_refused_recipient_leaves_the_others_delivered_and_is_retried_next_time(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    district.break_page("drama")
    audited(district)
    smtp.refuse.add("ada@district.org")

    code, _, err = cli("digest", "--config", str(district.config), "--send")

    assert code == ExitCode.UNDELIVERED
    assert smtp.to("ada@district.org") == []
    assert len(smtp.to("bo@district.org")) == len(smtp.to("it@district.org")) == 1
    assert "digest to ada@district.org failed after 1 attempt(s): recipient refused: 550" in err
    assert "ada@district.org (2 pages): failed - recipient refused: 550" in body(
        smtp.to("it@district.org")[0]
    )
    failed = [r for r in deliveries(district) if r.status == "failed"]
    assert [(r.recipient, r.attempts) for r in failed] == [("ada@district.org", 1)]
    assert failed[0].error is not None and "550 5.1.1" in failed[0].error

    smtp.refuse.clear()
    code, _, _ = cli("digest", "--config", str(district.config), "--send")
    assert code == ExitCode.OK
    assert len(smtp.to("ada@district.org")) == 1
    assert len(smtp.messages) == 3  # bo and IT were not sent twice
    assert {r.status for r in deliveries(district)} == {"sent"}


def test_busy_mailbox_is_retried_with_backoff(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    district = make_district(email_section(smtp.port))
    audited_ok = cli("run", "--config", str(district.config))
    assert audited_ok[0] == ExitCode.OK, audited_ok
    config = load_config(district.config)
    engine = make_engine(config.database.url)
    smtp.busy["ada@district.org"] = 2

    started = time.monotonic()
    outcomes = send_digests(engine, config, digest_run(engine, None), policy=FAST)

    assert time.monotonic() - started >= 0.05 + 0.1  # waited 0.05 s, then 0.1 s
    by_recipient = {o.recipient: o for o in outcomes}
    assert by_recipient["ada@district.org"].status == "sent"
    assert by_recipient["ada@district.org"].attempts == 3
    assert len(smtp.to("ada@district.org")) == 1


def test_unreachable_server_fails_the_batch_fast_and_the_next_send_delivers_it(
    make_district: Callable[..., District], start_smtp: Callable[..., Mailbox]
) -> None:
    port = free_port()
    district = make_district(email_section(port))
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK
    config = load_config(district.config)
    engine = make_engine(config.database.url)
    view = digest_run(engine, None)

    outcomes = send_digests(engine, config, view, policy=FAST)

    assert [o.status for o in outcomes] == ["failed"] * 3
    assert [o.attempts for o in outcomes] == [3, 0, 0]  # retried once, not once per email
    assert all(f"127.0.0.1:{port}" in (o.error or "") for o in outcomes)

    box = Mailbox(port=port)
    from aiosmtpd.controller import Controller

    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        again = send_digests(engine, config, view, policy=FAST)
    finally:
        controller.stop()
    assert [o.status for o in again] == ["sent"] * 3
    assert len(box.messages) == 3


def test_preview_writes_eml_files_and_sends_nothing(
    smtp: Mailbox, make_district: Callable[..., District], tmp_path: Path
) -> None:
    district = make_district(email_section(smtp.port))
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK

    code, out, _ = cli("digest", "--config", str(district.config), "-o", str(tmp_path / "eml"))

    assert code == ExitCode.OK
    assert smtp.messages == [] and deliveries(district) == []
    names = sorted(p.name for p in (tmp_path / "eml").iterdir())
    assert names == [
        "digest-ada@district.org.eml",
        "digest-bo@district.org.eml",
        "it-summary-it@district.org.eml",
    ]
    assert "would send" in out


def test_send_without_a_sender_is_a_config_error(make_district: Callable[..., District]) -> None:
    district = make_district()
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK
    code, _, err = cli("digest", "--config", str(district.config), "--send")
    assert code == ExitCode.USAGE
    assert "email.from: not set" in err


def test_digest_of_an_empty_database_says_so(make_district: Callable[..., District]) -> None:
    district = make_district()
    code, _, err = cli("digest", "--config", str(district.config))
    assert code == ExitCode.USAGE
    assert "no finished run" in err


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A throwaway certificate authority the client trusts (through SSL_CERT_FILE)."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    return ca


@pytest.mark.parametrize("mode", ["starttls", "implicit-tls"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_tls_and_login_from_environment(
    mode: str,
    tls: trustme.CA,
    start_smtp: Callable[..., Mailbox],
    make_district: Callable[..., District],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ssl

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.issue_cert("127.0.0.1").configure_cert(server_ctx)
    logins: list[tuple[str, str]] = []

    def authenticate(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret-pass")

    options = {"authenticator": authenticate, "auth_required": True}
    if mode == "starttls":
        options |= {"tls_context": server_ctx, "require_starttls": True}
        keys = {"starttls": True}
    else:
        # aiosmtpd only counts STARTTLS as TLS when offering AUTH; this session is TLS from
        # the first byte, so let it offer AUTH anyway
        options |= {"ssl_context": server_ctx, "auth_require_tls": False}
        keys = {"starttls": False, "tls": True}
    box = start_smtp(**options)
    monkeypatch.setenv("SMTP_USER", "auditor")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret-pass")
    district = make_district(
        email_section(box.port, username_env="SMTP_USER", password_env="SMTP_PASSWORD", **keys)
    )
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK

    code, out, err = cli("digest", "--config", str(district.config), "--send")

    assert code == ExitCode.OK, out + err
    assert len(box.messages) == 3
    assert logins == [("auditor", "s3cret-pass")]  # one session for the whole batch
    assert redact("login failed for s3cret-pass") == "login failed for ***"
    assert "s3cret-pass" not in out + err


def test_missing_password_variable_names_the_key(
    smtp: Mailbox, make_district: Callable[..., District], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("SMTP_USER", "auditor")
    district = make_district(
        email_section(smtp.port, username_env="SMTP_USER", password_env="NO_SUCH_SMTP_PASSWORD")
    )
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK
    code, _, err = cli("digest", "--config", str(district.config), "--send")
    assert code == ExitCode.USAGE
    assert "email.password_env: the environment variable it names is not set" in err
    assert "NO_SUCH_SMTP_PASSWORD" not in err  # a name is never quoted: it could be a secret
