"""Anchors: each day's Merkle root over its sealed cases and messages, its leaves and timestamp (`intake anchor`).

Revision ID: 0010_anchors
Revises: 0009_offline_kit
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_anchors"
down_revision = "0009_offline_kit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the anchor tables (no time finer than the day: the day, the leaves, the root, the timestamp)."""
    op.create_table(
        "anchors",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("partial", sa.Boolean, nullable=False),
        sa.Column("leaves", sa.LargeBinary, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("timestamp", sa.LargeBinary),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "anchor_items",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("header_sha256", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_anchor_items_day", "anchor_items", ["day"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_anchor_items_day", table_name="anchor_items")
    op.drop_table("anchor_items")
    op.drop_table("anchors")
