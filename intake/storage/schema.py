"""The tables; their history lives in the Alembic migrations beside this module."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

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
    Column("upload_expires", DateTime),
)

attachments = Table(
    "attachments", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("length", BigInteger, nullable=False),
)

parts = Table(
    "parts", metadata,
    Column("case_id", Integer, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(["case_id", "idx"], ["attachments.case_id", "attachments.idx"], ondelete="CASCADE"),
)

case_keys = Table(
    "case_keys", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("key_id", String(32), primary_key=True, index=True),
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

spent_challenges = Table(
    "spent_challenges", metadata,
    Column("challenge", String(64), primary_key=True),
    Column("expires", DateTime, nullable=False, index=True),
)

report_budget = Table(
    "report_budget", metadata,
    Column("minute", BigInteger, primary_key=True, autoincrement=False),
    Column("used", Integer, nullable=False),
)

keyring_state = Table(
    "keyring_state", metadata,
    Column("signer", String(80), primary_key=True),
    Column("serial", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)
