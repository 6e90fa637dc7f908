"""Where the parts of an arriving case's streams are stored, and checking that they are all there.

A report's stream keeps its parts in `parts`, keyed by case and stream number. A carrier's stream (a
follow-up's file: storage/followups.py) gets a random stream id when it is registered, and its parts go
into `message_parts` under that id from the first one: where they stay once the follow-up is delivered,
so delivery moves no bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Engine, ScalarSelect, Select, Table, func, select, update

from intake.crypto.stream import plain_size
from intake.storage.cases import CARRIER, StorageError, part_count
from intake.storage.schema import attachments, message_parts, parts, random_stream_id


def new_stream(sealed_by: str) -> int | None:
    """A carrier's stream gets a random id, under which its parts are stored where they stay (storage/followups.py)."""
    return random_stream_id() if sealed_by == CARRIER else None


def stored_parts(case_id: int, idx: int, stream: int | None) -> tuple[Table, list[ColumnElement[bool]]]:
    """Where a stream's parts are: `message_parts` under its stream id (a follow-up's), else `parts`."""
    if stream is not None:
        return message_parts, [message_parts.c.stream == stream]
    return parts, [parts.c.case_id == case_id, parts.c.idx == idx]


def carried_streams(case_ids: Select[tuple[int]] | ScalarSelect[int] | Sequence[int]) -> Select[tuple[int]]:
    """The stream ids of the carriers among `case_ids` (a subquery or list), whose parts are in `message_parts`."""
    return select(attachments.c.stream).where(attachments.c.case_id.in_(case_ids), attachments.c.stream.is_not(None))


def missing_parts(engine: Engine, case_id: int) -> dict[int, list[int]]:
    """For each attachment of a case, the part numbers not stored yet."""
    missing = {}
    with engine.connect() as conn:
        for idx, length, stream in conn.execute(select(attachments.c.idx, attachments.c.length, attachments.c.stream)
                                                .where(attachments.c.case_id == case_id).order_by(attachments.c.idx)):
            table, key = stored_parts(case_id, idx, stream)
            have = set(conn.execute(select(table.c.part).where(*key)).scalars())
            missing[idx] = [p for p in range(part_count(length)) if p not in have]
    return missing


def check_whole(conn: Connection, case_id: int) -> None:
    """Refuse, in `conn`'s transaction, a case whose streams are not all stored whole."""
    for idx, length, stream in conn.execute(select(attachments.c.idx, attachments.c.length, attachments.c.stream)
                                            .where(attachments.c.case_id == case_id)).all():
        table, key = stored_parts(case_id, idx, stream)
        stored = conn.execute(select(func.count(), func.coalesce(func.sum(func.length(table.c.data)), 0))
                              .where(*key)).one()
        if tuple(stored) != (part_count(length), length):
            raise StorageError(f"the upload is not complete: stream {idx} is not stored whole; "
                               "send the missing parts first")


def set_streams(conn: Connection, case_id: int, lengths: Sequence[int]) -> None:
    """Give an arriving case's registered streams their final lengths, refusing any other number of streams."""
    for idx, length in enumerate(lengths):
        if plain_size(length) is None:
            raise StorageError(f"stream {idx} of {length} sealed bytes is not a valid stream")
        conn.execute(update(attachments).where(attachments.c.case_id == case_id, attachments.c.idx == idx)
                     .values(length=length))
    registered = conn.execute(select(func.count()).select_from(attachments)
                              .where(attachments.c.case_id == case_id)).scalar_one()
    if registered != len(lengths):
        raise StorageError("the case holds another number of streams than its manifest")
