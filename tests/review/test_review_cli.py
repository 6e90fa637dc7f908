"""intake-review on a real database (SQLite and PostgreSQL), as a real process: every command and error."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import nacl.signing
import pytest
from sqlalchemy import select

from intake.crypto.keys import Identity
from intake.keys.keyring import KeyEntry, Keyring, save_keyring
from intake.storage.schema import notes
from tests.support import BIN, run_cli
from tests.support.reviewkit import FIELDS, Reviewer, damage_body, store, store_vector

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


@pytest.fixture
def alice(tmp_path) -> Reviewer:
    """A reviewer with an identity file locked by a passphrase."""
    return Reviewer.make(tmp_path / "alice")


@pytest.fixture
def stored(engine, db_url, alice):
    """A server-sealed case for alice, a browser-sealed vector, one sealed to someone else, one damaged."""
    ref = store(engine, [alice.recipient], [("clip.mp4", "video/mp4", CLIP)])
    browser, vector_identity, body = store_vector(engine, "02-success-three-recipients.vec")
    other = store(engine, [Identity.generate().recipient])
    damaged = store(engine, [alice.recipient])
    damage_body(engine, damaged)
    return {"where": ("--db", db_url), "server": ref, "browser": browser, "vector": vector_identity,
            "body": body, "other": other, "damaged": damaged}


def test_list_opens_what_it_can_and_goes_on(alice, stored):
    rows = {row["id"]: row for row in alice.json("list", where=stored["where"])}
    assert rows[stored["server"]]["opened"] is True
    assert rows[stored["server"]]["incident_type"] == "drone"
    assert rows[stored["server"]]["identity"] == "alice.key"
    assert rows[stored["server"]]["attachments"] == 1
    assert rows[stored["server"]]["attachment_bytes"] == len(CLIP)
    assert rows[stored["other"]] | {"opened": False, "error": "no match"} == rows[stored["other"]]
    assert rows[stored["browser"]]["error"] == "no match"
    assert rows[stored["damaged"]]["error"] == "damaged body"
    table = alice.run("list", where=stored["where"])
    assert stored["server"] in table.stdout
    assert "damaged body" in table.stdout
    assert "4 cases, 3 not opened" in table.stderr


def test_list_filters_by_status_and_day(alice, stored):
    alice.run("status", stored["server"], "closed", where=stored["where"])
    assert [r["id"] for r in alice.json("list", "--status", "closed", where=stored["where"])] == [stored["server"]]
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert alice.json("list", "--since", tomorrow, where=stored["where"]) == []
    assert len(alice.json("list", "--since", "2020-01-01", where=stored["where"])) == 4


def test_show_a_server_sealed_case(alice, stored):
    shown = alice.json("show", stored["server"], where=stored["where"])
    assert shown["id"] == stored["server"]
    assert shown["fields"] == FIELDS
    assert shown["sealed_by"] == "server"
    (clip,) = shown["attachments"]
    assert clip["name"] == "clip.mp4"
    assert clip["size"] == len(CLIP)
    assert clip["sha256_ok"] is True
    assert "not checked" in clip["metadata"]
    text = alice.run("show", stored["server"], where=stored["where"]).stdout
    assert "sealed by server" in text
    assert "Then it followed us." in text


def test_show_and_export_a_browser_sealed_case(tmp_path, stored):
    bob = Reviewer.make(tmp_path / "bob", "bob", identity=stored["vector"])
    shown = bob.json("show", stored["browser"], where=stored["where"])
    assert shown["sealed_by"] == "browser"
    assert shown["fields"] == stored["body"]["fields"]
    assert [a["sha256"] for a in shown["attachments"]] == [a["sha256"] for a in stored["body"]["attachments"]]
    assert all(a["sha256_ok"] for a in shown["attachments"])
    bob.run("export", stored["browser"], "--out", str(tmp_path / "out"), where=stored["where"])
    for entry in stored["body"]["attachments"]:
        assert (tmp_path / "out" / entry["name"]).stat().st_size == entry["size"]


def test_export_writes_report_and_attachment(alice, stored, tmp_path):
    out = tmp_path / "export"
    done = alice.run("export", stored["server"], "--out", str(out), where=stored["where"])
    assert "clip.mp4: kept as it is (no cleaner for video/mp4: it may still carry GPS" in done.stderr
    assert (out / "clip.mp4").read_bytes() == CLIP
    report = json.loads((out / "report.json").read_text())
    assert report["fields"] == FIELDS
    assert report["attachments"][0]["file"] == "clip.mp4"
    again = alice.run("export", stored["server"], "--out", str(out), where=stored["where"], check=False)
    assert again.returncode == 1
    assert "already holds a report.json" in again.stderr
    assert (out / "clip.mp4").read_bytes() == CLIP


def test_cat_writes_one_attachment_to_a_pipe(alice, stored):
    result = subprocess.run([str(BIN / "intake-review"), "--identity", str(alice.key), "--passphrase-file",
                             str(alice.passphrase), *stored["where"], "cat", stored["server"], "1"],
                            capture_output=True, check=True)
    assert result.stdout == CLIP
    missing = alice.run("cat", stored["server"], "2", where=stored["where"], check=False)
    assert missing.returncode == 1
    assert "has 1 attachments, not 2" in missing.stderr


def _keyring(tmp_path, recipients) -> tuple[str, str]:
    key = nacl.signing.SigningKey.generate()
    saved = save_keyring(tmp_path / "keys", Keyring(tuple(KeyEntry(f"r{i}", r) for i, r in enumerate(recipients))),
                         key)
    return str(tmp_path / "keys"), saved.signer


def test_status_seals_its_note_to_the_keyring(alice, stored, engine, db_url, tmp_path):
    keys_dir, signer = _keyring(tmp_path, [alice.recipient])
    secret = "the drone operator is a police officer we know"
    done = alice.run("status", stored["server"], "needs follow-up", "--note", secret, "--keys-dir", keys_dir,
                     "--signer", signer, where=stored["where"])
    assert "note sealed" in done.stderr
    shown = alice.json("show", stored["server"], where=stored["where"])
    assert shown["status"] == "needs follow-up"
    assert shown["notes"][0] | {"note": secret, "status": "needs follow-up", "by": alice.identity.key_id} \
        == shown["notes"][0]
    with engine.connect() as conn:
        stored_notes = conn.execute(select(notes.c.header, notes.c.body)).all()
    assert len(stored_notes) == 2  # the note, and the custody entry of the status change (docs/review.md "Custody")
    assert all(secret.encode() not in bytes(part) for row in stored_notes for part in row)
    if db_url.startswith("sqlite:///"):
        engine.dispose()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("intake.db*"))
        assert secret.encode() not in raw


def test_status_fails_clearly_without_a_verified_keyring(alice, stored, tmp_path):
    keys_dir, signer = _keyring(tmp_path, [alice.recipient])
    other = "intake-signer-1:" + _keyring(tmp_path / "x", [alice.recipient])[1].split(":", 1)[1]
    for extra in (("--keys-dir", keys_dir, "--signer", other), ("--keys-dir", str(tmp_path / "none"))):
        result = alice.run("status", stored["server"], "closed", "--note", "n", *extra, where=stored["where"],
                           check=False, env={"INTAKE_INSTANCE": str(tmp_path / "instance")})
        assert result.returncode == 9, result.stderr
        assert result.stderr.startswith("intake-review: cannot seal the note:")
    shown = alice.json("show", stored["server"], where=stored["where"])
    assert shown["status"] == "new"
    assert shown["notes"] == []


@pytest.mark.parametrize(("command", "code", "message"), [
    (("show", "NOPE-NOPE-NOPE"), 5, "no case 'NOPE-NOPE-NOPE'"),
    (("show", "other"), 6, "is not sealed to any of your keys"),
    (("export", "other", "--out", "x"), 6, "is not sealed to any of your keys"),
    (("show", "damaged"), 7, "is damaged (damaged body)"),
    (("cat", "damaged", "1"), 7, "is damaged (damaged body)"),
    (("status", "NOPE-NOPE-NOPE", "closed"), 5, "no case"),
])
def test_case_errors_have_their_own_exit_codes(alice, stored, command, code, message):
    args = [stored.get(arg, arg) for arg in command]
    result = alice.run(*args, where=stored["where"], check=False)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@SQLITE_ONLY
def test_identity_errors(alice, stored, tmp_path):
    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not the passphrase\n")
    pub = tmp_path / "alice.pub"
    pub.write_text(f"{alice.recipient}\n")
    cases = [((str(alice.key), str(wrong)), 3, "wrong passphrase for"),
             ((str(tmp_path / "missing.key"), str(alice.passphrase)), 4, "cannot read identity file"),
             ((str(pub), str(alice.passphrase)), 4, "this is not an intake-identity-file-1")]
    for (key, passphrase), code, message in cases:
        result = run_cli("intake-review", "--identity", key, "--passphrase-file", passphrase, *stored["where"],
                         "list", cwd=tmp_path, check=False)
        assert result.returncode == code, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr


@SQLITE_ONLY
def test_two_identities_with_two_passphrases(alice, stored, tmp_path):
    bob = Reviewer.make(tmp_path / "bob", "bob", "another passphrase", identity=stored["vector"])
    both = tmp_path / "both.pass"
    both.write_text("correct horse battery\nanother passphrase\n")
    result = run_cli("intake-review", "--identity", str(alice.key), "--identity", str(bob.key),
                     "--passphrase-file", str(both), *stored["where"], "list", "--json", cwd=tmp_path)
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows[stored["server"]]["identity"] == "alice.key"
    assert rows[stored["browser"]]["identity"] == "bob.key"


@SQLITE_ONLY
def test_usage_errors(alice, stored, tmp_path):
    neither = alice.run("list", where=(), check=False, env={"INTAKE_DATABASE_URL": ""})
    assert neither.returncode == 2
    assert "either --db URL or --bundle FILE" in neither.stderr
    missing = alice.run("list", where=("--db", f"sqlite:///{tmp_path / 'nothing.db'}"), check=False)
    assert missing.returncode == 1
    assert "no database at" in missing.stderr
    assert not (tmp_path / "nothing.db").exists()


@SQLITE_ONLY
def test_shared_options_go_anywhere_and_states_take_any_spelling(alice, stored, tmp_path):
    """Issue 20 #15, #16, #19: options before or after the command, in-review/in_review/"in review", "1 case"."""
    keys_dir, signer = _keyring(tmp_path, [alice.recipient])
    ref, (_, url) = stored["server"], stored["where"]
    after = ("--identity", str(alice.key), "--passphrase-file", str(alice.passphrase), "--db", url)
    for spelling, state in (("in_review", "in review"), ("needs_follow_up", "needs follow-up"),
                            ("In-Review", "in review")):
        run_cli("intake-review", "status", ref, spelling, *after, cwd=tmp_path)
        assert alice.json("show", ref, where=stored["where"])["status"] == state
    mixed = run_cli("intake-review", "--identity", str(alice.key), "--keys-dir", keys_dir, "status", ref,
                    "closed", "--note", "done", "--db", url, "--passphrase-file", str(alice.passphrase),
                    "--signer", signer, cwd=tmp_path)
    assert "note sealed" in mixed.stderr
    listed = alice.run("list", "--status", "closed", where=stored["where"])
    assert listed.stderr == "1 case of 4, 0 not opened\n"
    assert alice.run("list", "--status", "in-review", where=stored["where"]).stderr == "0 cases of 4, 0 not opened\n"
    wrong = alice.run("status", ref, "reviewing", where=stored["where"], check=False)
    assert wrong.returncode == 2
    assert "use one of new, in-review, needs-follow-up, closed, spam" in wrong.stderr
    twice = alice.run("list", "--db", "sqlite:///elsewhere.db", where=stored["where"], check=False)
    assert twice.returncode == 2
    assert "given twice with different values" in twice.stderr
    same = alice.run("list", "--json", "--db", url, where=stored["where"])
    assert len(json.loads(same.stdout)) == 4


