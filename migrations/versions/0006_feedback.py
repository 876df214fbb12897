"""people's word on post findings (dismissals, confirmations) and the judged-post cache

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "post_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "page_id", sa.String(200), sa.ForeignKey("pages.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("post_id", sa.String(500), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(320), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("author_role", sa.String(40), nullable=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.UniqueConstraint("page_id", "rule_id", "post_id"),
    )
    op.create_table(
        "judged_posts",
        sa.Column("text_hash", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_judged_posts_last_seen", "judged_posts", ["last_seen"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_judged_posts_last_seen", table_name="judged_posts")
    op.drop_table("judged_posts")
    op.drop_table("post_feedback")
