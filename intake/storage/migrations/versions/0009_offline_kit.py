"""Reports carried in from the offline kit: their carried ids (stored once), and every keyring put in use with
its key ids and the day it was replaced (format.md §13.3).

Revision ID: 0009_offline_kit
Revises: 0008_case_listing
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_offline_kit"
down_revision = "0008_case_listing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create case_carried and keyring_history."""
    op.create_table(
        "case_carried",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("carried", sa.LargeBinary, nullable=False, unique=True),
    )
    op.create_table(
        "keyring_history",
        sa.Column("signer", sa.String(80), primary_key=True),
        sa.Column("serial", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("key_ids", sa.Text, nullable=False),
        sa.Column("replaced", sa.Date),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("keyring_history")
    op.drop_table("case_carried")
