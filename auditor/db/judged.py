"""The judged-post cache: the content detectors' verdicts by text hash and rules version,
read for a page's posts in one query and written in one executemany per batch."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.orm import Session

from auditor.db.engine import dialect_insert
from auditor.db.models import JudgedPost
from auditor.text.verdict import TextVerdict

log = logging.getLogger(__name__)

# last_seen is moved forward at most once a week per row: a nightly run over unchanged
# pages then writes nothing, and retention (measured in months) is still applied in time.
TOUCH_AFTER = timedelta(days=7)
BATCH = 500  # hashes per IN list / rows per INSERT
_TABLE = JudgedPost.__table__
_SELECT = select(_TABLE.c.text_hash, _TABLE.c.verdict, _TABLE.c.last_seen).where(
    _TABLE.c.version == bindparam("version"),
    _TABLE.c.text_hash.in_(bindparam("hashes", expanding=True)),
)


def load_verdicts(
    engine: Engine, hashes: Collection[str], version: str, seen: datetime
) -> dict[str, TextVerdict]:
    """The stored verdicts of ``hashes`` under ``version``, by hash (a row that no longer
    reads as a verdict is left out, and so judged again); rows last seen over a week
    before ``seen`` are marked seen. One cached Core statement per chunk of hashes."""
    wanted = list(dict.fromkeys(hashes))
    found: dict[str, TextVerdict] = {}
    stale: list[str] = []
    if not wanted:
        return found
    with engine.begin() as conn:
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            rows = conn.execute(_SELECT, {"version": version, "hashes": chunk})
            for digest, data, last_seen in rows:
                try:
                    found[digest] = TextVerdict.from_json(data)
                except (KeyError, TypeError, ValueError):
                    log.debug("judged post %s: stored verdict unreadable, judged again", digest)
                    continue
                if last_seen < seen - TOUCH_AFTER:
                    stale.append(digest)
        for start in range(0, len(stale), BATCH):
            conn.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.version == version,
                    _TABLE.c.text_hash.in_(stale[start : start + BATCH]),
                )
                .values(last_seen=seen)
            )
    return found


def save_verdicts(
    engine: Engine, verdicts: Mapping[str, TextVerdict], version: str, seen: datetime
) -> None:
    """Store ``verdicts`` (by hash) under ``version``; one already stored is kept. One
    executemany of one compiled statement (a multi-row VALUES would be compiled anew for
    every batch)."""
    rows = [
        {"text_hash": h, "version": version, "verdict": v.to_json(), "last_seen": seen}
        for h, v in verdicts.items()
    ]
    if not rows:
        return
    insert = dialect_insert(engine.dialect)
    statement = insert(_TABLE).on_conflict_do_nothing()
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(statement, rows[start : start + BATCH])


def prune_versions(engine: Engine, version: str) -> int:
    """Remove the verdicts of every other rules version; how many were removed."""
    with Session(engine) as session, session.begin():
        return session.execute(delete(JudgedPost).where(JudgedPost.version != version)).rowcount


def purge_unseen(engine: Engine, before: datetime) -> int:
    """Remove the verdicts on texts not seen since ``before`` (retention); how many."""
    with Session(engine) as session, session.begin():
        return session.execute(delete(JudgedPost).where(JudgedPost.last_seen < before)).rowcount
