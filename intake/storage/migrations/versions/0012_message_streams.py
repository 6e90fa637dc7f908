"""A follow-up's files are stored where they stay: each stream gets a random id, and `message_parts` is keyed by it.

A carrier's stream names its id in `attachments.stream` while it uploads; a delivered message's in
`message_attachments.stream`. Delivery then writes those small rows and moves no part (storage/followups.py).
Existing message streams get random ids and their parts are keyed by them (on SQLite the table is rebuilt: it
takes as long as copying the follow-ups' files once); the parts of carriers still uploading move into
`message_parts` under their new stream ids, so their uploads resume. The ids come from `secrets`, as the app's
do, never from the database's random(): PostgreSQL's is xoroshiro128**, whose values in a row predict each other,
so ids it gave in a table's physical order would keep the order the follow-ups arrived in (red team rt-streams).
Downgrading drops the follow-ups still uploading, as 0007's downgrade does.

Revision ID: 0012_message_streams
Revises: 0011_carried_tombstones
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0012_message_streams"
down_revision = "0011_carried_tombstones"
branch_labels = None
depends_on = None

PID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
SAME_STREAM = "p.case_id = a.case_id AND p.seq = a.seq AND p.idx = a.idx"


def _message_attachments(with_stream: bool) -> None:
    op.create_table(
        "message_attachments",
        sa.Column("case_id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        *([sa.Column("stream", sa.BigInteger, nullable=False)] if with_stream else []),
        sa.ForeignKeyConstraint(["case_id", "seq"], ["messages.case_id", "messages.seq"], ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )


def _message_parts(by_stream: bool) -> None:
    if by_stream:
        key = [sa.Column("stream", sa.BigInteger, nullable=False)]
        rules = [sa.UniqueConstraint("stream", "part", name="uq_message_parts_stream_part")]
    else:
        key = [sa.Column(name, sa.Integer, nullable=False) for name in ("case_id", "seq", "idx")]
        rules = [sa.ForeignKeyConstraint(["case_id", "seq", "idx"], ["message_attachments.case_id",
                                                                     "message_attachments.seq",
                                                                     "message_attachments.idx"], ondelete="CASCADE"),
                 sa.UniqueConstraint("case_id", "seq", "idx", "part", name="uq_message_parts_stream_part")]
    op.create_table(
        "message_parts",
        sa.Column("pid", PID, primary_key=True, autoincrement=False),
        *key,
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        *rules,
    )


def _random_streams(table: str, key: tuple[str, ...], where: str = "") -> None:
    """Give each row of `table` (found by its `key` columns, `where` it matches) a random stream id from `secrets`."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT {', '.join(key)} FROM {table} {where}")).all()  # noqa: S608 - constants
    if rows:
        same = " AND ".join(f"{column} = :{column}" for column in key)
        bind.execute(sa.text(f"UPDATE {table} SET stream = :stream WHERE {same}"),  # noqa: S608 - constants
                     [{**dict(zip(key, row, strict=True)), "stream": secrets.randbits(62) + 1} for row in rows])


def _carriers_in() -> None:
    """Give the streams of carriers still uploading random ids and move their parts into message_parts."""
    _random_streams("attachments", ("case_id", "idx"),
                    "WHERE case_id IN (SELECT id FROM cases WHERE sealed_by = 'message')")
    op.execute("INSERT INTO message_parts (pid, stream, part, data) SELECT p.pid, a.stream, p.part, p.data "
               "FROM parts p JOIN attachments a ON p.case_id = a.case_id AND p.idx = a.idx "
               "WHERE a.stream IS NOT NULL")
    op.execute("DELETE FROM parts WHERE case_id IN (SELECT case_id FROM attachments WHERE stream IS NOT NULL)")


def upgrade() -> None:
    """Key message streams' parts by a random stream id; carriers' streams get theirs."""
    dialect = op.get_bind().dialect.name
    op.execute("ALTER TABLE attachments ADD COLUMN stream BIGINT")
    if dialect == "sqlite":
        op.rename_table("message_parts", "message_parts_old")
        op.rename_table("message_attachments", "message_attachments_old")
        _message_attachments(with_stream=True)
        op.execute("INSERT INTO message_attachments (case_id, seq, idx, length, stream) "
                   "SELECT case_id, seq, idx, length, 0 FROM message_attachments_old")
        _random_streams("message_attachments", ("case_id", "seq", "idx"))
        _message_parts(by_stream=True)
        op.execute(f"INSERT INTO message_parts (pid, stream, part, data) SELECT p.pid, a.stream, p.part, "  # noqa: S608
                   f"p.data FROM message_parts_old p JOIN message_attachments a ON {SAME_STREAM}")
        op.drop_table("message_parts_old")
        op.drop_table("message_attachments_old")
    else:
        op.execute("ALTER TABLE message_attachments ADD COLUMN stream BIGINT")
        _random_streams("message_attachments", ("case_id", "seq", "idx"))
        op.execute("ALTER TABLE message_attachments ALTER COLUMN stream SET NOT NULL")
        op.execute("ALTER TABLE message_parts ADD COLUMN stream BIGINT")
        op.execute(f"UPDATE message_parts p SET stream = a.stream FROM message_attachments a "  # noqa: S608
                   f"WHERE {SAME_STREAM}")
        for column in ("case_id", "seq", "idx"):  # their foreign key and unique constraint go with them
            op.execute(f"ALTER TABLE message_parts DROP COLUMN {column}")
        op.execute("ALTER TABLE message_parts ALTER COLUMN stream SET NOT NULL")
        op.execute("ALTER TABLE message_parts ADD CONSTRAINT uq_message_parts_stream_part UNIQUE (stream, part)")
    op.create_index("ix_message_attachments_stream", "message_attachments", ["stream"], unique=True)
    _carriers_in()


def downgrade() -> None:
    """Key message parts by their message again; the follow-ups still uploading are dropped."""
    op.execute("DELETE FROM message_parts WHERE stream IN (SELECT stream FROM attachments WHERE stream IS NOT NULL)")
    op.execute("DELETE FROM cases WHERE sealed_by = 'message'")
    op.drop_index("ix_message_attachments_stream", table_name="message_attachments")
    op.rename_table("message_parts", "message_parts_new")
    op.rename_table("message_attachments", "message_attachments_new")
    if op.get_bind().dialect.name == "postgresql":  # its index names stay with the renamed tables
        op.execute("ALTER INDEX message_attachments_pkey RENAME TO message_attachments_new_pkey")
        op.execute("ALTER INDEX message_parts_pkey RENAME TO message_parts_new_pkey")
        op.execute("ALTER TABLE message_parts_new RENAME CONSTRAINT uq_message_parts_stream_part TO uq_new")
    _message_attachments(with_stream=False)
    op.execute("INSERT INTO message_attachments (case_id, seq, idx, length) "
               "SELECT case_id, seq, idx, length FROM message_attachments_new")
    _message_parts(by_stream=False)
    op.execute("INSERT INTO message_parts (pid, case_id, seq, idx, part, data) "
               "SELECT p.pid, a.case_id, a.seq, a.idx, p.part, p.data "
               "FROM message_parts_new p JOIN message_attachments_new a ON p.stream = a.stream")
    op.drop_table("message_parts_new")
    op.drop_table("message_attachments_new")
    op.execute("ALTER TABLE attachments DROP COLUMN stream")
