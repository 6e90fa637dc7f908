"""The audit log: a hash chain, signatures and a signed checkpoint; each kind of tampering is named."""

from __future__ import annotations

import datetime as dt

import nacl.signing
import pytest
from sqlalchemy import delete, insert, select, update

from intake.crypto.keys import b64encode
from intake.keys import audit
from intake.keys.keyring import SIGNER_PREFIX
from intake.storage.schema import audit as audit_table
from tests.support.keytools import Instance


@pytest.fixture
def admin() -> nacl.signing.SigningKey:
    """An admin signing key."""
    return nacl.signing.SigningKey.generate()


@pytest.fixture
def log(engine, admin):
    """A log of six entries, all signed but the rewrap; returns (engine, signer, checkpoint of the last)."""
    for i in range(5):
        last = audit.record(engine, "keys add", {"name": f"reviewer{i}"}, admin)
    last = audit.record(engine, "keys rewrap", {"rewrapped": 10})
    return engine, SIGNER_PREFIX + b64encode(bytes(admin.verify_key)), last.checkpoint


def kinds(engine, signer, checkpoint) -> list[tuple[int, str]]:
    """The problems found, as (seq, kind)."""
    return [(p.seq, p.kind) for p in audit.verify(engine, signer, checkpoint)]


def row(engine, seq: int) -> dict[str, object]:
    """One stored entry as a dict."""
    with engine.connect() as conn:
        return dict(conn.execute(select(audit_table).where(audit_table.c.seq == seq)).mappings().one())


def renumber(engine, seqs: dict[int, int]) -> None:
    """Give entries new seq numbers, through a free range so primary keys never collide."""
    with engine.begin() as conn:
        for old, new in seqs.items():
            conn.execute(update(audit_table).where(audit_table.c.seq == old).values(seq=new + 1000))
        for new in seqs.values():
            conn.execute(update(audit_table).where(audit_table.c.seq == new + 1000).values(seq=new))


def test_an_untouched_log_verifies(log) -> None:
    engine, signer, checkpoint = log
    assert kinds(engine, signer, checkpoint) == []
    assert [e.seq for e in audit.entries(engine)] == [1, 2, 3, 4, 5, 6]
    assert audit.entries(engine)[0].prev_hash == audit.GENESIS


def test_an_edited_entry_is_named(log) -> None:
    engine, signer, checkpoint = log
    with engine.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 3).values(detail='{"name":"mallory"}'))
    assert kinds(engine, signer, checkpoint) == [(3, "edited")]


def test_an_edited_entry_with_its_hash_recomputed_fails_its_signature(log) -> None:
    engine, signer, checkpoint = log
    old = row(engine, 3)
    forged = audit.chain_hash(old["prev_hash"], old["at"], old["action"], '{"name":"mallory"}')
    with engine.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 3).values(detail='{"name":"mallory"}', hash=forged))
    found = kinds(engine, signer, checkpoint)
    assert (3, "bad signature") in found
    assert (4, "deleted") in found


def test_an_inserted_entry_is_named(log) -> None:
    engine, signer, checkpoint = log
    renumber(engine, {seq: seq + 1 for seq in range(6, 2, -1)})
    before = row(engine, 2)
    at = dt.datetime(2024, 1, 1)
    digest = audit.chain_hash(before["hash"], at, "keys rewrap", "{}")
    with engine.begin() as conn:
        conn.execute(insert(audit_table).values(seq=3, at=at, action="keys rewrap", detail="{}",
                                                prev_hash=before["hash"], hash=digest, signature=None))
    assert kinds(engine, signer, checkpoint) == [(3, "inserted"), (6, "rewritten")]


def test_a_forged_admin_action_without_signature_is_named(log) -> None:
    engine, signer, _ = log
    last = audit.entries(engine)[-1]
    at = dt.datetime(2024, 1, 1)
    with engine.begin() as conn:
        conn.execute(insert(audit_table).values(seq=7, at=at, action="keys add", detail="{}", prev_hash=last.hash,
                                                hash=audit.chain_hash(last.hash, at, "keys add", "{}"), signature=None))
    assert kinds(engine, signer, None) == [(7, "unsigned")]


def test_a_deleted_middle_entry_is_named(log) -> None:
    engine, signer, checkpoint = log
    with engine.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq == 4))
    assert kinds(engine, signer, checkpoint) == [(4, "deleted")]


def test_a_deleted_and_renumbered_entry_is_named(log) -> None:
    engine, signer, checkpoint = log
    with engine.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq == 4))
    renumber(engine, {5: 4, 6: 5})
    found = kinds(engine, signer, checkpoint)
    assert found == [(4, "deleted"), (6, "deleted")]
    assert "entry 6 was deleted: the signed keyring records" in audit.verify(engine, signer, checkpoint)[-1].message


def test_a_deleted_tail_is_caught_by_the_signed_checkpoint(log) -> None:
    engine, signer, checkpoint = log
    with engine.begin() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.seq >= 5))
    assert kinds(engine, signer, None) == []
    assert kinds(engine, signer, checkpoint) == [(5, "deleted")]
    assert "entries 5 to 6 were deleted" in audit.verify(engine, signer, checkpoint)[0].message


def test_reordered_entries_are_named(log) -> None:
    engine, signer, checkpoint = log
    renumber(engine, {3: 4, 4: 3})
    assert kinds(engine, signer, checkpoint) == [(3, "reordered")]


def test_a_signature_by_another_key_is_named(log) -> None:
    engine, signer, checkpoint = log
    other = nacl.signing.SigningKey.generate()
    bad = b64encode(other.sign(audit.DOMAIN + b":" + row(engine, 2)["hash"].encode()).signature)
    with engine.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 2).values(signature=bad))
    assert kinds(engine, signer, checkpoint) == [(2, "bad signature")]


def test_audit_verify_names_the_entry_and_exits_non_zero(tmp_path) -> None:
    inst = Instance(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    inst.setup("alice", "bob")
    assert "audit log ok: 3 entries" in inst.run("audit", "verify").stderr
    listed = inst.run("audit", "list", "--json").stdout
    assert '"action": "keys add"' in listed
    assert '"signed": true' in listed
    with inst.engine.begin() as conn:
        conn.execute(update(audit_table).where(audit_table.c.seq == 2).values(detail='{"name":"mallory"}'))
    result = inst.run("audit", "verify", check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "seq 2: edited: entry 2 was edited" in result.stderr
    assert "restore the database from a backup" in result.stderr
    inst.engine.dispose()
