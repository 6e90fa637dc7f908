"""Rewrap killed with SIGKILL at several points: every case stays openable, none is lost or duplicated."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import time

import pytest
from sqlalchemy import func, select

from intake.crypto.envelope import open_body, open_header, parse_header
from intake.crypto.keys import Identity
from intake.storage.schema import case_keys, cases, notes
from tests.support.keytools import Instance, add_note, bulk_cases

CASES = 10_000


def snapshot(engine) -> dict[int, tuple[str, str, bytes]]:
    """Every case: ref, SHA-256 of its body, and its header."""
    with engine.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.ref, cases.c.body, cases.c.header)).all()
    return {i: (ref, hashlib.sha256(body).hexdigest(), header) for i, ref, body, header in rows}


def rewrapped(engine, key_id: str) -> int:
    """How many cases are sealed to this key id, by their case_keys rows."""
    with engine.connect() as conn:
        query = select(func.count()).select_from(case_keys).where(case_keys.c.key_id == key_id)
        return conn.execute(query).scalar_one()


def check(engine, before: dict[int, tuple[str, str, bytes]], sets: list[set[str]],
          identities: dict[str, Identity]) -> int:
    """Assert every case is whole and sealed to exactly one of the key sets; return how many have the last."""
    now = snapshot(engine)
    assert now.keys() == before.keys()
    assert [(ref, body) for ref, body, _ in now.values()] == [(ref, body) for ref, body, _ in before.values()]
    with engine.connect() as conn:
        keyed: dict[int, set[str]] = {}
        for case_id, key_id in conn.execute(select(case_keys.c.case_id, case_keys.c.key_id)):
            keyed.setdefault(case_id, set()).add(key_id)
        note_headers = conn.execute(select(notes.c.header)).scalars().all()
    union = list(identities.values())
    for case_id, (_, _, header) in now.items():
        ids = set(parse_header(header).key_ids)
        assert ids in sets
        assert keyed[case_id] == ids
        open_header(header, union)
    assert all(set(parse_header(h).key_ids) in sets for h in note_headers)
    with engine.connect() as conn:
        bodies = dict(conn.execute(select(cases.c.id, cases.c.body)).all())
    for case_id in random.sample(sorted(now), 100):
        header = now[case_id][2]
        for key_id in parse_header(header).key_ids:
            opened = open_header(header, [identities[key_id]])
            assert open_body(opened.report_key, bodies[case_id]).fields == {"incident_type": "cctv"}
    return sum(set(parse_header(h).key_ids) == sets[-1] for _, _, h in now.values())


@pytest.mark.slow
def test_rewrap_killed_at_several_points_then_completed(tmp_path) -> None:
    inst = Instance(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    keys = inst.setup("alice", "bob", "carol")
    old = inst.keyring()
    bulk_cases(inst.engine, old.recipients(), CASES)
    with inst.engine.connect() as conn:
        some = conn.execute(select(cases.c.ref).limit(20)).scalars().all()
    for ref in some:
        add_note(inst.engine, ref, old.recipients())
    before = snapshot(inst.engine)
    inst.run("keys", "rotate", "alice", "--out", str(tmp_path / "new"), "--passphrase-file", str(inst.admin_pw),
             "--key-passphrase-file", str(inst.reviewer_pw))
    new = inst.keyring()
    sets = [set(old.key_ids), set(new.key_ids)]
    files = [*keys.values(), tmp_path / "new" / "alice.key"]
    identities = {i.key_id: i for i in map(inst.identity, files)}
    new_alice = new.find("alice").key_id

    done = 0
    for target in (1000, 4000, 7000):
        proc = inst.popen("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
        while rewrapped(inst.engine, new_alice) < target:
            assert proc.poll() is None, f"rewrap ended before it could be killed: {proc.stderr.read()}"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        now = check(inst.engine, before, sets, identities)
        assert done < now < CASES
        done = now

    finish = inst.run("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
    assert f"rewrapped {CASES - done + 20}, already current {done}" in finish.stderr
    assert check(inst.engine, before, sets, identities) == CASES
    assert rewrapped(inst.engine, old.find("alice").key_id) == 0
    inst.engine.dispose()
