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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, delete, insert, select, type_coerce, update
from sqlalchemy.orm import Session

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
    with Session(engine) as session:
        row = session.execute(
            select(
                SyncState.connector,
                SyncState.external_id,
                type_coerce(SyncState.state, Text),  # parsed here, so bad JSON is caught
                SyncState.full_fetch_at,
            ).where(SyncState.page_id == page_id)
        ).one_or_none()
    if row is None or row.connector != connector or row.external_id != external_id:
        return None
    raw = row[2]
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return StoredState({}, row.full_fetch_at, "not valid JSON")
    if not isinstance(data, dict):
        return StoredState({}, row.full_fetch_at, "not a JSON object")
    return StoredState(data, row.full_fetch_at)


def save(
    engine: Engine,
    page_id: str,
    connector: str,
    external_id: str,
    state: dict[str, Any] | None,
    full_fetch_at: datetime | None,
    now: datetime,
) -> bool:
    """Keep ``state`` for ``page_id`` (``None`` removes it); ``full_fetch_at`` is the
    last full fetch (``None``: unchanged). A state holding a known secret is not kept
    (the old one is removed) and ``False`` is returned."""
    text = json.dumps(state, separators=(",", ":")) if state is not None else None
    if text is not None and redact(text) != text:
        log.warning("page %s: its sync state holds a secret; not stored", page_id)
        state = None
    with Session(engine) as session, session.begin():
        # Core statements, never the ORM row: its state may be unreadable JSON.
        where = SyncState.page_id == page_id
        if state is None:
            session.execute(delete(SyncState).where(where))
            return text is None
        last = session.scalar(select(SyncState.full_fetch_at).where(where))
        values = {
            "connector": connector,
            "external_id": external_id,
            "state": state,
            "full_fetch_at": full_fetch_at or last or now,
            "updated_at": now,
        }
        if last is None:
            session.execute(insert(SyncState).values(page_id=page_id, **values))
        else:
            session.execute(update(SyncState).where(where).values(**values))
    return True


def drop_unregistered(engine: Engine, registered: Iterable[str], dry_run: bool = False) -> int:
    """Remove the state of every page not in ``registered`` (page content kept for pages
    no longer audited); the number of pages whose state was (or would be) removed."""
    keep = set(registered)
    with Session(engine) as session, session.begin():
        stale = [pid for pid in session.scalars(select(SyncState.page_id)) if pid not in keep]
        if stale and not dry_run:
            session.execute(delete(SyncState).where(SyncState.page_id.in_(stale)))
    return len(stale)
