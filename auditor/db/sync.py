"""Per-page sync state: what a connector kept of a page's last fetch (delta links, ETags,
the posts inside the look-back window), so that the next run fetches only what changed.

The state is the connector's own JSON; this module only stores it, never reads into it.
It is page content (it may hold student data): it is dropped with the page, and by
:func:`drop_unregistered` once the page leaves the registry. A state holding any secret
the process knows (an access token, a password read from the environment) is never
stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    bindparam,
    delete,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from auditor import json_text
from auditor.db.models import SyncState
from auditor.logs import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredState:
    """A page's stored state: ``data`` (empty when unreadable, with ``problem`` saying
    why) and when the page was last fetched in full."""

    data: dict[str, Any]
    full_fetch_at: datetime | None
    problem: str | None = None


def load(engine: Engine, page_id: str, connector: str, external_id: str) -> StoredState | None:
    """The state kept for ``page_id`` by the connector named ``connector`` for
    ``external_id``; ``None`` when there is none, or it was kept for another connector or
    group (the page was re-registered: its old state says nothing of the new one)."""
    wanted = (page_id, connector, external_id)
    return load_many(engine, [wanted])[wanted]


Wanted = tuple[str, str, str]
"""A page's id, the connector name and the page's external id its state is asked for."""


def load_many(engine: Engine, wanted: Iterable[Wanted]) -> dict[Wanted, StoredState | None]:
    """:func:`load` of each of ``wanted``, in one query."""
    asked = set(wanted)
    table = SyncState.__table__
    with engine.connect() as conn:  # Core: no ORM compile or session
        rows = conn.execute(
            select(
                table.c.page_id,
                table.c.connector,
                table.c.external_id,
                type_coerce(table.c.state, Text),  # parsed here, so bad JSON is caught
                table.c.full_fetch_at,
            ).where(table.c.page_id.in_({page for page, _, _ in asked}))
        ).all()
    found: dict[Wanted, StoredState | None] = dict.fromkeys(asked)
    for row in rows:
        key = (row.page_id, row.connector, row.external_id)
        if key in found:
            found[key] = _state(row[3], row.full_fetch_at)
    return found


def _state(raw: Any, full_fetch_at: datetime | None) -> StoredState:
    """A stored state from its column's text (or its value, where the driver parsed it)."""
    try:
        data = json_text.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return StoredState({}, full_fetch_at, "not valid JSON")
    if not isinstance(data, dict):
        return StoredState({}, full_fetch_at, "not a JSON object")
    return StoredState(data, full_fetch_at)


@dataclass(frozen=True)
class StateWrite:
    """A page's new state, written with its results (:func:`store.record_pages`): the
    connector's ``state`` (``None`` removes the stored one) and whether it came from a
    full fetch (then ``full_fetch_at`` moves to now)."""

    connector: str
    external_id: str
    state: dict[str, Any] | None
    full: bool


def save(conn: Connection, states: Sequence[tuple[str, StateWrite]], now: datetime) -> None:
    """Keep each page's new state, in the caller's transaction: one statement per kind of
    change for the whole batch. A state holding a secret the process knows is never kept:
    the page's old state is removed instead, with a warning (the next run reads it in
    full)."""
    if not states:
        return
    gone: list[str] = []
    kept: dict[str, dict[str, Any]] = {}
    for page_id, write in states:
        text = json.dumps(write.state, separators=(",", ":")) if write.state is not None else ""
        if text and redact(text) != text:
            log.warning("page %s: its sync state holds a secret; not stored", page_id)
            text = ""
        if not text:
            gone.append(page_id)
            kept.pop(page_id, None)
            continue
        kept[page_id] = {
            "connector": write.connector,
            "external_id": write.external_id,
            "state": write.state,
            "full_fetch_at": now if write.full else None,
            "updated_at": now,
        }
    table = SyncState.__table__
    if gone:
        conn.execute(delete(table).where(table.c.page_id.in_(gone)))
    if not kept:
        return
    last = dict(
        conn.execute(
            select(table.c.page_id, table.c.full_fetch_at).where(table.c.page_id.in_(kept))
        ).all()
    )
    new = [
        {"page_id": pid, **row, "full_fetch_at": row["full_fetch_at"] or now}
        for pid, row in kept.items()
        if pid not in last
    ]
    old = [
        {"pid": pid, **row, "full_fetch_at": row["full_fetch_at"] or last[pid]}
        for pid, row in kept.items()
        if pid in last
    ]
    if new:
        conn.execute(insert(table), new)
    if old:
        conn.execute(update(table).where(table.c.page_id == bindparam("pid")), old)


def drop_unregistered(engine: Engine, registered: Iterable[str], dry_run: bool = False) -> int:
    """Remove the state of every page not in ``registered`` (page content kept for pages
    no longer audited); the number of pages whose state was (or would be) removed."""
    keep = set(registered)
    with Session(engine) as session, session.begin():
        stale = [pid for pid in session.scalars(select(SyncState.page_id)) if pid not in keep]
        if stale and not dry_run:
            session.execute(delete(SyncState).where(SyncState.page_id.in_(stale)))
    return len(stale)
