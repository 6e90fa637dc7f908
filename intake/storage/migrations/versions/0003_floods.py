"""Floods and times: spent work kept by keyed digest and day, bytes stored per day, uploads expired by sweeps.

Drops what held finer times than the day: spent challenges with their expiry to the second, the
per-minute report counters, and `cases.upload_expires` (docs/web.md, "Floods"; issue 10 point 4).
On SQLite, rebuilds `attachments`, `parts` and `case_keys` WITHOUT ROWID: their hidden rowids
counted up in arrival order.

Revision ID: 0003_floods
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_floods"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace the guard tables; swap the upload expiry time for a count of idle sweeps."""
    op.drop_table("report_budget")
    op.drop_index("ix_spent_challenges_expires", "spent_challenges")
    op.drop_table("spent_challenges")
    op.create_table(
        "spent_work",
        sa.Column("digest", sa.LargeBinary(16), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "stored_bytes",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("path", sa.String(10), primary_key=True),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "upkeep",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("period", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO upkeep (name, period) VALUES ('sweep', 2)")
    # Plain ALTER TABLE (SQLite 3.35 and later, PostgreSQL): a batch copy would drop and recreate
    # `cases`, and with foreign keys on, dropping it deletes every attachment and note by cascade.
    op.execute("ALTER TABLE cases DROP COLUMN upload_expires")
    op.execute("ALTER TABLE cases ADD COLUMN idle INTEGER NOT NULL DEFAULT 0")
    if op.get_bind().dialect.name == "sqlite":
        _without_rowid()


def _without_rowid() -> None:
    """Rebuild the case side tables keyed by their primary keys alone (SQLite).

    The old tables are renamed first, so that new tables take their names and references; then
    dropped children first, so that no ON DELETE CASCADE reaches a new table.
    """
    op.drop_index("ix_case_keys_key_id", "case_keys")
    for name in ("parts", "attachments", "case_keys"):
        op.rename_table(name, f"{name}_old")
    op.create_table(
        "attachments",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("length", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "parts",
        sa.Column("case_id", sa.Integer, primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["case_id", "idx"], ["attachments.case_id", "attachments.idx"], ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "case_keys",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key_id", sa.String(32), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_case_keys_key_id", "case_keys", ["key_id"])
    for name in ("attachments", "parts", "case_keys"):
        op.execute(f"INSERT INTO {name} SELECT * FROM {name}_old")  # noqa: S608 - our table names
    for name in ("parts", "attachments", "case_keys"):
        op.drop_table(f"{name}_old")


def downgrade() -> None:
    """Bring back the earlier guard tables and the upload expiry column (empty)."""
    op.execute("ALTER TABLE cases DROP COLUMN idle")
    op.execute("ALTER TABLE cases ADD COLUMN upload_expires TIMESTAMP")
    op.drop_table("upkeep")
    op.drop_table("stored_bytes")
    op.drop_table("spent_work")
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
