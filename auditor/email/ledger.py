"""The delivery log (``deliveries`` table): one row per run, kind and recipient.

A send first *claims* its row (status ``sending``) so that two processes never send the
same email; the row then becomes ``sent`` (with Message-ID and time) or ``failed`` (with
the error). A ``sent`` row is never sent again unless forced; a ``failed`` one is retried
by the next send. A ``sending`` row is left alone while its claim is younger than
``STALE_AFTER`` (another process may be sending it); older, the process that claimed it
stopped, nobody knows whether the email went out, and the next send sends it again.

While a row is ``sending``, ``sent_at`` holds when it was claimed (the table has no column
of its own for that); once ``sent``, when the server accepted it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auditor.db.models import Delivery

SENDING = "sending"
SENT = "sent"
FAILED = "failed"
# With the default retries one email takes 17 minutes at worst (4 attempts of a handful of
# SMTP commands, each with a 30-second timeout, and 14 s of waits between them); a claim
# older than this belongs to a send that stopped.
STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Claim:
    """The delivery log's answer to "may I send this email now?"."""

    delivery_id: int | None  # the row this process now holds; None: do not send
    status: str | None  # the row's status before this claim; None: there was no row
    since: datetime | None  # when an earlier ``sending`` claim was made (None: unknown)

    @property
    def may_send(self) -> bool:
        """This process holds the row and sends the email now."""
        return self.delivery_id is not None

    @property
    def abandoned(self) -> bool:
        """We took over a ``sending`` row: the email may have gone out already."""
        return self.may_send and self.status == SENDING


def claim(engine: Engine, run_id: int, kind: str, recipient: str, force: bool) -> Claim:
    """Take the row for this email when we may send it now: a new row, a failed one, one
    left ``sending`` longer than ``STALE_AFTER``, or (``force``) any. Two processes never
    take the same row: the update only applies if the row is still as we read it."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        row = Delivery(
            run_id=run_id, kind=kind, recipient=recipient, status=SENDING, attempts=0, sent_at=now
        )
        session.add(row)
        try:
            session.commit()
            return Claim(row.id, None, None)
        except IntegrityError:
            session.rollback()
        existing = session.scalars(
            select(Delivery).where(
                Delivery.run_id == run_id, Delivery.kind == kind, Delivery.recipient == recipient
            )
        ).one()
        since = _utc(existing.sent_at) if existing.status == SENDING else None
        fresh = existing.status == SENDING and since is not None and now - since < STALE_AFTER
        if not force and (existing.status == SENT or fresh):
            return Claim(None, existing.status, since)
        unchanged = (
            Delivery.sent_at.is_(None)
            if existing.sent_at is None
            else Delivery.sent_at == existing.sent_at
        )
        taken = session.execute(
            update(Delivery)
            .where(Delivery.id == existing.id, Delivery.status == existing.status, unchanged)
            .values(status=SENDING, error=None, sent_at=now)
        )
        session.commit()
        if taken.rowcount == 1:
            return Claim(existing.id, existing.status, since)
        return Claim(None, SENDING, None)  # another process took it between our two reads


def _utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite returns it without its time zone)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def record(
    engine: Engine,
    delivery_id: int,
    status: str,
    message_id: str | None,
    attempts: int,
    error: str | None = None,
) -> None:
    """Store the outcome of a claimed send."""
    with Session(engine) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(
                status=status,
                message_id=message_id,
                attempts=attempts,
                error=error,
                sent_at=datetime.now(UTC) if status == SENT else None,
            )
        )
        session.commit()


def deliveries(engine: Engine, run_id: int, kind: str | None = None) -> list[Delivery]:
    """The log rows of a run (optionally of one kind), oldest first."""
    query = select(Delivery).where(Delivery.run_id == run_id).order_by(Delivery.id)
    if kind is not None:
        query = query.where(Delivery.kind == kind)
    with Session(engine) as session:
        return list(session.scalars(query))
