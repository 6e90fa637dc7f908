"""The pending-bytes cap priced by bytes that arrive (attack catalogue class 2): an upload holds what it has
stored and at most AHEAD more of what it declared, so declarations that never send hold little, and a part past
that hold is taken only while the others leave room (storage/budgets.py)."""

from __future__ import annotations

import os

import pytest

from intake.crypto.stream import PART
from intake.storage.admission import Limits
from intake.storage.budgets import AHEAD, Refused, pending_bytes, pending_room
from intake.storage.cases import get_case
from intake.storage.db import writing
from intake.storage.followups import admit_follow_up
from intake.storage.lifecycle import discard, put_part, upload_case
from tests.support.storage import begin_case, store_case

MIB = 1 << 20


def framed(plain: int) -> int:
    """The sealed length of a stream of `plain` bytes (format.md §7)."""
    return 24 + plain + 17 * (plain // 65536 + 1)


def _held(engine) -> int:
    with writing(engine) as conn:
        return pending_bytes(conn)


def test_an_upload_holds_what_it_stored_and_ahead(engine) -> None:
    big, small = framed(12 * MIB), framed(MIB)
    a = begin_case(engine, b"h", b"b", "browser", [], [big])[0]
    assert _held(engine) == AHEAD, "a declaration that sends nothing holds AHEAD, not its size"
    b = begin_case(engine, b"h", b"b", "browser", [], [small])[0]
    assert _held(engine) == AHEAD + small
    cap = AHEAD + small + PART
    put_part(engine, a, 0, 0, os.urandom(PART), cap)
    assert _held(engine) == AHEAD + small + PART
    with pytest.raises(Refused, match="pending"):
        put_part(engine, a, 0, 1, os.urandom(PART), cap)
    put_part(engine, a, 0, 0, os.urandom(PART), cap)  # a part sent again takes no more room
    discard(engine, b)
    put_part(engine, a, 0, 1, os.urandom(PART), cap)
    assert _held(engine) == AHEAD + 2 * PART
    with writing(engine) as conn:
        assert pending_room(conn, 1, cap + PART)
        assert not pending_room(conn, AHEAD, cap)


def test_a_carrier_holds_by_its_stored_parts_too(engine) -> None:
    ref = store_case(engine, b"h", b"b", "browser", [], [])
    case_id = get_case(engine, ref).id
    declared = framed(20 * MIB)
    token = admit_follow_up(engine, case_id, b"h", b"b" * 1024, [declared], "browser", Limits(1 << 40, 1 << 40))
    carrier = upload_case(engine, token)
    assert _held(engine) == AHEAD
    for number in range(3):
        put_part(engine, carrier, 0, number, os.urandom(PART), 1 << 40)
    assert _held(engine) == AHEAD + 3 * PART
    discard(engine, carrier)
    assert _held(engine) == 0
