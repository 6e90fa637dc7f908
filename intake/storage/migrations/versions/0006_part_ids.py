"""Parts get a random id as their key; on SQLite, messages are WITHOUT ROWID.

`parts` was WITHOUT ROWID (0003_floods) so that its rows kept no order of arrival, but SQLite stores
1 MiB rows in such a table at about 0.6 times the speed of a rowid table. A rowid table keyed by a
random `pid` keeps no order either. Existing parts get random ids here, in one pass that copies them
(on SQLite the table is rebuilt: it takes as long as copying the database's attachments once). On PostgreSQL the
ids come from `secrets`: its random() is xoroshiro128**, whose values in a row predict each other, so ids it gave
in the table's physical order would keep the order the parts arrived in (red team rt-streams).
`messages` had a hidden rowid that counted up in arrival order across cases (SQLite).

Revision ID: 0006_part_ids
Revises: 0005_threads
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006_part_ids"
down_revision = "0005_threads"
branch_labels = None
depends_on = None

RANDOM_ID = "(random() & 4611686018427387903) + 1"  # SQLite's random(): a stream cipher the OS seeds
MESSAGE_COLUMNS = "case_id, seq, sender, day, header, body, unread"


def _parts(keyed_by_pid: bool) -> None:
    """Create `parts`, keyed by a random id or (as before) by stream and number."""
    if keyed_by_pid:
        columns = [sa.Column("pid", sa.Integer, primary_key=True, autoincrement=False),
                   sa.Column("case_id", sa.Integer, nullable=False), sa.Column("idx", sa.Integer, nullable=False),
                   sa.Column("part", sa.Integer, nullable=False),
                   sa.UniqueConstraint("case_id", "idx", "part", name="uq_parts_stream_part")]
    else:
        columns = [sa.Column("case_id", sa.Integer, primary_key=True), sa.Column("idx", sa.Integer, primary_key=True),
                   sa.Column("part", sa.Integer, primary_key=True)]
    op.create_table(
        "parts", *columns,
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["case_id", "idx"], ["attachments.case_id", "attachments.idx"], ondelete="CASCADE"),
        sqlite_with_rowid=keyed_by_pid,
    )


def _messages(with_rowid: bool) -> None:
    op.create_table(
        "messages",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sender", sa.String(10), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("header", sa.LargeBinary, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("unread", sa.Boolean, nullable=False),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild_sqlite(upgrading: bool) -> None:
    """Rename the old tables away, create the new ones, copy every row in, drop the old ones."""
    op.rename_table("parts", "parts_old")
    op.rename_table("messages", "messages_old")
    _parts(keyed_by_pid=upgrading)
    _messages(with_rowid=not upgrading)
    if upgrading:
        op.execute(f"INSERT INTO parts (pid, case_id, idx, part, data) SELECT {RANDOM_ID}, "  # noqa: S608
                   "case_id, idx, part, data FROM parts_old")
    else:
        op.execute("INSERT INTO parts (case_id, idx, part, data) SELECT case_id, idx, part, data FROM parts_old")
    op.execute(f"INSERT INTO messages ({MESSAGE_COLUMNS}) SELECT {MESSAGE_COLUMNS} FROM messages_old")  # noqa: S608
    op.drop_table("parts_old")
    op.drop_table("messages_old")


def upgrade() -> None:
    """Key parts by a random id; on SQLite, rebuild messages WITHOUT ROWID."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(upgrading=True)
        return
    op.execute("ALTER TABLE parts ADD COLUMN pid BIGINT")
    bind = op.get_bind()
    keys = bind.execute(sa.text("SELECT case_id, idx, part FROM parts")).all()
    if keys:
        bind.execute(sa.text("UPDATE parts SET pid = :pid WHERE case_id = :c AND idx = :i AND part = :p"),
                     [{"c": c, "i": i, "p": p, "pid": secrets.randbits(62) + 1} for c, i, p in keys])
    op.execute("ALTER TABLE parts ALTER COLUMN pid SET NOT NULL")
    op.execute("ALTER TABLE parts DROP CONSTRAINT parts_pkey")
    op.execute("ALTER TABLE parts ADD CONSTRAINT parts_pkey PRIMARY KEY (pid)")
    op.execute("ALTER TABLE parts ADD CONSTRAINT uq_parts_stream_part UNIQUE (case_id, idx, part)")


def downgrade() -> None:
    """Key parts by stream and number again (dropping their ids); messages get back their rowid (SQLite)."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(upgrading=False)
        return
    op.execute("ALTER TABLE parts DROP CONSTRAINT uq_parts_stream_part")
    op.execute("ALTER TABLE parts DROP CONSTRAINT parts_pkey")
    op.execute("ALTER TABLE parts DROP COLUMN pid")
    op.execute("ALTER TABLE parts ADD CONSTRAINT parts_pkey PRIMARY KEY (case_id, idx, part)")
