"""The one lifecycle of a case on its way in: open, add parts, complete (or discard), for both ways in.

A browser-sealed report (web/api.py) opens its case with header, body and stream lengths known, under
an upload token, and sends its parts one by one. A report sealed by the server on arrival
(web/report.py, web/sealing.py) opens an empty case, adds each stream's parts as they are sealed,
and gives header, body and lengths when it completes. Either way the case stays incomplete, so
invisible, until `complete_case` checks every part in the transaction that makes it visible; a failed
request calls `discard`, and a crashed or abandoned one is removed by `expire_uploads` (idle sweeps,
storage/budgets.py: no expiry time is stored). Case ids are random, not in order of arrival.

Writes: every write here is one `writing(engine)` transaction (db.py). Opening a case to seal into and
storing parts do not wait for the disk (`durable=False`): nothing is promised until `complete_case`,
whose durable commit makes every part before it durable too (docs/web.md, "One durable point"); after
each batch of parts the kernel is asked to start writing them out (`checkpoints.write_behind`), so
that commit finds little left to flush.
Group commit (batches.py) applies only where many small transactions of concurrent requests must share one commit: the
admission of browser-sealed reports (admission.py), which runs `insert_case` inside it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from intake.clock import today
from intake.crypto.stream import PART, plain_size
from intake.storage import checkpoints
from intake.storage.budgets import Refused, age_uploads, charge_stored, part_room, spend_form
from intake.storage.cases import CARRIER, StorageError, new_ref, part_count
from intake.storage.db import writing
from intake.storage.layout import shuffle_file
from intake.storage.schema import (
    attachments,
    carried_tombstones,
    case_carried,
    case_keys,
    case_lookups,
    cases,
    message_parts,
    parts,
)
from intake.storage.streams import carried_streams, check_whole, new_stream, set_streams, stored_parts

ID_SPACE = (1 << 31) - 1


def new_id(conn: Connection) -> int:
    """A random case id not in use: ids in arrival order would keep the order of arrival (docs/web.md, "Floods")."""
    while True:
        case_id = secrets.randbelow(ID_SPACE) + 1
        if conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first() is None:
            return case_id


def insert_case(conn: Connection, header: bytes, body: bytes, sealed_by: str, key_ids: Sequence[str],
                lengths: Sequence[int], complete: bool, token: bool = True,
                lookup: bytes | None = None, carried: bytes | None = None) -> tuple[int, str, str | None]:
    """Open a case with its attachment and key rows in `conn`'s transaction; return its id, ref and upload token.
    A report carried in from the offline kit gives its `carried` id (Duplicate if a case has it already)."""
    if carried is not None:
        duplicate(conn, carried)
    for length in lengths:
        if plain_size(length) is None:
            raise StorageError(f"an attachment of {length} sealed bytes is not a valid stream")
    upload = None if complete or not token else secrets.token_hex(32)
    ref = new_ref()
    case_id = new_id(conn)
    conn.execute(insert(cases), {
        "id": case_id, "ref": ref, "received": today(), "status": "new", "sealed_by": sealed_by, "header": header,
        "body": body, "complete": complete, "upload_token": upload, "idle": 0})
    if lengths:
        conn.execute(insert(attachments), [{"case_id": case_id, "idx": i, "length": n, "stream": new_stream(sealed_by)}
                                           for i, n in enumerate(lengths)])
    if key_ids:
        conn.execute(insert(case_keys), [{"case_id": case_id, "key_id": k} for k in key_ids])
    if lookup is not None:
        set_lookup(conn, case_id, lookup)
    if carried is not None:
        try:
            with conn.begin_nested():
                conn.execute(insert(case_carried).values(case_id=case_id, carried=carried))
        except IntegrityError:  # PostgreSQL: the same file, stored at the same moment by another transaction
            raise Duplicate(None) from None
    return case_id, ref, upload


class Duplicate(StorageError):
    """A carried file that a case holds already: `ref` is that case's reference, or None while it still arrives."""

    def __init__(self, ref: str | None) -> None:
        super().__init__("this file arrived already" if ref else "this file is arriving already")
        self.ref = ref


def duplicate(conn: Connection, carried: bytes) -> None:
    """Raise Duplicate if a case (complete or arriving) holds this carried id, or held it and was purged: its
    tombstone answers as a stored file does (format.md §13.3)."""
    row = conn.execute(select(cases.c.ref, cases.c.complete).join(case_carried, case_carried.c.case_id == cases.c.id)
                       .where(case_carried.c.carried == carried)).first()
    if row is not None:
        raise Duplicate(row.ref if row.complete else None)
    gone = conn.execute(select(carried_tombstones.c.ref).where(carried_tombstones.c.carried == carried)).first()
    if gone is not None:
        raise Duplicate(gone.ref)


