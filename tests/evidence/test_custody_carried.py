"""Custody entries made on an air-gapped laptop travel back in the signed replies file (issue 25, docs/review.md
"Custody"): imported with their chain intact, a branch when the server's record went on meanwhile; a forged,
moved, altered or replayed item cannot break or rewrite the server's chain (catalogue 1 and 8). Real CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select, update

from intake.bundle.replies import Reply, append_item, read_replies
from intake.clock import today
from intake.crypto.report import open_report
from intake.evidence.custody import GENESIS, new_entry, read_record, seal_entry
from intake.review.source import BundleSource
from intake.storage.cases import get_case
from intake.storage.notes import case_notes
from intake.storage.schema import notes
from tests.support import run_cli
from tests.support.keytools import Instance
from tests.support.reviewkit import store

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


@pytest.fixture
def site(db_url, tmp_path):
    """An instance with reviewers alice and bob, two cases (one with a file), alice's show of the first on the
    server, and a bundle made after it."""
    inst = Instance(tmp_path, db_url)
    keys = inst.setup("alice", "bob")
    inst.run("init")
    recipients = inst.keyring().recipients()
    refs = [store(inst.engine, recipients, [("photo.jpg", "image/jpeg", PHOTO)] if i == 0 else []) for i in range(2)]
    review(inst, keys["alice"], "show", refs[0])
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))
    return inst, keys, refs, bundle


def review(inst: Instance, key: Path, *args: str, where: tuple[str, ...] = (), replies: Path | None = None,
           check: bool = True):  # noqa: ANN201
    """Run intake-review as a reviewer (on the database unless `where` says a bundle; `replies` as the profile's)."""
    env = {**inst.env, **({"INTAKE_REVIEW_REPLIES": str(replies)} if replies else {})}
    return run_cli("intake-review", "--identity", str(key), "--passphrase-file", str(inst.reviewer_pw),
                   *(where or ("--db", inst.db_url)), *args, "--keys-dir", str(inst.root / "keys"),
                   cwd=inst.root, env=env, check=check)


def custody(inst: Instance, key: Path, ref: str, where: tuple[str, ...] = (), replies: Path | None = None) -> dict:
    """`show --json`'s custody record (the show itself appended)."""
    return json.loads(review(inst, key, "show", ref, "--json", where=where, replies=replies).stdout)["custody"]


def test_laptop_entries_come_back_chained(site, tmp_path) -> None:
    """show, export and status on the bundle seal entries into the replies file, chained after the bundle's record;
    show on the bundle prints them; imported, they follow the bundle's last entry (a branch: the server's record
    went on meanwhile), and the record is intact; imported again, nothing is stored twice."""
    inst, keys, (ref, _), bundle = site
    replies, laptop = tmp_path / "replies.json", ("--bundle", str(bundle))
    review(inst, keys["bob"], "show", ref, where=laptop, replies=replies)
    review(inst, keys["bob"], "export", ref, "--out", str(tmp_path / "exported"), where=laptop, replies=replies)
    review(inst, keys["bob"], "status", ref, "in-review", "--out", str(replies), where=laptop)
    assert [i.kind for i in read_replies(replies)] == ["custody", "custody", "note", "custody"]
    offline = custody(inst, keys["bob"], ref, laptop, replies)
    assert [(e["seq"], e["action"]) for e in offline["entries"]] == [
        (1, "show"), (2, "show"), (3, "export"), (4, "status"), (5, "show")]
    assert offline["intact"], offline["problems"]
    printed = review(inst, keys["bob"], "show", ref, where=laptop, replies=replies).stdout
    assert "custody (6 entries, chain intact" in printed
    bare = review(inst, keys["bob"], "show", ref, where=laptop)  # no replies file: it warns, prints the bundle's
    assert "custody entry not recorded: a bundle is read-only" in bare.stderr
    assert "custody (1 entries, chain intact" in bare.stdout
    review(inst, keys["alice"], "show", ref)  # the server's record goes on meanwhile: its entry 2

    done = inst.run("import-replies", str(replies))
    assert "1 note, 5 custody entries" in done.stderr
    alice, bob = (inst.identity(keys[n]).key_id[:8] for n in ("alice", "bob"))
    server = custody(inst, keys["alice"], ref)
    assert [(e["seq"], e["action"], e["by"][:8]) for e in server["entries"]] == [
        (1, "show", alice), (2, "show", alice), (2, "show", bob), (3, "export", bob), (4, "status", bob),
        (5, "show", bob), (6, "show", bob), (7, "show", alice)]
    assert server["intact"], server["problems"]
    assert server["entries"][2]["prev"] == server["entries"][0]["link"]
    assert len(server["branches"]) == 1
    assert "entry 3 continues entry 1, not entry 2" in server["branches"][0]
    assert "~ entry 3 continues entry 1" in review(inst, keys["alice"], "show", ref).stdout
    again = inst.run("import-replies", str(replies))
    assert "(6 were already stored)" in again.stderr


def _case_key(inst: Instance, key: Path, ref: str) -> bytes:
    case = get_case(inst.engine, ref)
    return open_report(case.header, case.body, len(case.lengths), [inst.identity(key)]).opened.report_key


def _carry(inst: Instance, key: Path, bundle: Path, path: Path, ref: str, entry: dict, case_key: bytes,
           day: str | None = None) -> None:
    """Seal a custody entry with `case_key` into a replies file as an item of case `ref`, authenticated by `key`."""
    header, body = seal_entry(inst.keyring().recipients(), entry, case_key)
    source = BundleSource(bundle)
    append_item(path, source.import_key, [inst.identity(key)],
                Reply(ref, "", header, body, b"", b"", kind="custody", day=day or str(entry["day"])))
    source.close()


def test_hostile_replies_files_cannot_break_the_servers_chain(site, tmp_path) -> None:
    """Adversary (a reviewer's file altered in transit, or a reviewer key misused): an item moved to another case or
    redated is refused whole; an entry for another case or with a forged chain is stored but named by every reader
    while the server's entries stay whole; a replay, even after a rewrap changed the stored headers, stores nothing."""
    inst, keys, (ref, other), bundle = site
    replies, laptop = tmp_path / "replies.json", ("--bundle", str(bundle))
    review(inst, keys["bob"], "show", ref, where=laptop, replies=replies)
    data = json.loads(replies.read_text())
    for member, value in (("ref", other), ("day", (today() - dt.timedelta(days=3)).isoformat())):
        altered = tmp_path / f"altered-{member}.json"
        altered.write_text(json.dumps({**data, "replies": [{**data["replies"][0], member: value}]}))
        refused = inst.run("import-replies", str(altered), check=False)
        assert refused.returncode != 0
        assert "a custody entry of case" in refused.stderr
        assert "not authenticated" in refused.stderr
    assert len(case_notes(inst.engine, get_case(inst.engine, ref).id)) == 1
    inst.run("import-replies", str(replies))

    # a reviewer key misused: an entry of case `ref` (its key) filed under `other`, and one with a forged chain
    key_of_ref = _case_key(inst, keys["bob"], ref)
    record = read_record(case_notes(inst.engine, get_case(inst.engine, ref).id), [inst.identity(keys["bob"])],
                         key_of_ref)
    hostile = tmp_path / "hostile.json"
    moved = new_entry(record, "show", "x", today(), {})
    _carry(inst, keys["bob"], bundle, hostile, other, moved, key_of_ref)
    forged = {**new_entry(record, "export", "x", today(), {}), "prev": os.urandom(32).hex(), "seq": 2}
    _carry(inst, keys["bob"], bundle, hostile, ref, forged, key_of_ref)
    inst.run("import-replies", str(hostile))
    server = custody(inst, keys["alice"], ref)
    assert [e["action"] for e in server["entries"]][:2] == ["show", "show"]  # the server's and the laptop's, whole
    assert server["entries"][1]["prev"] == server["entries"][0]["link"]
    assert any("entry 3 (sealed as number 2) does not follow" in p for p in server["problems"])
    elsewhere = custody(inst, keys["alice"], other)
    assert any("not bound to this case" in p for p in elsewhere["problems"])
    assert [e["action"] for e in elsewhere["entries"]] == ["show"]  # only alice's own show of it, just now
    assert elsewhere["entries"][0]["prev"] == GENESIS

    # replay: the same file again, and again after a rewrap replaced the headers of the stored entries
    rows = len(case_notes(inst.engine, get_case(inst.engine, ref).id))
    assert "(1 was already stored)" in inst.run("import-replies", str(replies)).stderr
    with inst.engine.begin() as conn:
        for row in conn.execute(select(notes.c.id)).all():
            conn.execute(update(notes).where(notes.c.id == row.id).values(header=os.urandom(300)))
    assert "(1 was already stored)" in inst.run("import-replies", str(replies)).stderr
    assert len(case_notes(inst.engine, get_case(inst.engine, ref).id)) == rows
