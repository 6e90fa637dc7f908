"""The tables; their history lives in the Alembic migrations beside this module.

No table keeps a time finer than the day, nor an order of arrival: case ids and part ids are random,
and on SQLite the other tables without an integer key are WITHOUT ROWID (docs/web.md, "Floods").
"""

import secrets

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
PART_ID_BITS = 62


def random_part_id() -> int:
    """A random part id: SQLite stores rows in key order, so counted keys would keep the order of arrival."""
    return secrets.randbits(PART_ID_BITS) + 1


def random_stream_id() -> int:
    """A random id for a follow-up's file: its parts are stored under it from the first one (storage/followups.py)."""
    return secrets.randbits(PART_ID_BITS) + 1

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("ref", String(20), nullable=False, unique=True),
    Column("received", Date, nullable=False),
    Column("status", String(20), nullable=False, default="new"),
    Column("sealed_by", String(10), nullable=False),
    Column("header", LargeBinary, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("complete", Boolean, nullable=False, default=False, index=True),
    Column("upload_token", String(64), unique=True),
    Column("idle", Integer, nullable=False, default=0),
    # listings walk complete cases by day, then by random id, without sorting them all (migration 0008)
    Index("ix_cases_listing", "complete", "received", "id"),
)

attachments = Table(
    "attachments", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("length", BigInteger, nullable=False),
    # a carrier's stream (a follow-up's file on its way in): its parts go into message_parts under this id, where
    # they stay once the follow-up is delivered (migration 0012); None for a report's stream, whose parts are `parts`
    Column("stream", BigInteger),
    sqlite_with_rowid=False,
)

# A rowid table keyed by a random id (INTEGER PRIMARY KEY on SQLite): WITHOUT ROWID would keep the
# order away too, but stores 1 MiB rows at about 0.6 times the speed (docs/performance.md).
parts = Table(
    "parts", metadata,
    Column("pid", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False,
           default=random_part_id),
    Column("case_id", Integer, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("part", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(["case_id", "idx"], ["attachments.case_id", "attachments.idx"], ondelete="CASCADE"),
    UniqueConstraint("case_id", "idx", "part", name="uq_parts_stream_part"),
)

case_keys = Table(
    "case_keys", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("key_id", String(32), primary_key=True, index=True),
    sqlite_with_rowid=False,
)

notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created", Date, nullable=False),
    Column("header", LargeBinary, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("action", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(128)),
)

spent_work = Table(
    "spent_work", metadata,
    Column("digest", LargeBinary(16), primary_key=True),
    Column("day", Date, nullable=False),
    sqlite_with_rowid=False,
)

stored_bytes = Table(
    "stored_bytes", metadata,
    Column("day", Date, primary_key=True),
    Column("path", String(10), primary_key=True),
    Column("bytes", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

upkeep = Table(
    "upkeep", metadata,
    Column("name", String(20), primary_key=True),
    Column("period", BigInteger, nullable=False),
)

keyring_state = Table(
    "keyring_state", metadata,
    Column("signer", String(80), primary_key=True),
    Column("serial", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

codename_salt = Table(
    "codename_salt", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("salt", LargeBinary, nullable=False),
)

case_lookups = Table(
    "case_lookups", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("lookup", LargeBinary, nullable=False, unique=True),
)

# A report carried in from the offline kit: its carried id (format.md §13.3), so that a file is stored once.
case_carried = Table(
    "case_carried", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("carried", LargeBinary, nullable=False, unique=True),
)

# The carried id of a purged carried report, and a fresh reference (not the case's) to answer a resend with: its file
# sent again is a replay, never a new case (format.md §13.3). No time and no case id; ordered by the carried id.
carried_tombstones = Table(
    "carried_tombstones", metadata,
    Column("carried", LargeBinary, primary_key=True),
    Column("ref", String(14), nullable=False),
    sqlite_with_rowid=False,
)

# Every keyring a signer put in use: its recipients' key ids and the day a newer one replaced it, so that a
# report sealed by an offline kit to an older keyring can be judged (format.md §13.3).
keyring_history = Table(
    "keyring_history", metadata,
    Column("signer", String(80), primary_key=True),
    Column("serial", BigInteger, primary_key=True, autoincrement=False),
    Column("key_ids", Text, nullable=False),
    Column("replaced", Date),
    sqlite_with_rowid=False,
)

messages = Table(
    "messages", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("sender", String(10), nullable=False),
    Column("day", Date, nullable=False),
    Column("header", LargeBinary, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("unread", Boolean, nullable=False),
    sqlite_with_rowid=False,
)

# A follow-up's files arrive in a carrier: an incomplete case (sealed_by "message") that is never shown,
# through the same upload path as a report's; `carriers` names the case whose thread it is for.
carriers = Table(
    "carriers", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("thread_case", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
)

message_attachments = Table(
    "message_attachments", metadata,
    Column("case_id", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("length", BigInteger, nullable=False),
    Column("stream", BigInteger, nullable=False),
    ForeignKeyConstraint(["case_id", "seq"], ["messages.case_id", "messages.seq"], ondelete="CASCADE"),
    Index("ix_message_attachments_stream", "stream", unique=True),
    sqlite_with_rowid=False,
)

# The parts of a follow-up's files, keyed by their stream's random id from the first part on (while the carrier
# uploads, attachments.stream names it; once delivered, message_attachments.stream): delivery moves no bytes.
# No foreign key, as two tables name a stream: whatever deletes a stream deletes its parts (retention, discard).
message_parts = Table(
    "message_parts", metadata,
    Column("pid", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False,
           default=random_part_id),
    Column("stream", BigInteger, nullable=False),
    Column("part", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    UniqueConstraint("stream", "part", name="uq_message_parts_stream_part"),
)

# `intake anchor` (docs/format.md §14): a day's Merkle root over its sealed cases and messages, with its leaves
# (sorted, padded with random ones) and its RFC 3161 timestamp; partial while the day runs (never timestamped then).
anchors = Table(
    "anchors", metadata,
    Column("day", Date, primary_key=True),
    Column("partial", Boolean, nullable=False),
    Column("leaves", LargeBinary, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("timestamp", LargeBinary),
    sqlite_with_rowid=False,
)

# Which day's anchor holds each case (seq 0) and message (its seq), and its header's hash as anchored, so a later
# `intake keys rewrap` of the header leaves the proof whole.
anchor_items = Table(
    "anchor_items", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("day", Date, nullable=False, index=True),
    Column("header_sha256", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)