def test_forged_and_moved_notes_are_refused(alice, stored, engine, tmp_path):
    """Class 8: whoever writes the database can seal a note to the public keyring, or move one; show refuses both."""
    from intake.crypto.envelope import Sealer
    from intake.review.notes import case_mac, seal_note
    from intake.storage.notes import triage

    keys_dir, signer = _keyring(tmp_path, [alice.recipient])
    genuine = "a reviewer's real note"
    alice.run("status", stored["server"], "in-review", "--note", genuine, "--keys-dir", keys_dir, "--signer", signer,
              where=stored["where"])
    other = store(engine, [alice.recipient])
    with engine.begin() as conn:  # move the genuine note's row to another case
        row = conn.execute(select(notes.c.header, notes.c.body).order_by(notes.c.id).limit(1)).one()  # not custody
    triage(engine, other, "closed", (row.header, row.body))
    forged_fields = {"note": "please close and delete this case", "status": "closed", "by": alice.identity.key_id}
    unbound = Sealer([alice.recipient])
    triage(engine, stored["server"], "closed", (unbound.header(), unbound.body(forged_fields)))
    guessed = Sealer([alice.recipient])
    triage(engine, stored["server"], "closed", (guessed.header(), guessed.body(
        {**forged_fields, "case_mac": case_mac(bytes(32), forged_fields)})))
    elsewhere = seal_note([alice.recipient], "closed", "made for another case", alice.identity.key_id, bytes(32),
                          dt.date.today())
    triage(engine, stored["server"], "closed", elsewhere)
    shown = alice.json("show", stored["server"], where=stored["where"])["notes"]
    assert [n.get("note") for n in shown] == [genuine, None, None, None]
    assert all("not bound to this case" in n["error"] for n in shown[1:])
    assert alice.json("show", other, where=stored["where"])["notes"][0]["error"].startswith("not bound to this case")
    text = alice.run("show", stored["server"], where=stored["where"]).stdout
    assert "please close and delete" not in text


