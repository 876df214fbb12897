"""Stored report pieces (table ``report_pieces``): each page's rendered pieces, by the
audit holding the results they were rendered from, read and written a part at a time.
Only a cache: a piece that cannot be read or written is rendered again. Pieces of an
audit whose run was purged are neither read nor written: they quote the evidence the
purge removed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Engine, Integer, LargeBinary, String, bindparam, select

from auditor.db.engine import dialect_insert
from auditor.db.models import PageAudit, ReportPiece, Run

_PIECES = ReportPiece.__table__
_IDS_PER_SELECT = 500  # audit ids in one select's IN list


def read(engine: Engine, audit_ids: Sequence[int]) -> Iterator[tuple[int, str, bytes]]:
    """``(audit id, key, body)`` of the stored pieces of ``audit_ids`` whose run is not
    purged."""
    with engine.connect() as conn:
        for start in range(0, len(audit_ids), _IDS_PER_SELECT):
            chunk = audit_ids[start : start + _IDS_PER_SELECT]
            rows = conn.execute(
                select(ReportPiece.audit_id, ReportPiece.key, ReportPiece.body)
                .join(PageAudit, PageAudit.id == ReportPiece.audit_id)
                .join(Run, Run.id == PageAudit.run_id)
                .where(ReportPiece.audit_id.in_(chunk), Run.purged_at.is_(None))
            )
            yield from ((audit_id, key, bytes(body)) for audit_id, key, body in rows)


def save(engine: Engine, pieces: Iterable[tuple[int, str, bytes]]) -> None:
    """Keep each ``(audit id, key, body)`` whose audit's run is not purged, replacing the
    audit's older piece: one transaction for the lot. On PostgreSQL the audits' runs are
    share-locked first, in id order as :func:`auditor.db.store.purge` locks them: a purge
    committing meanwhile either waits for this save (then deletes what it kept) or has
    set ``purged_at``, which the insert's guard sees (SQLite runs one writer at a time)."""
    rows = [{"a": a, "k": k, "b": b} for a, k, b in pieces]
    if not rows:
        return
    with engine.begin() as conn:
        ids = sorted({row["a"] for row in rows})
        for start in range(0, len(ids), _IDS_PER_SELECT):
            conn.execute(
                select(Run.id)
                .join(PageAudit, PageAudit.run_id == Run.id)
                .where(PageAudit.id.in_(ids[start : start + _IDS_PER_SELECT]))
                .order_by(Run.id)
                .with_for_update(read=True, of=Run)
            ).all()
        insert = dialect_insert(conn.dialect)
        guarded = (
            select(
                bindparam("a", type_=Integer),
                bindparam("k", type_=String),
                bindparam("b", type_=LargeBinary),
            )
            .select_from(PageAudit)
            .join(Run, Run.id == PageAudit.run_id)
            .where(PageAudit.id == bindparam("a", type_=Integer), Run.purged_at.is_(None))
        )
        statement = insert(_PIECES).from_select(["audit_id", "key", "body"], guarded)
        statement = statement.on_conflict_do_update(
            index_elements=[_PIECES.c.audit_id],
            set_={"key": statement.excluded.key, "body": statement.excluded.body},
        )
        conn.execute(statement, rows)
