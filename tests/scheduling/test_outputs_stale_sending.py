"""Defect 13 of the hardening issue (first part): ``digest --send`` killed with SIGKILL while
an email is with the SMTP server leaves that email ``sending`` in the delivery log. Until
the claim is older than ``ledger.STALE_AFTER`` another send leaves it alone and says since
when it is pending; after that it is unknown whether it went out, so the next send sends it
again and warns that it may arrive twice."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from auditor.db.engine import make_engine
from auditor.db.models import Delivery
from auditor.email import ledger
from auditor.errors import ExitCode
from tests.scheduling.conftest import District, Mailbox, email_section, free_port
from tests.scheduling.conftest import invoke as cli

ROOT = Path(__file__).resolve().parents[2]
ADA, BO, IT = "ada@district.org", "bo@district.org", "it@district.org"


@dataclass
class HoldingMailbox(Mailbox):
    """A mailbox that keeps the first message to a recipient in ``hold`` waiting at DATA
    (``held`` is set then) until ``release`` is set, and never accepts that message."""

    hold: set[str] = field(default_factory=set)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.hold & set(envelope.rcpt_tos):
            self.hold -= set(envelope.rcpt_tos)
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 the sender went away"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def holding_smtp() -> Iterator[HoldingMailbox]:
    """A loopback SMTP server that holds the first digest to Bo."""
    box = HoldingMailbox(port=free_port(), hold={BO})
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    box.release.set()
    controller.stop()


def rows(db_url: str) -> dict[str, Delivery]:
    engine = make_engine(db_url)
    with DbSession(engine) as session:
        found = {d.recipient: d for d in session.scalars(select(Delivery))}
    engine.dispose()
    return found


def kill_digest_send_while_bo_is_with_the_server(district: District, box: HoldingMailbox) -> None:
    """Run ``auditor digest --send`` in a subprocess and SIGKILL it while Bo's digest waits
    for the server's answer to DATA."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "auditor", "digest", "--config", str(district.config), "--send"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert box.held.wait(60), "the digest to Bo never reached DATA"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    box.release.set()


def test_a_digest_left_sending_by_a_killed_process_is_resent_after_the_timeout_with_a_warning(
    db_url: str, holding_smtp: HoldingMailbox, make_district: Callable[..., District]
) -> None:
    box = holding_smtp
    district = make_district(email_section(box.port), db_url=db_url)
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK
    kill_digest_send_while_bo_is_with_the_server(district, box)
    before = rows(db_url)
    assert before[ADA].status == ledger.SENT and before[BO].status == ledger.SENDING
    assert IT not in before and box.to(BO) == []

    # Soon after the kill the claim may still belong to a live process: left alone, said so.
    code, out, err = cli("digest", "--config", str(district.config), "--send")
    assert code == ExitCode.OK, out + err
    assert box.to(BO) == [] and len(box.to(ADA)) == 1
    shown = " ".join(re.sub("[│┃]", " ", out + err).split())  # the table's cells, unwrapped
    assert "bo@district.org skipped being sent by another process since" in shown
    assert rows(db_url)[BO].status == ledger.SENDING

    # Once the claim is older than the timeout, the next send delivers it and warns.
    engine = make_engine(db_url)
    claimed = datetime.now(UTC) - ledger.STALE_AFTER - timedelta(minutes=1)
    with DbSession(engine) as session:
        session.execute(update(Delivery).where(Delivery.recipient == BO).values(sent_at=claimed))
        session.commit()
    engine.dispose()
    code, out, err = cli("digest", "--config", str(district.config), "--send")
    assert code == ExitCode.OK, out + err
    assert len(box.to(BO)) == 1 and len(box.to(ADA)) == 1
    warning = " ".join(err.split())
    assert re.search(
        rf"WARNING .*run 1: digest to {BO} was left 'sending' since {claimed:%Y-%m-%d %H:%M} UTC "
        "by a send that did not finish; it may have been delivered; sending it again",
        warning,
    )
    after = rows(db_url)
    assert after[BO].status == ledger.SENT and after[BO].message_id is not None


def test_only_one_process_takes_over_an_abandoned_claim(
    db_url: str, make_district: Callable[..., District]
) -> None:
    district = make_district(db_url=db_url)
    assert cli("run", "--config", str(district.config))[0] == ExitCode.OK
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    old = now - ledger.STALE_AFTER - timedelta(seconds=5)
    with DbSession(engine) as session:
        session.add_all(
            [
                Delivery(run_id=1, kind="digest", recipient=ADA, status="sending", sent_at=old),
                Delivery(run_id=1, kind="digest", recipient=BO, status="sending", sent_at=None),
                Delivery(run_id=1, kind="digest", recipient=IT, status="sending", sent_at=now),
            ]
        )
        session.commit()
    for recipient in (ADA, BO):  # an old claim, and one of unknown age
        first = ledger.claim(engine, 1, "digest", recipient, force=False)
        assert first.may_send and first.abandoned
        second = ledger.claim(engine, 1, "digest", recipient, force=False)
        assert not second.may_send and second.status == ledger.SENDING
    fresh = ledger.claim(engine, 1, "digest", IT, force=False)
    assert not fresh.may_send and fresh.since is not None
    engine.dispose()
