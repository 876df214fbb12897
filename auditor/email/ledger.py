"""The delivery log (``deliveries`` table): one row per run, kind and recipient.

A send first *claims* its row (status ``sending``) so that two processes never send the
same email; the row then becomes ``sent`` (with Message-ID and time) or ``failed`` (with
the error). A ``sent`` row is never sent again unless forced; a ``failed`` one is retried
by the next send; a ``sending`` row left by a process that died is reported, and resent
only when forced.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auditor.db.models import Delivery

SENDING = "sending"
SENT = "sent"
FAILED = "failed"


def claim(engine: Engine, run_id: int, kind: str, recipient: str, force: bool) -> int | str:
    """Take the row for this email: its id when we may send now, else the status that
    stops us (``sent`` or ``sending``)."""
    with Session(engine) as session:
        row = Delivery(run_id=run_id, kind=kind, recipient=recipient, status=SENDING, attempts=0)
        session.add(row)
        try:
            session.commit()
            return row.id
        except IntegrityError:
            session.rollback()
        existing = session.scalars(
            select(Delivery).where(
                Delivery.run_id == run_id, Delivery.kind == kind, Delivery.recipient == recipient
            )
        ).one()
        if existing.status in (SENT, SENDING) and not force:
            return existing.status
        taken = session.execute(
            update(Delivery)
            .where(Delivery.id == existing.id, Delivery.status == existing.status)
            .values(status=SENDING, error=None)
        )
        session.commit()
        return existing.id if taken.rowcount == 1 else SENDING


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