def set_lookup(conn: Connection, case_id: int, lookup: bytes) -> None:
    """Store a case's lookup hash in `conn`'s transaction, refusing one another case has (§12.3)."""
    if len(lookup) != 32:
        raise StorageError("a lookup is 32 bytes: send the hash the page derived from the codename")
    taken = conn.execute(select(case_lookups.c.case_id).where(case_lookups.c.lookup == lookup)).first()
    if taken is not None:
        raise StorageError("another report already uses this codename: make a new one and send again")
    conn.execute(insert(case_lookups).values(case_id=case_id, lookup=lookup))


def open_arrival(engine: Engine, sealed_by: str = "server", carried: bytes | None = None) -> int:
    """Open an empty, incomplete case to seal streams into (no upload token); return its id. A carried file
    claims its carried id here, so that the same file sent at once by others is refused before it is stored."""
    with writing(engine, durable=False) as conn:
        return insert_case(conn, b"", b"", sealed_by, (), (), complete=False, token=False, carried=carried)[0]


def add_stream(engine: Engine, case_id: int, idx: int) -> None:
    """Register attachment stream `idx` of an arriving case; its length is given when the case completes."""
    with writing(engine, durable=False) as conn:
        sealed_by = conn.execute(select(cases.c.sealed_by).where(cases.c.id == case_id)).scalar_one()
        conn.execute(insert(attachments).values(case_id=case_id, idx=idx, length=0, stream=new_stream(sealed_by)))


def append_parts(engine: Engine, case_id: int, idx: int, first: int, data: Sequence[bytes],
                 daily: int | None = None) -> None:
    """Store sealed parts `first`, `first + 1`, ... of an arriving stream in one transaction (fewer fsyncs);
    with `daily`, count them on the server path's budget of that many bytes a day in it (DaySpent if over)."""
    if not all(0 < len(part) <= PART for part in data):
        raise StorageError(f"a part must hold 1 to {PART} bytes")
    with writing(engine, durable=False) as conn:
        if daily is not None:
            charge_stored(conn, "server", sum(len(part) for part in data), daily)
        # PostgreSQL: the case's row is locked, as put_part does, so a discard under way (the sweep's) waits for this
        # batch or went first (then this finds no upload): never a part under a stream whose carrier is gone
        row = conn.execute(select(attachments.c.stream).join(cases, cases.c.id == attachments.c.case_id).where(
            attachments.c.case_id == case_id, attachments.c.idx == idx, cases.c.complete.is_(False))
            .with_for_update(of=cases)).first()
        if row is None:
            raise StorageError("no upload waits for that attachment")
        stream = row.stream
        conn.execute(insert(parts if stream is None else message_parts),
                     [{"case_id": case_id, "idx": idx, "part": first + n, "data": part} if stream is None
                      else {"stream": stream, "part": first + n, "data": part} for n, part in enumerate(data)])
        conn.execute(update(cases).where(cases.c.id == case_id, cases.c.idle != 0).values(idle=0))
    checkpoints.write_behind(engine)


def put_part(engine: Engine, case_id: int, idx: int, part: int, data: bytes, cap: int | None = None,
             daily: int | None = None) -> None:
    """Store one part of an uploading attachment whose length is known (idempotent for the same bytes); only a
    part not stored before counts as progress against the idle sweep. With `cap`, a new part past what its upload
    holds of that many pending bytes is Refused("pending") while the others hold the rest; with `daily`, a new
    part is counted on the browser path's budget of that many bytes a day as it is stored (DaySpent if over:
    storage/budgets.py)."""
    if not 0 <= idx < ID_SPACE:  # a number no column holds: refused before SQLite or PostgreSQL fail to bind it
        raise StorageError("no upload waits for that attachment")
    with writing(engine, durable=False) as conn:
        # PostgreSQL: the case's row is locked until this part is stored, so a completion or delivery under way
        # waits for it or goes first (then this finds no upload): never a part written into a case already shown
        row = conn.execute(select(attachments.c.length, attachments.c.stream)
                           .join(cases, cases.c.id == attachments.c.case_id).where(
            attachments.c.case_id == case_id, attachments.c.idx == idx, cases.c.complete.is_(False))
            .with_for_update(of=cases)).first()
        if row is None:
            raise StorageError("no upload waits for that attachment")
        check_part(row.length, part, data)
        table, stream = stored_parts(case_id, idx, row.stream)
        key = [*stream, table.c.part == part]
        if conn.execute(select(func.count()).select_from(table).where(*key)).scalar():
            conn.execute(update(table).where(*key).values(data=data))  # sent again: no progress, the idle count stays
        else:
            if cap is not None and not part_room(conn, case_id, cap):
                raise Refused("pending")
            if daily is not None:
                charge_stored(conn, "browser", len(data), daily)
            values = {"case_id": case_id, "idx": idx} if row.stream is None else {"stream": row.stream}
            try:
                conn.execute(insert(table).values(part=part, data=data, **values))
            except IntegrityError:  # PostgreSQL: the upload was discarded (expired) since it was looked up
                raise StorageError("no upload waits for that attachment") from None
            conn.execute(update(cases).where(cases.c.id == case_id, cases.c.idle != 0).values(idle=0))
    checkpoints.write_behind(engine)


