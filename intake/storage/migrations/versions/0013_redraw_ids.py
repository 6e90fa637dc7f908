"""Ids that PostgreSQL's random() gave parts and follow-ups' streams are drawn again from `secrets`.

Before their fix (red team rt-streams, a11a83f and 37e744d), migrations 0006 and 0012 gave the parts and streams
already stored on PostgreSQL `floor(random() * 2^62) + 1` in the table's physical order. PostgreSQL's random() is
xoroshiro128**: two such ids in a row predict the next, so the ids keep the order reports and follow-ups arrived in.
Each such id is 1 mod 1024 (random() gives 52 bits), which marks it: every `parts.pid`, `message_parts.pid` and
stream id that is gets a new random id, which never is (the app draws one so 1 time in 1024: redrawn too,
harmlessly). A stream id names one stream in `attachments`, `message_attachments` and `message_parts` together: it
gets one new id in all three, so delivered files still read and uploads under way resume. Nothing else holds a pid
or a stream id (no foreign key names one; anchors hash headers; a backup keeps a stream's parts by its id).
Cost on PostgreSQL: an UPDATE writes each row it changes anew, but a part's 1 MiB `data` is TOASTed and the new row
points to the same TOAST value, so each redrawn part costs a small row and its index entries, not its bytes; the old
ids stay in dead rows until VACUUM reclaims them (docs/deploy.md, "Upgrades"). The ids are held in memory (~100 bytes
each). SQLite's random() is a stream cipher the OS seeds (0006 used it on SQLite), so a SQLite instance holds such ids
only if restored from a PostgreSQL backup: they are redrawn there too (each redrawn part's bytes are copied once, as
0006 did), and otherwise only the 1 in 1024 of its own. Downgrading has nothing to undo: the new ids are as good under
0012.

Revision ID: 0013_redraw_ids
Revises: 0012_message_streams
"""

import sqlalchemy as sa
from alembic import op

from intake.storage.schema import random_stream_id

revision = "0013_redraw_ids"
down_revision = "0012_message_streams"
branch_labels = None
depends_on = None

BATCH = 10_000  # new ids written per statement
MARKED = "({0} - 1) % 1024 = 0"  # an id of random()'s 52 bits, shifted


def _fresh() -> int:
    """A new random id that is not 1 mod 1024, so that what this migration left is told from what random() made."""
    while (new := random_stream_id()) % 1024 == 1:
        pass
    return new


def _redraw(column: str, tables: tuple[str, ...]) -> None:
    """Give every marked value of `column` in `tables` a new id, the same one in each table that holds it."""
    bind = op.get_bind()
    found = " UNION ".join(f"SELECT {column} FROM {t} WHERE {MARKED.format(column)}" for t in tables)  # noqa: S608
    old = bind.execute(sa.text(found)).scalars().all()
    if not old:
        return
    op.execute("CREATE TEMPORARY TABLE redrawn (old BIGINT PRIMARY KEY, new BIGINT NOT NULL UNIQUE)")
    for start in range(0, len(old), BATCH):
        bind.execute(sa.text("INSERT INTO redrawn (old, new) VALUES (:old, :new)"),
                     [{"old": value, "new": _fresh()} for value in old[start:start + BATCH]])
    for table in tables:
        op.execute(f"UPDATE {table} AS t SET {column} = r.new FROM redrawn r WHERE t.{column} = r.old")  # noqa: S608
    op.execute("DROP TABLE redrawn")


def upgrade() -> None:
    """Redraw the part ids and stream ids that PostgreSQL's random() made."""
    _redraw("pid", ("parts",))
    _redraw("pid", ("message_parts",))
    _redraw("stream", ("attachments", "message_attachments", "message_parts"))


def downgrade() -> None:
    """Nothing to undo: the redrawn ids are as good under 0012."""
