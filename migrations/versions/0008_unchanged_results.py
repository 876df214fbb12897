"""unchanged results: a page audit whose results equal its previous audit's points at them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("page_audits") as batch:
        batch.add_column(sa.Column("results_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("same_as", sa.Integer(), nullable=True))
        batch.create_index("ix_page_audits_same_as", ["same_as"], unique=False)
        # Redundant: the (run_id, page_id) unique index serves lookups by run.
        batch.drop_index("ix_page_audits_run_id")


def downgrade() -> None:
    """Revert this revision: copy shared results back to each audit, then drop the columns."""
    op.execute(  # shared platform, URL and source back on each audit
        "UPDATE page_audits SET "
        "platform = (SELECT h.platform FROM page_audits h WHERE h.id = page_audits.same_as), "
        "url = (SELECT h.url FROM page_audits h WHERE h.id = page_audits.same_as), "
        "source = (SELECT h.source FROM page_audits h WHERE h.id = page_audits.same_as) "
        "WHERE same_as IS NOT NULL"
    )
    op.execute(
        "INSERT INTO results (page_audit_id, rule_id, status, severity, message, evidence) "
        "SELECT a.id, r.rule_id, r.status, r.severity, r.message, r.evidence "
        "FROM page_audits a JOIN results r ON r.page_audit_id = a.same_as "
        "WHERE a.same_as IS NOT NULL ORDER BY a.id, r.id"
    )
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of page_audits would
    # drop the table, and with foreign keys on SQLite would delete every result with it.
    op.create_index("ix_page_audits_run_id", "page_audits", ["run_id"], unique=False)
    op.drop_index("ix_page_audits_same_as", table_name="page_audits")
    op.drop_column("page_audits", "same_as")
    op.drop_column("page_audits", "results_hash")
