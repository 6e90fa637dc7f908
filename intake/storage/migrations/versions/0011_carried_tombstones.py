"""Tombstones of purged carried reports: the carried id (and a fresh reference to answer with), so that a purged
report's file sent again is answered as a replay instead of stored again (format.md §13.3).

Revision ID: 0011_carried_tombstones
Revises: 0010_anchors
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_carried_tombstones"
down_revision = "0010_anchors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create carried_tombstones: no time, no case id, ordered by the carried id (no rowid)."""
    op.create_table(
        "carried_tombstones",
        sa.Column("carried", sa.LargeBinary, primary_key=True),
        sa.Column("ref", sa.String(14), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("carried_tombstones")
