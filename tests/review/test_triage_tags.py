"""intake-review tag, and tags, statuses and notes carried from a bundle in the signed replies file (real CLI)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, insert, select, update

from intake.bundle.replies import read_replies
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.keys import Identity
from intake.crypto.report import seal_report
from intake.review.notes import seal_tags
from intake.storage.cases import get_case
from intake.storage.schema import cases, messages, notes
from intake.storage.threads import salt
from tests.support import run_cli
from tests.support.canary import hits, new_canary
from tests.support.keytools import Instance
from tests.support.reviewkit import store
from tests.support.storage import store_case

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


@pytest.fixture
def site(db_url, tmp_path):
    """An instance with reviewers alice and bob, two stored cases sealed to its keyring, a bundle of them."""
    inst = Instance(tmp_path, db_url)
    keys = inst.setup("alice", "bob")
    inst.run("init")
    recipients = inst.keyring().recipients()
    refs = [store(inst.engine, recipients, fields={"incident_type": "drone", "description": f"case {i}"})
            for i in range(2)]
    return inst, keys, refs


def review(inst: Instance, key, *args: str, where: tuple[str, ...] = (), check: bool = True):
    """Run intake-review as a reviewer of the instance (on its database unless `where` says a bundle)."""
    return run_cli("intake-review", "--identity", str(key), "--passphrase-file", str(inst.reviewer_pw),
                   *(where or ("--db", inst.db_url)), *args, "--keys-dir", str(inst.root / "keys"),
                   cwd=inst.root, env=inst.env, check=check)


def shown(inst: Instance, key, ref: str, where: tuple[str, ...] = ()) -> dict:
    """`show --json` of a case."""
    return json.loads(review(inst, key, "show", ref, "--json", where=where).stdout)


def test_tags_are_sealed_shown_and_refused_when_hostile(site) -> None:
    """tag adds and removes; show and list print the tags; the database holds no tag name; bad tags are refused."""
    inst, keys, (ref, other) = site
    secret = new_canary("tag")[:30].lower()
    review(inst, keys["alice"], "tag", ref.lower().replace("-", ""), "Drone", secret, "ដ្រូន")
    review(inst, keys["bob"], "tag", ref, "protest", "--remove", "drone")
    data = shown(inst, keys["bob"], ref)
    assert data["tags"] == sorted(["protest", secret, "ដ្រូន"])
    assert all("error" not in change for change in data["tag_changes"])
    assert data["notes"] == []
    assert hits([inst.root / "instance", inst.root / "intake.db"], [secret]) == []
    listed = json.loads(review(inst, keys["alice"], "list", "--json", "--tag", "PROTEST").stdout)
    assert [row["id"] for row in listed] == [ref]
    table = review(inst, keys["alice"], "show", ref).stdout
    assert "protest ដ្រូន" in table
    for bad, why in (("a\x1b[31mred", "control"), ("bi\u202edi", "control"), ("two words", "' '"),
                     ("x" * 41, "at most 40")):
        refused = review(inst, keys["alice"], "tag", other, bad, check=False)
        assert refused.returncode == 2, refused.stderr
        assert why in refused.stderr
        assert "\x1b" not in refused.stderr
        assert "\u202e" not in refused.stderr
    assert shown(inst, keys["alice"], other)["tags"] == []


def test_forged_and_moved_tag_entries_are_refused(site) -> None:
    """A tag entry written into the database by its writer (sealed to the keyring) or moved from another case is
    refused by every reader, and a replayed old entry does not bring a removed tag back (catalogue 8)."""
    inst, keys, (ref, other) = site
    review(inst, keys["alice"], "tag", ref, "real")
    review(inst, keys["alice"], "tag", ref, "--remove", "real")
    with inst.engine.begin() as conn:
        ids = dict(conn.execute(select(cases.c.ref, cases.c.id)).all())
        rows = conn.execute(select(notes.c.created, notes.c.header, notes.c.body).order_by(notes.c.id)).all()
        forged = seal_tags(inst.keyring().recipients(), ["forged"], [], "x", Identity.generate().secret_key,
                           rows[0].created.isoformat(), 9)
        conn.execute(insert(notes), [
            {"case_id": ids[ref], "created": rows[0].created, "header": forged[0], "body": forged[1]},
            {"case_id": ids[other], "created": rows[0].created, "header": rows[0].header, "body": rows[0].body},
            {"case_id": ids[ref], "created": rows[0].created, "header": rows[0].header, "body": rows[0].body}])
    data = shown(inst, keys["bob"], ref)
    assert data["tags"] == []
    assert sum(1 for c in data["tag_changes"] if c.get("error", "").startswith("not bound")) == 1
    moved = shown(inst, keys["bob"], other)
    assert moved["tags"] == []
    assert moved["tag_changes"][0]["error"].startswith("not bound")
    listed = json.loads(review(inst, keys["bob"], "list", "--json", "--tag", "forged").stdout)
    assert listed == []


def test_bundle_tags_status_and_note_reach_the_server(site, tmp_path) -> None:
    """Tags, a status and a note made from a bundle travel in the signed replies file; importing it twice stores
    them once; an altered item refuses the whole file; a state changed on the server since is kept (fresh)."""
    inst, keys, (ref, other) = site
    bundle, replies = tmp_path / "cases.bundle", tmp_path / "replies.json"
    inst.run("export-sealed", "--out", str(bundle))
    on_bundle = ("--bundle", str(bundle))
    note = new_canary("note")
    refused = review(inst, keys["bob"], "tag", ref, "x", where=on_bundle, check=False)
    assert refused.returncode != 0
    assert "--out FILE" in refused.stderr
    review(inst, keys["bob"], "tag", ref, "airgap", "ဒရုန်း", "--out", str(replies), where=on_bundle)
    review(inst, keys["bob"], "status", ref, "in-review", "--note", note, "--out", str(replies), where=on_bundle)
    review(inst, keys["bob"], "status", other, "closed", "--out", str(replies), where=on_bundle)
    assert hits([replies, bundle], [note, "airgap"]) == []
    with inst.engine.begin() as conn:  # someone on the server moved the other case on since the bundle
        conn.execute(update(cases).where(cases.c.ref == other).values(status="spam"))

    altered = tmp_path / "altered.json"
    data = json.loads(replies.read_text())
    data["replies"][1]["state"] = "spam"
    altered.write_text(json.dumps(data))
    bad = inst.run("import-replies", str(altered), check=False)
    assert bad.returncode != 0
    assert "not authenticated" in bad.stderr
    assert get_case(inst.engine, ref).status == "new"

    done = inst.run("import-replies", str(replies))
    assert "stored 0 replies, 2 notes, 1 tag change, 2 custody entries (0 were already stored)" in done.stderr
    assert "kept 'spam', not 'closed'" in done.stderr
    server = shown(inst, keys["alice"], ref)
    assert server["tags"] == sorted(["airgap", "ဒရုန်း"])
    assert server["status"] == "in review"
    assert [(n["status"], n["note"]) for n in server["notes"]] == [("in review", note)]
    assert get_case(inst.engine, other).status == "spam"
    again = inst.run("import-replies", str(replies))
    assert "stored 0 replies (5 were already stored)" in again.stderr
    assert [i.kind for i in read_replies(replies)] == ["tags", "note", "custody", "note", "custody"]
    with inst.engine.begin() as conn:  # a rollback: the state moves on, then the old file comes back
        conn.execute(update(cases).where(cases.c.ref == ref).values(status="closed"))
    inst.run("import-replies", str(replies))
    assert get_case(inst.engine, ref).status == "closed"


def test_a_profile_makes_commands_short_and_names_reviewers(site, tmp_path) -> None:
    """With review.toml in XDG_CONFIG_HOME (or INTAKE_REVIEW_* settings), tag, status, reply and show need only the
    case; notes and tag changes name their reviewer from the verified keyring beside the key id."""
    inst, keys, (ref, other) = site
    config = tmp_path / "config"
    (config / "intake").mkdir(parents=True)
    (config / "intake" / "review.toml").write_text(
        f'identity = ["{keys["alice"]}"]\npassphrase_file = "{inst.reviewer_pw}"\ndb = "{inst.db_url}"\n'
        f'keys_dir = "{inst.root / "keys"}"\nsigner = "{inst.env["INTAKE_KEYRING_SIGNER"]}"\n')
    env = {"XDG_CONFIG_HOME": str(config), "INTAKE_DATABASE_URL": "", "INTAKE_KEYS_DIR": ""}

    def short(*args: str, check: bool = True, extra: dict[str, str] | None = None):
        return run_cli("intake-review", *args, cwd=tmp_path, env={**env, **(extra or {})}, check=check)

    short("tag", ref, "short")
    short("status", ref, "in-review", "--note", "looked")
    reporter = derive_keys(make_codename(), salt(inst.engine))
    recipients = inst.keyring().recipients()
    sealed = seal_report(recipients, {"incident_type": "cctv", "description": "a camera"},
                         reply_key=str(reporter.identity.recipient))
    asked = store_case(inst.engine, sealed.header, sealed.body, "browser", [r.key_id for r in recipients], [])
    short("reply", asked, "--text", "Which street?")
    with inst.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(messages)) == 1
    data = json.loads(short("show", ref, "--json").stdout)
    assert data["tags"] == ["short"]
    assert data["notes"][0]["by_name"] == "alice"
    assert data["tag_changes"][0]["by_name"] == "alice"
    assert f"by alice ({inst.identity(keys['alice']).key_id[:16]})" in short("show", ref).stdout
    bundle, replies = tmp_path / "cases.bundle", tmp_path / "replies.json"
    inst.run("export-sealed", "--out", str(bundle))
    on_bundle = {"INTAKE_REVIEW_BUNDLE": str(bundle), "INTAKE_REVIEW_REPLIES": str(replies),
                 "INTAKE_REVIEW_IDENTITY": str(keys["bob"])}
    with pytest.raises(AssertionError, match="both a database and a bundle"):
        short("list", extra=on_bundle)
    (config / "intake" / "review.toml").write_text(
        f'passphrase_file = "{inst.reviewer_pw}"\nkeys_dir = "{inst.root / "keys"}"\n'
        f'signer = "{inst.env["INTAKE_KEYRING_SIGNER"]}"\n')
    short("tag", other, "offline", extra=on_bundle)
    assert [i.kind for i in read_replies(replies)] == ["tags"]
    typed = short("list", "--json", "--db", inst.db_url, "--tag", "short", extra=on_bundle)  # typed wins
    assert [row["id"] for row in json.loads(typed.stdout)] == [ref]
    (config / "intake" / "review.toml").write_text('identity = 3\n')
    broken = short("list", check=False)
    assert broken.returncode == 1
    assert "identity is a file name or a list of them" in broken.stderr
