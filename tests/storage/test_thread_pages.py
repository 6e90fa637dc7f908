"""A thread's cap, its pages and the key counts of its messages, on SQLite and PostgreSQL (storage/threads.py)."""

from __future__ import annotations

import os

import pytest

from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.storage import threads
from intake.storage.cases import get_case
from intake.storage.threads import MAX_THREAD_BYTES, ThreadFull, add_message, has_room, messages_by_key, thread_page
from tests.support.storage import store_case

BIG = (1 << 20) + 40


def _case(engine) -> int:
    return get_case(engine, store_case(engine, os.urandom(200), os.urandom(1064), "browser", [], [])).id


def test_the_cap_counts_sealed_bytes_of_both_senders(engine) -> None:
    case_id = _case(engine)
    header = os.urandom(300)
    for n in range(MAX_THREAD_BYTES // (BIG + 300)):
        add_message(engine, case_id, "reviewer" if n % 2 else "reporter", header, os.urandom(BIG))
    assert has_room(engine, case_id, 1024)
    with pytest.raises(ThreadFull, match="the most one case keeps is 500 messages and 16 MiB"):
        add_message(engine, case_id, "reviewer", header, os.urandom(BIG))
    assert not has_room(engine, case_id, BIG)
    other = _case(engine)  # one thread's cap is not another's
    add_message(engine, other, "reporter", header, os.urandom(BIG))


def test_pages_forward_and_backward_stay_within_the_budget(engine, monkeypatch) -> None:
    case_id = _case(engine)
    sizes = [1064, 70_000, 300_000, 1064, 600_000, 40, 1_048_616, 2_000]
    for size in sizes:
        add_message(engine, case_id, "reporter", b"h", os.urandom(size))
    budget = 700_000
    seen, after, more = [], 0, True
    while more:
        page, more = thread_page(engine, case_id, after, budget=budget)
        assert sum(len(m.header) + len(m.body) for m in page) <= budget or len(page) == 1
        seen += [m.seq for m in page]
        after = page[-1].seq
    assert seen == list(range(1, len(sizes) + 1))
    page, more = thread_page(engine, case_id, before=len(sizes) + 1, budget=budget)
    assert [m.seq for m in page] == [8]
    assert more
    page, more = thread_page(engine, case_id, before=7, budget=budget)
    assert [m.seq for m in page] == [4, 5, 6]
    assert more
    assert thread_page(engine, case_id, after=8) == ([], False)
    monkeypatch.setattr(threads, "MAX_MESSAGES", 8)
    with pytest.raises(ThreadFull):
        add_message(engine, case_id, "reporter", b"h", b"b")


def test_messages_are_counted_by_the_reviewer_keys_they_open_to(engine) -> None:
    reviewers, reply = [Identity.generate() for _ in range(2)], Identity.generate()
    case_id = _case(engine)
    for _ in range(3):
        sealed = seal_message([r.recipient for r in reviewers], reply.recipient, "reporter", "more")
        add_message(engine, case_id, "reporter", sealed.header, sealed.body)
    add_message(engine, case_id, "reporter", b"not a header", b"x")
    assert messages_by_key(engine) == {r.recipient.key_id: 3 for r in reviewers}
