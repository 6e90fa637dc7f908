"""The chain of custody (docs/review.md "Custody"): real intake-review processes on SQLite and PostgreSQL append a
sealed, hash-chained entry for show, export and status; a forged, moved, removed or reordered row is told."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update

from intake.crypto.keys import Identity
from intake.evidence.custody import new_entry, read_record, seal_entry
from intake.storage.cases import get_case
from intake.storage.notes import case_notes
from intake.storage.schema import notes
from tests.support.reviewkit import FIELDS, Reviewer, signed_keyring, store

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


@pytest.fixture
def team(tmp_path, engine, db_url):
    """alice, a keyring of her key, and a case of hers with one file."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], [("photo.jpg", "image/jpeg", PHOTO)])
    where = ("--db", db_url, "--keys-dir", keys_dir, "--signer", signer)
    return alice, ref, where


def record(alice: Reviewer, ref: str, where: tuple[str, ...]) -> dict:
    """`show --json`'s custody record (which itself appends a show)."""
    return alice.json("show", ref, where=where)["custody"]


def test_each_command_appends_a_chained_entry(team, engine, tmp_path):
    """status, export and show each add one entry, in order, linked by SHA-256, with the reviewer's key id."""
    alice, ref, where = team
    alice.run("status", ref, "in-review", where=where)
    alice.run("export", ref, "--out", str(tmp_path / "out"), where=where)
    got = record(alice, ref, where)
    assert got["intact"]
    assert got["problems"] == []
    entries = got["entries"]
    assert [(e["seq"], e["action"], e["detail"]) for e in entries] == [
        (1, "status", "in review"), (2, "export", ""), (3, "show", "")]
    assert {e["by"] for e in entries} == {alice.identity.key_id}
    assert entries[0]["prev"] == "0" * 64
    assert [e["prev"] for e in entries[1:]] == [e["link"] for e in entries[:-1]]
    assert list(entries[2]["hashes"].values()) == [store_sha(PHOTO)]
    text = alice.run("show", ref, where=where).stdout
    assert "custody (4 entries, chain intact" in text
    assert "1. " in text
    assert "status in review" in text
    assert len(case_notes(engine, get_case(engine, ref).id)) == 4  # each entry is a sealed note row, nothing else


def store_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_without_a_keyring_show_warns_and_records_nothing(team, engine):
    """No verified keyring: show still shows, says the entry was not recorded; evidence would refuse (below)."""
    alice, ref, where = team
    done = alice.run("show", ref, where=where[:2])
    assert "custody entry not recorded" in done.stderr
    assert case_notes(engine, get_case(engine, ref).id) == []


def test_forged_removed_and_reordered_rows_are_told(team, engine):
    """Attack catalogue 8: whoever writes the database cannot forge, drop or reorder an entry unseen."""
    alice, ref, where = team
    for _ in range(3):
        alice.run("show", ref, where=where)
    case = get_case(engine, ref)
    rows = engine.connect().execute(select(notes.c.id, notes.c.header, notes.c.body)
                                    .where(notes.c.case_id == case.id).order_by(notes.c.id)).all()
    with engine.begin() as conn:  # swap the bodies of entries 1 and 2 (the store reorders them)
        conn.execute(update(notes).where(notes.c.id == rows[0].id).values(header=rows[1].header, body=rows[1].body))
        conn.execute(update(notes).where(notes.c.id == rows[1].id).values(header=rows[0].header, body=rows[0].body))
    got = record(alice, ref, where)
    assert not got["intact"]
    assert any("does not follow" in p for p in got["problems"])
    with engine.begin() as conn:  # put them back, then drop entry 2
        conn.execute(update(notes).where(notes.c.id == rows[0].id).values(header=rows[0].header, body=rows[0].body))
        conn.execute(update(notes).where(notes.c.id == rows[1].id).values(header=rows[1].header, body=rows[1].body))
        conn.execute(delete(notes).where(notes.c.id == rows[1].id))
    got = record(alice, ref, where)
    assert any("entry 2" in p and "does not follow" in p for p in got["problems"])


def test_an_entry_sealed_to_the_keyring_by_the_store_is_refused(team, engine):
    """The store can seal a note to the public keyring, but not make its custody_mac without the case's key."""
    alice, ref, where = team
    alice.run("show", ref, where=where)
    case = get_case(engine, ref)
    held = read_record(case_notes(engine, case.id), [alice.identity], bytes(32))  # a wrong case key: every MAC fails
    assert len(held.problems) == 1
    assert "not bound to this case" in held.problems[0]
    forged = new_entry(held, "show", Identity.generate().key_id, case.received, {})
    header, body = seal_entry([alice.recipient], forged, bytes(32))
    with engine.begin() as conn:
        conn.execute(notes.insert().values(case_id=case.id, created=case.received, header=header, body=body))
    got = record(alice, ref, where)
    assert any("not bound to this case" in p for p in got["problems"])
    assert json.dumps(got).count(forged["by"]) == 0  # the forged entry is never shown as one


def test_notes_list_leaves_custody_entries_out(team):
    """A custody entry is a note row, but never listed among the notes."""
    alice, ref, where = team
    alice.run("status", ref, "closed", "--note", "checked the photo", where=where)
    shown = alice.json("show", ref, where=where)
    assert [n.get("note") for n in shown["notes"]] == ["checked the photo"]
    assert FIELDS["location"] == shown["fields"]["location"]
