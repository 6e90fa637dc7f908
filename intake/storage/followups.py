"""A reporter's follow-up on its way in (format.md §12.4), admitted all or nothing as reports are.

A follow-up without files is appended to its thread at once. A follow-up's files arrive in a
**carrier**: an incomplete case (sealed_by "message") that is never shown, filled through the same
upload path as a report (web/api.py) or sealed on arrival (web/followup.py). So the budgets, the
pending-bytes cap and the idle sweep that guard reports guard it too. A carrier's streams get random
ids, and their parts are stored under them in `message_parts` from the first one, where they stay:
`deliver` checks every stream, appends the message, gives it the streams (small rows naming their
ids) and deletes the carrier, in one short transaction that moves no file's bytes. The thread never
shows a follow-up whose files are not all there; until then no reader sees its parts (no message
names their streams), and discarding the carrier deletes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, Integer, delete, func, insert, literal, select

from intake.storage import checkpoints
from intake.storage.admission import Limits, Refused
from intake.storage.budgets import charge, charge_stored, left_today, pending_room, spend, spend_form
from intake.storage.cases import StorageError
from intake.storage.db import writing
from intake.storage.lifecycle import CARRIER, check_keys, insert_case
from intake.storage.schema import attachments, carriers, cases, message_attachments
from intake.storage.streams import check_whole, set_streams
from intake.storage.threads import append_message, make_room

CARRIERS_PER_CASE = 2  # follow-ups with files of one case uploading at once


def admit_follow_up(engine: Engine, case_id: int, header: bytes, body: bytes, lengths: Sequence[int],
                    path: str | None, limits: Limits, spent: bytes | None = None, day: int | None = None,
                    form: tuple[bytes, int] | None = None) -> str | None:
    """Spend the proof of work (API: `spent` digest of day `day`), count the bytes on `path` (None: counted
    already), and store a reporter's message (None) or open a carrier for its files (its upload token):
    all or nothing.

    Raises Refused("replayed"), Refused("pending") or Refused("daily") as admission.admit_case does, and
    Refused("held") when this case's follow-ups under way already hold CARRIERS_PER_CASE uploads or
    `limits.case_bytes` declared bytes (docs/web.md, "Floods"); Resent when the no-JS page's `form` token was
    spent already.
    """
    with writing(engine) as conn:
        spend_form(conn, form)
        if spent is not None and not spend(conn, spent, day):  # type: ignore[arg-type]
            raise Refused("replayed")
        if lengths and held_by_case(conn, case_id, sum(lengths), limits.case_bytes):
            raise Refused("held")
        if lengths and not pending_room(conn, sum(lengths), limits.pending_bytes):
            raise Refused("pending")
        if path is not None and (left_today(conn, path, limits.daily_bytes) < len(header) + len(body) + sum(lengths)
                                 or not charge(conn, path, len(header) + len(body), limits.daily_bytes)):
            raise Refused("daily")
        if not lengths:
            append_message(conn, case_id, "reporter", header, body)
            return None
        make_room(conn, case_id, len(header) + len(body))  # a full thread refuses before the files upload
        carrier, _ref, token = insert_case(conn, header, body, CARRIER, (), lengths, complete=False)
        conn.execute(insert(carriers).values(case_id=carrier, thread_case=case_id))
        return token


def held_by_case(conn: Connection, case_id: int, more: int, cap: int) -> bool:
    """Whether a case's follow-ups under way hold their share already: CARRIERS_PER_CASE uploads, or `cap` declared
    bytes with `more` (so one codename cannot hold the pending-bytes cap of everyone). PostgreSQL: the case's row is
    locked first, so admissions for one case at once count each other's uploads (without, eight at once held eight)."""
    conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update(key_share=True))
    open_ = select(carriers.c.case_id).join(cases, cases.c.id == carriers.c.case_id).where(
        carriers.c.thread_case == case_id, cases.c.complete.is_(False))
    count = conn.execute(select(func.count()).select_from(open_.subquery())).scalar_one()
    declared = conn.execute(select(func.coalesce(func.sum(attachments.c.length), 0))
                            .where(attachments.c.case_id.in_(open_))).scalar_one()
    return count >= CARRIERS_PER_CASE or int(declared) + more > cap


def carrier_header(engine: Engine, case_id: int) -> bytes | None:
    """The sealed header of the follow-up an incomplete case carries (to check its keys before it is
    delivered), or None when the case carries a report."""
    with engine.connect() as conn:
        return conn.execute(select(cases.c.header).where(cases.c.id == case_id,
                                                         cases.c.sealed_by == CARRIER)).scalar()


def deliver(engine: Engine, carrier_id: int, header: bytes | None = None, body: bytes | None = None,
            lengths: Sequence[int] = (), thread_case: int | None = None, daily: int | None = None,
            keys_held: Callable[[], bool] | None = None, form: tuple[bytes, int] | None = None) -> int:
    """Deliver a carrier's follow-up, each stream stored whole, into its thread as a reporter's message; return its
    place. Its streams' parts stay where they are (message_parts, by stream id): only small rows are written.

    A carrier sealed on arrival gives its header, body, stream lengths and thread here (with `daily`,
    header and body are counted on the server path's budget); an upload gave them when it opened.
    One short transaction: a crash leaves either the carrier or the message, never half. `keys_held` is
    checked as it commits (lifecycle.complete_case). A no-JS page's `form`
    token is spent in it (Resent if it was).
    """
    with writing(engine, checkpoint=False) as conn:
        spend_form(conn, form)
        row = conn.execute(select(cases.c.header, cases.c.body, carriers.c.thread_case)
                           .outerjoin(carriers, carriers.c.case_id == cases.c.id)
                           .where(cases.c.id == carrier_id, cases.c.complete.is_(False),
                                  cases.c.sealed_by == CARRIER).with_for_update(of=cases)).first()
        if row is None:
            raise StorageError("no follow-up waits with that id: it finished, expired or never began")
        if row.thread_case is not None and thread_case not in (None, row.thread_case):
            raise StorageError("this follow-up was begun for another case's thread: nothing was stored")
        if header is None or body is None:
            header, body, thread_case = row.header, row.body, row.thread_case
        else:
            set_streams(conn, carrier_id, lengths)
            if daily is not None:
                charge_stored(conn, "server", len(header) + len(body), daily)
        if thread_case is None:
            raise StorageError("the case this follow-up was for is gone")
        check_whole(conn, carrier_id)
        seq = append_message(conn, thread_case, "reporter", header, body)
        case, place = literal(thread_case, Integer), literal(seq, Integer)
        conn.execute(insert(message_attachments).from_select(
            ["case_id", "seq", "idx", "length", "stream"],
            select(case, place, attachments.c.idx, attachments.c.length, attachments.c.stream)
            .where(attachments.c.case_id == carrier_id)))
        conn.execute(delete(cases).where(cases.c.id == carrier_id))  # its attachments rows go with it (cascade)
        check_keys(keys_held)
    checkpoints.soon(engine)
    return seq
