"""Threads: the instance's codename salt, the lookup hash of a case's codename, sealed messages.

Revision ID: 0005_threads
Revises: 0004_keyring_state
"""

import os

import sqlalchemy as sa
from alembic import op

revision = "0005_threads"
down_revision = "0004_keyring_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the salt (made here, once), lookup and message tables."""
    salt = op.create_table(
        "codename_salt",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
    )
    op.bulk_insert(salt, [{"id": 1, "salt": os.urandom(16)}])
    op.create_table(
        "case_lookups",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("lookup", sa.LargeBinary, nullable=False, unique=True),
    )
    op.create_table(
        "messages",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sender", sa.String(10), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("header", sa.LargeBinary, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("unread", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    """Drop the thread tables (every thread and lookup with them)."""
    op.drop_table("messages")
    op.drop_table("case_lookups")
    op.drop_table("codename_salt")
