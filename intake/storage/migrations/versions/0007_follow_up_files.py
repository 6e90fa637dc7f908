"""Follow-ups carry files: carriers (the incomplete case a follow-up's files upload into) and the streams
of thread messages, keyed like parts by a random id.

Revision ID: 0007_follow_up_files
Revises: 0006_part_ids
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_follow_up_files"
down_revision = "0006_part_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create carriers, message_attachments and message_parts."""
    op.create_table(
        "carriers",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("thread_case", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_carriers_thread_case", "carriers", ["thread_case"])
    op.create_table(
        "message_attachments",
        sa.Column("case_id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(["case_id", "seq"], ["messages.case_id", "messages.seq"], ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "message_parts",
        sa.Column("pid", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["case_id", "seq", "idx"], ["message_attachments.case_id", "message_attachments.seq",
                                                            "message_attachments.idx"], ondelete="CASCADE"),
        sa.UniqueConstraint("case_id", "seq", "idx", "part", name="uq_message_parts_stream_part"),
    )


def downgrade() -> None:
    """Drop the message streams and the carriers, with every follow-up still uploading."""
    op.drop_table("message_parts")
    op.drop_table("message_attachments")
    op.drop_table("carriers")
    op.execute("DELETE FROM cases WHERE sealed_by = 'message'")