def check_part(length: int, part: int, data: bytes) -> None:
    """Every part but the last is exactly 1 MiB, the last holds the rest (format.md §7)."""
    expected = max(min(PART, length - part * PART), 0)
    if not 0 <= part < part_count(length) or len(data) != expected:
        raise StorageError(f"part {part} of this attachment must be {expected} bytes, not {len(data)}")


class KeysChanged(StorageError):
    """The reviewers' keys changed while a case or follow-up arrived: stored, it would open to a retired key."""


def check_keys(keys_held: Callable[[], bool] | None) -> None:
    """Raise KeysChanged unless the keys sealed to are still the keyring in use (`keys_held`, called in the
    transaction that is about to commit; None: nothing to check)."""
    if keys_held is not None and not keys_held():
        raise KeysChanged("the reviewers' keys changed while this arrived, so nothing was stored: send it again")


def complete_case(engine: Engine, case_id: int, header: bytes | None = None, body: bytes | None = None,
                  key_ids: Sequence[str] = (), lengths: Sequence[int] | None = None,
                  lookup: bytes | None = None, daily: int | None = None,
                  keys_held: Callable[[], bool] | None = None, form: tuple[bytes, int] | None = None) -> str:
    """Check that every stream is stored whole and make the case visible, in one transaction; return its ref.

    An arriving case gives its header, body, key ids, stream lengths and codename lookup here (with
    `daily`, header and body are counted on the server path's budget in the same transaction); an upload
    gave them when it opened. `keys_held` says, as it commits, whether the keys it was sealed to are still
    the keyring in use (a rewrap that ran meanwhile would have missed it): if not, KeysChanged. A no-JS
    post's `form` token is spent in the same transaction (Resent if it was).
    """
    with writing(engine, checkpoint=False) as conn:
        spend_form(conn, form)
        values: dict[str, object] = {}
        if header is not None and daily is not None:
            charge_stored(conn, "server", len(header) + len(body or b""), daily)
        if lookup is not None:
            set_lookup(conn, case_id, lookup)
        if header is not None:
            set_streams(conn, case_id, lengths or ())
            if key_ids:
                conn.execute(insert(case_keys), [{"case_id": case_id, "key_id": k} for k in key_ids])
            values = {"header": header, "body": body}
        check_whole(conn, case_id)
        done = conn.execute(update(cases).where(cases.c.id == case_id, cases.c.complete.is_(False),
                                                cases.c.sealed_by != CARRIER).values(
            complete=True, upload_token=None, idle=0, received=today(), **values))
        if done.rowcount != 1:
            raise StorageError("no upload waits with that id")
        check_keys(keys_held)
        ref = conn.execute(select(cases.c.ref).where(cases.c.id == case_id)).scalar_one()
    checkpoints.soon(engine)
    return ref


def discard(engine: Engine, case_id: int) -> None:
    """Delete an incomplete case and everything stored for it (what arrived stays counted on its day's budget)."""
    with writing(engine) as conn:
        arriving = conn.execute(select(cases.c.id).where(cases.c.id == case_id, cases.c.complete.is_(False))
                                .with_for_update()).first()  # PostgreSQL: a completion waits, or went first
        if arriving is None:
            return  # completed since it was picked (the sweep's, or a discard's, step before): its parts are kept
        conn.execute(delete(parts).where(parts.c.case_id == case_id))
        conn.execute(delete(message_parts).where(message_parts.c.stream.in_(carried_streams([case_id]))))
        conn.execute(delete(case_carried).where(case_carried.c.case_id == case_id))
        conn.execute(delete(cases).where(cases.c.id == case_id, cases.c.complete.is_(False)))


def expire_uploads(engine: Engine, every: bool = False) -> int:
    """Sweep now (storage/budgets.py): expire uploads idle for IDLE_SWEEPS sweeps, or `every` incomplete one.

    `every` is for a server that is stopped (after a crash): it would also cut uploads under way.
    """
    with writing(engine) as conn:
        stale = age_uploads(conn, every)
    for case_id in stale:
        discard(engine, case_id)
    shuffle_file(engine)
    return len(stale)


def upload_case(engine: Engine, token: str) -> int | None:
    """The id of the incomplete case that `token` uploads to, or None."""
    with engine.connect() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.upload_token == token,
                                                     cases.c.complete.is_(False))).scalar()
