"""Defect 4 of the hardening issue: the run lock is renewed from its own thread, and an
audit that lost it (a stall longer than the lease) stops writing and never claims to be
complete."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import auditor.runner
from auditor.connectors.file import FileConnector
from auditor.connectors.registry import available_connectors
from auditor.db.engine import make_engine, upgrade
from auditor.db.lock import LeaseKeeper, RunLock
from auditor.db.models import Lock, PageAudit, Run
from auditor.errors import LeaseLost
from auditor.loading import load_config
from auditor.runner import Runner


def test_the_lease_is_renewed_while_the_event_loop_is_blocked(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    upgrade(engine)
    lock = RunLock.acquire(engine)
    with Session(engine) as session:
        before = session.scalar(select(Lock.expires_at))
    keeper = LeaseKeeper(lock, run_id=1, every_s=0.05).start()

    async def blocked() -> None:
        time.sleep(0.5)  # CPU work holding the loop, as a slow page's rules once did

    asyncio.run(blocked())
    keeper.stop()
    with Session(engine) as session:
        assert session.scalar(select(Lock.expires_at)) > before
    assert not keeper.lost.is_set()


def _stored(engine) -> bool:
    """Some page of the run has been committed."""
    with Session(engine) as session:
        return session.scalar(select(PageAudit.id).limit(1)) is not None


class StealingConnector(FileConnector):
    """The second fetch stands for a long stall: meanwhile another audit takes the lease."""

    type = "stealing"
    fetched = 0

    async def fetch_page(self, ref):
        type(self).fetched += 1
        if type(self).fetched == 2:
            # A long stall outlasts the writer thread's commit of the page before it.
            deadline = time.monotonic() + 30
            while not _stored(self.engine) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            with Session(self.engine) as session:
                session.execute(update(Lock).values(holder="other-host:1:abc"))
                session.commit()
        return await super().fetch_page(ref)


def test_an_audit_that_lost_the_lease_stops_and_is_not_complete(
    db_url: str, make_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_config({"a": {}, "b": {}, "c": {}}, db_url=db_url)
    path.write_text(path.read_text().replace('type = "file"', 'type = "stealing"'))
    registry = {**available_connectors(), "stealing": StealingConnector}
    monkeypatch.setattr(auditor.runner, "available_connectors", lambda: registry)
    monkeypatch.setattr(auditor.loading, "available_connectors", lambda: registry)
    config = load_config(path)
    engine = make_engine(config.database.url)
    StealingConnector.engine = engine  # type: ignore[attr-defined]
    monkeypatch.setattr(StealingConnector, "fetched", 0)
    for conf in config.connectors:  # one page at a time, in order
        conf.__pydantic_extra__["max_concurrency"] = 1  # type: ignore[index]
    with pytest.raises(LeaseLost):
        asyncio.run(Runner(config, engine).run(config.pages))
    with Session(engine) as session:
        run = session.scalars(select(Run)).one()
        stored = set(session.scalars(select(PageAudit.page_id)))
        holder = session.scalar(select(Lock.holder))
    assert run.status == "interrupted"
    assert len(stored) == 1  # the page audited before the stall; nothing after it
    assert holder == "other-host:1:abc"  # the other audit's lease is left alone
