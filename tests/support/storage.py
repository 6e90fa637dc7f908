"""Test-only ways to put cases in storage directly: whole at once, half-uploaded, rewrapped, triaged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, insert, update

from intake.crypto.report import SealedReport
from intake.crypto.stream import PART
from intake.storage.admission import Limits
from intake.storage.cases import STATUSES, StorageError, part_count, replace_headers
from intake.storage.db import writing
from intake.storage.followups import admit_follow_up, deliver
from intake.storage.lifecycle import check_part, insert_case, put_part, upload_case
from intake.storage.schema import cases, parts
from intake.storage.threads import thread


def store_case(engine: Engine, header: bytes, body: bytes, sealed_by: str, key_ids: Sequence[str],
               streams: Sequence[tuple[int, Iterable[bytes]]]) -> str:
    """Store a whole case in one transaction, streams given as (length, parts of 1 MiB); return its ref.

    The parts must be at hand: a slow upload goes through begin_case, put_part and complete_case
    instead, so that no transaction stays open while a reporter's connection trickles.
    """
    with writing(engine) as conn:
        case_id, ref, _ = insert_case(conn, header, body, sealed_by, key_ids, [n for n, _ in streams], complete=True)
        for idx, (length, chunks) in enumerate(streams):
            count = 0
            for number, data in enumerate(chunks):
                check_part(length, number, data)
                conn.execute(insert(parts).values(case_id=case_id, idx=idx, part=number, data=data))
                count += 1
            if count != part_count(length):
                raise StorageError(f"attachment {idx} needs {part_count(length)} parts, not {count}")
    return ref


def begin_case(engine: Engine, header: bytes, body: bytes, sealed_by: str, key_ids: Sequence[str],
               lengths: Sequence[int]) -> tuple[int, str, str | None]:
    """Store an incomplete case, invisible until `complete_case`; return its id, ref and upload token."""
    with writing(engine) as conn:
        return insert_case(conn, header, body, sealed_by, key_ids, lengths, complete=False)


def replace_header(engine: Engine, case_id: int, old: bytes, new: bytes, key_ids: Sequence[str]) -> bool:
    """Atomically swap a case's header (rewrap) if it is still `old`; return whether it was swapped."""
    return replace_headers(engine, [(case_id, old, new)], key_ids) == 1


def set_status(engine: Engine, ref: str, status: str) -> None:
    """Set a complete case's triage status."""
    if status not in STATUSES:
        raise StorageError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    with writing(engine) as conn:
        done = conn.execute(update(cases).where(cases.c.ref == ref.strip().upper(), cases.c.complete.is_(True))
                            .values(status=status))
        if done.rowcount != 1:
            raise StorageError(f"no case {ref}")


def store_follow_up(engine: Engine, case_id: int, sealed: SealedReport) -> int:
    """Store a sealed follow-up as the upload path does (admit, every part into its carrier, deliver); its place."""
    lengths = [len(s) for s in sealed.streams]
    token = admit_follow_up(engine, case_id, sealed.header, sealed.body, lengths, "browser",
                            Limits(1 << 40, 1 << 40))
    if token is None:
        return thread(engine, case_id)[-1].seq
    carrier = upload_case(engine, token)
    for idx, stream in enumerate(sealed.streams):
        for number in range(part_count(len(stream))):
            put_part(engine, carrier, idx, number, stream[number * PART:(number + 1) * PART])
    return deliver(engine, carrier)


def migrate_to(engine: Engine, revision: str, down: bool = False) -> None:
    """Upgrade (or downgrade) the database to an Alembic revision."""
    from alembic import command
    from alembic.config import Config

    from intake.storage.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
