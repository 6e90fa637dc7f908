"""Admitting a browser-sealed report in one write transaction: its proof of work spent, its bytes counted
against the budgets, its case stored (docs/web.md, "Floods"); the transaction's commit is shared
with the reports that arrived at the same time (storage/batches.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from intake.storage.batches import GroupCommit
from intake.storage.budgets import Refused, charge, left_today, pending_room, spend
from intake.storage.lifecycle import duplicate, insert_case


@dataclass(frozen=True)
class Limits:
    """The byte budgets a report is admitted under."""

    daily_bytes: int
    pending_bytes: int
    case_bytes: int = 500 << 20  # the follow-ups of one case uploading at once (storage/followups.py)


@dataclass(frozen=True)
class Admitted:
    """A stored case: complete (`token` None) when it has no attachment streams, else waiting for its parts."""

    case_id: int
    ref: str
    token: str | None


def admit_case(commits: GroupCommit, spent: bytes, day: int, limits: Limits, header: bytes, body: bytes,
               key_ids: Sequence[str], lengths: Sequence[int], lookup: bytes | None = None,
               carried: bytes | None = None) -> Admitted:
    """Spend the challenge (`spent` digest of day `day`), count the bytes, store the case: all or nothing.
    A report carried in from the offline kit (its `carried` id) that a case holds already raises Duplicate first.

    A replayed challenge, a spent budget or an error storing the case undoes everything, so a
    refusal keeps nothing: the proof of work was checked before, and it costs the client alone.
    """
    size = len(header) + len(body) + sum(lengths)

    def admit(conn: Connection) -> Admitted:
        if carried is not None:
            duplicate(conn, carried)
        if not spend(conn, spent, day):
            raise Refused("replayed")
        if lengths and not pending_room(conn, sum(lengths), limits.pending_bytes):
            raise Refused("pending")
        if left_today(conn, "browser", limits.daily_bytes) < size or not charge(
                conn, "browser", len(header) + len(body), limits.daily_bytes):  # its parts count as they arrive
            raise Refused("daily")
        return Admitted(*insert_case(conn, header, body, "browser", key_ids, lengths, complete=not lengths,
                                     lookup=lookup, carried=carried))

    return commits.run(admit)
