"""Flood guards shared by every server process: spent proof-of-work challenges, reports per minute.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two guard tables."""
    op.create_table(
        "spent_challenges",
        sa.Column("challenge", sa.String(64), primary_key=True),
        sa.Column("expires", sa.DateTime, nullable=False),
    )
    op.create_index("ix_spent_challenges_expires", "spent_challenges", ["expires"])
    op.create_table(
        "report_budget",
        sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("used", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    """Drop the two guard tables."""
    op.drop_table("report_budget")
    op.drop_table("spent_challenges")
