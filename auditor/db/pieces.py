"""Stored report pieces (table ``report_pieces``): each page's rendered pieces, by the
audit holding the results they were rendered from, read and written a part at a time.
Only a cache: a piece that cannot be read or written is rendered again."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from auditor.db.models import ReportPiece

_PIECES = ReportPiece.__table__
_IDS_PER_SELECT = 500  # audit ids in one select's IN list


def read(engine: Engine, audit_ids: Sequence[int]) -> Iterator[tuple[int, str, bytes]]:
    """``(audit id, key, body)`` of the stored pieces of ``audit_ids``."""
    with engine.connect() as conn:
        for start in range(0, len(audit_ids), _IDS_PER_SELECT):
            chunk = audit_ids[start : start + _IDS_PER_SELECT]
            rows = conn.execute(
                select(ReportPiece.audit_id, ReportPiece.key, ReportPiece.body).where(
                    ReportPiece.audit_id.in_(chunk)
                )
            )
            yield from ((audit_id, key, bytes(body)) for audit_id, key, body in rows)


def save(engine: Engine, pieces: Iterable[tuple[int, str, bytes]]) -> None:
    """Keep each ``(audit id, key, body)``, replacing the audit's older piece: one
    transaction for the lot."""
    rows = [{"audit_id": a, "key": k, "body": b} for a, k, b in pieces]
    if not rows:
        return
    with engine.begin() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(_PIECES)
        statement = statement.on_conflict_do_update(
            index_elements=[_PIECES.c.audit_id],
            set_={"key": statement.excluded.key, "body": statement.excluded.body},
        )
        conn.execute(statement, rows)
