"""Cases still arriving: sealed on arrival by the server (parts first, header and body at the end), or
uploaded by a browser under an upload token.

The case stays incomplete, so invisible, until `finish_arrival` sets its header, body and stream
lengths and makes it visible in one transaction; a request that fails calls `cases.discard`, and
a crashed one expires like any abandoned upload (storage/budgets.py: idle sweeps).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, func, insert, select, update

from intake.crypto.stream import PART, plain_size
from intake.storage.cases import StorageError, new_id, new_ref, part_count, today
from intake.storage.db import writing
from intake.storage.schema import attachments, case_keys, cases, parts


def begin_arrival(engine: Engine, sealed_by: str = "server") -> int:
    """Store an empty, incomplete case to seal streams into; return its id."""
    with writing(engine) as conn:
        case_id = new_id(conn)
        conn.execute(insert(cases).values(
            id=case_id, ref=new_ref(), received=today(), status="new", sealed_by=sealed_by, header=b"", body=b"",
            complete=False, idle=0))
        return case_id


def add_stream(engine: Engine, case_id: int, idx: int) -> None:
    """Register attachment stream `idx` of an arriving case; its length is set when it ends."""
    with writing(engine) as conn:
        conn.execute(insert(attachments).values(case_id=case_id, idx=idx, length=0))


def append_parts(engine: Engine, case_id: int, idx: int, first: int, data: Sequence[bytes]) -> None:
    """Store sealed parts `first`, `first + 1`, ... of an arriving stream in one transaction.

    Every part but a stream's last is exactly 1 MiB. Several parts to a commit spare an fsync per
    part; the case stays incomplete, so invisible, until `finish_arrival` in any case.
    """
    if not all(0 < len(part) <= PART for part in data):
        raise StorageError(f"a part must hold 1 to {PART} bytes")
    with writing(engine) as conn:
        conn.execute(insert(parts), [{"case_id": case_id, "idx": idx, "part": first + n, "data": part}
                                     for n, part in enumerate(data)])
        conn.execute(update(cases).where(cases.c.id == case_id, cases.c.idle != 0).values(idle=0))


def finish_arrival(engine: Engine, case_id: int, header: bytes, body: bytes, key_ids: Sequence[str],
                   lengths: Sequence[int]) -> str:
    """Set header, body and stream lengths, check every part, and make the case visible; return its ref."""
    with writing(engine) as conn:
        for idx, length in enumerate(lengths):
            if plain_size(length) is None:
                raise StorageError(f"stream {idx} of {length} sealed bytes is not a valid stream")
            stored = conn.execute(select(func.count(), func.coalesce(func.sum(func.length(parts.c.data)), 0)).where(
                parts.c.case_id == case_id, parts.c.idx == idx)).one()
            if tuple(stored) != (part_count(length), length):
                raise StorageError(f"stream {idx} was not stored whole")
            conn.execute(update(attachments).where(attachments.c.case_id == case_id, attachments.c.idx == idx)
                         .values(length=length))
        registered = conn.execute(select(func.count()).select_from(attachments)
                                  .where(attachments.c.case_id == case_id)).scalar_one()
        if registered != len(lengths):
            raise StorageError("the case holds another number of streams than its manifest")
        if key_ids:
            conn.execute(insert(case_keys), [{"case_id": case_id, "key_id": k} for k in key_ids])
        done = conn.execute(update(cases).where(cases.c.id == case_id, cases.c.complete.is_(False)).values(
            header=header, body=body, complete=True, idle=0, received=today()))
        if done.rowcount != 1:
            raise StorageError("no arriving case with that id")
        return conn.execute(select(cases.c.ref).where(cases.c.id == case_id)).scalar_one()


def upload_case(engine: Engine, token: str) -> int | None:
    """The id of the incomplete case that `token` uploads to, or None."""
    with engine.connect() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.upload_token == token,
                                                     cases.c.complete.is_(False))).scalar()
