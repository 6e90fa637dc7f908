"""The first schema: cases, attachments and their parts, case keys, notes, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the first version."""
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String(20), nullable=False, unique=True),
        sa.Column("received", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sealed_by", sa.String(10), nullable=False),
        sa.Column("header", sa.LargeBinary, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("upload_token", sa.String(64), unique=True),
        sa.Column("upload_expires", sa.DateTime),
    )
    op.create_index("ix_cases_complete", "cases", ["complete"])
    op.create_table(
        "attachments",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("length", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "parts",
        sa.Column("case_id", sa.Integer, primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["case_id", "idx"], ["attachments.case_id", "attachments.idx"], ondelete="CASCADE"),
    )
    op.create_table(
        "case_keys",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key_id", sa.String(32), primary_key=True),
    )
    op.create_index("ix_case_keys_key_id", "case_keys", ["key_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created", sa.Date, nullable=False),
        sa.Column("header", sa.LargeBinary, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_notes_case_id", "notes", ["case_id"])
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128)),
    )


def downgrade() -> None:
    """Drop every table of the first version."""
    for table in ("audit", "notes", "case_keys", "parts", "attachments", "cases"):
        op.drop_table(table)