def test_an_old_note_cannot_be_shown_again_as_a_new_one(alice, stored, engine, tmp_path):
    """Red team round 3: a note's day was outside its case_mac, so whoever writes the database could copy an old
    note (or change its day) and show it as written today; its day is now sealed in it (format.md §3)."""
    from sqlalchemy import insert, update

    keys_dir, signer = _keyring(tmp_path, [alice.recipient])
    alice.run("status", stored["server"], "closed", "--note", "the reporter asked us to stop: do not reply",
              "--keys-dir", keys_dir, "--signer", signer, where=stored["where"])
    alice.run("status", stored["server"], "in-review", "--note", "the reporter wrote again: reply now",
              "--keys-dir", keys_dir, "--signer", signer, where=stored["where"])
    with engine.begin() as conn:
        old = conn.execute(select(notes).order_by(notes.c.id)).first()
        later = old.created + dt.timedelta(days=3)
        conn.execute(insert(notes).values(case_id=old.case_id, created=later, header=old.header, body=old.body))
        conn.execute(update(notes).where(notes.c.id == old.id).values(created=old.created - dt.timedelta(days=9)))
    shown = alice.json("show", stored["server"], where=stored["where"])["notes"]
    assert [n.get("note") for n in shown] == [None, "the reporter wrote again: reply now", None]
    assert all("sealed on another day" in shown[i]["error"] for i in (0, 2))
    assert "the reporter asked us to stop" not in alice.run("show", stored["server"], where=stored["where"]).stdout
