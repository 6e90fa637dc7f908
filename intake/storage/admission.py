"""Admitting a browser-sealed report in one write transaction: its proof of work spent, the budget counted,
its case stored (docs/web.md, "Flood guards without tracking"); the transaction's commit is shared
with the reports that arrived at the same time (storage/batches.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from intake.storage.batches import GroupCommit
from intake.storage.guards import count_report, spend
from intake.storage.lifecycle import insert_case


class Refused(Exception):
    """A flood guard refused the report: `reason` is "replayed" (challenge spent before) or "budget"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Admitted:
    """A stored case: complete (`token` None) when it has no attachment streams, else waiting for its parts."""

    case_id: int
    ref: str
    token: str | None


def admit_case(commits: GroupCommit, challenge: str, expires: dt.datetime, per_minute: int, now: float,
               header: bytes, body: bytes, key_ids: Sequence[str], lengths: Sequence[int],
               lookup: bytes | None = None) -> Admitted:
    """Spend `challenge`, count the report at Unix time `now`, store its case: all or nothing, once committed.

    A replayed challenge or an error storing the case undoes all three. A spent budget stores no
    case but keeps the challenge spent (so every refusal costs a new proof of work) and raises.
    """

    def admit(conn: Connection) -> Admitted | None:
        if not spend(conn, challenge, expires):
            raise Refused("replayed")
        if not count_report(conn, per_minute, now):
            return None
        return Admitted(*insert_case(conn, header, body, "browser", key_ids, lengths, complete=not lengths,
                                    lookup=lookup))

    admitted = commits.run(admit)
    if admitted is None:
        raise Refused("budget")
    return admitted
