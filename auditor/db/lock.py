"""The run lock: a lease row in the database, so that one audit runs at a time per
database, also across processes and hosts sharing a PostgreSQL.

The holder renews the lease while it works; a lease that is not renewed expires, and a
holder on this host whose process is gone is taken over at once (a killed run).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auditor.db.models import Lock
from auditor.errors import RunLockedError

AUDIT_LOCK = "audit"
log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


def holder_id() -> str:
    """``host:pid:random``, unique per process and readable in messages."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_gone(holder: str) -> bool:
    """True when ``holder`` ran on this host and its process no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class RunLock:
    """A held lease; renew it with :meth:`renew`, give it back with :meth:`release`."""

    engine: Engine
    holder: str
    name: str = AUDIT_LOCK

    @classmethod
    def acquire(cls, engine: Engine, holder: str | None = None, name: str = AUDIT_LOCK) -> RunLock:
        """Take the lease or raise RunLockedError naming who holds it."""
        holder = holder or holder_id()
        now = datetime.now(UTC)
        with Session(engine) as session:
            try:
                session.add(Lock(name=name, holder=holder, acquired_at=now, expires_at=now + LEASE))
                session.commit()
                return cls(engine, holder, name)
            except IntegrityError:
                session.rollback()
            current = session.get(Lock, name)
            if current is None:  # released between our insert and read: try once more
                return cls.acquire(engine, holder, name)
            if current.expires_at > now and not _holder_gone(current.holder):
                since = current.acquired_at.strftime("%Y-%m-%d %H:%M UTC")
                run = f"run {current.run_id} " if current.run_id else ""
                raise RunLockedError(
                    f"another audit is running on this database ({run}held by "
                    f"{current.holder.rsplit(':', 1)[0]} since {since}); try again when it ends"
                )
            taken = session.execute(
                update(Lock)
                .where(Lock.name == name, Lock.holder == current.holder)
                .values(holder=holder, run_id=None, acquired_at=now, expires_at=now + LEASE)
            )
            session.commit()
            if taken.rowcount != 1:  # someone else took over the stale lease first
                return cls.acquire(engine, holder, name)
            return cls(engine, holder, name)

    def renew(self, run_id: int | None = None) -> bool:
        """Extend the lease (and record the run it protects); False if it is no longer ours
        (it expired and another audit took it over)."""
        values: dict[str, object] = {"expires_at": datetime.now(UTC) + LEASE}
        if run_id is not None:
            values["run_id"] = run_id
        with Session(self.engine) as session:
            renewed = session.execute(
                update(Lock)
                .where(Lock.name == self.name, Lock.holder == self.holder)
                .values(values)
            ).rowcount
            session.commit()
        return renewed == 1

    def release(self) -> None:
        """Give the lease back."""
        with Session(self.engine) as session:
            session.execute(delete(Lock).where(Lock.name == self.name, Lock.holder == self.holder))
            session.commit()

    def held(self) -> bool:
        """Whether this holder still has the lease."""
        with Session(self.engine) as session:
            current = session.scalar(select(Lock.holder).where(Lock.name == self.name))
        return current == self.holder


class LeaseKeeper:
    """Renews a lease from its own thread, so that work holding the event loop (or the
    GIL for a while) cannot let it expire; ``lost`` is set once the lease is found taken."""

    def __init__(self, lock: RunLock, run_id: int, every_s: float) -> None:
        self.lock, self.run_id, self.every_s = lock, run_id, every_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                if not self.lock.renew(self.run_id):
                    self.lost.set()
                    log.error("the run lock was taken over by another audit")
                    return
            except Exception as exc:  # a missed renewal is retried; the lease outlives a few
                log.warning("could not renew the run lock: %s", exc)
