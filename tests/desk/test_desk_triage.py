"""The desk on real sealed cases in a real SQLite file, driven by Textual's Pilot: a reviewer triages 20 cases."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input

from intake.desk.listview import CaseList
from intake.triage.records import open_records
from tests.support import run_cli
from tests.support.deskkit import TYPES, World, drive, fields_of, pane, settle, typed

STATES = ("new", "in review", "needs follow-up", "closed", "spam")


def shown(app) -> list[str]:
    """The references the list shows, top to bottom."""
    return list(app.query_one(CaseList).refs)


@pytest.mark.slow
def test_a_reviewer_triages_twenty_cases(tmp_path, monkeypatch):
    """Filters, search, then status, tags, a note and a reply on each of 20 cases, with one unlock in all."""
    from intake.crypto import keyfile

    world = World.make(tmp_path, 20)
    unlocks = []
    real_unlock = keyfile.unlock_identity
    monkeypatch.setattr(keyfile, "unlock_identity", lambda *a: unlocks.append(1) or real_unlock(*a))
    refs = world.refs
    drones_in_phnom_penh = {ref for i, ref in enumerate(refs) if i % 5 == 0}  # type drone and KH-12 go together

    async def steps(app, pilot) -> None:
        assert sorted(shown(app)) == sorted(refs)
        assert "20 cases of 20" in str(app.query_one("#count").render())
        await pilot.press("slash")
        await typed(pilot, "type:drone province:kh-12")
        await pilot.press("enter")
        assert set(shown(app)) == drones_in_phnom_penh
        await pilot.press("slash")
        await typed(pilot, "ဆန္ဒပြပွဲ")  # Burmese, as written: every case of MM-06
        await pilot.press("enter")
        assert set(shown(app)) == {ref for i, ref in enumerate(refs) if i % 5 == 1}
        await pilot.press("slash")
        await typed(pilot, "status:closed")
        await pilot.press("enter")
        assert shown(app) == []
        await pilot.press("slash", "backspace", "enter")  # the line was selected: emptied, every case again
        assert app.query_one(Input).value == ""
        order = shown(app)
        assert sorted(order) == sorted(refs)
        for row, ref in enumerate(order):
            i = refs.index(ref)
            if row:
                await pilot.press("down")
            await pilot.press("enter")
            await settle(app, pilot)
            body = pane(app)
            assert f"case {ref}" in body
            assert fields_of(i)["location"] in body
            await pilot.press("s")
            await pilot.press(*["down"] * (1 + i % 4), "enter")  # from "new": in review ... spam
            await settle(app, pilot)
            await pilot.press("t")
            await typed(pilot, f"{TYPES[i % 5]}-seen batch-{i % 3}")
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.press("n")
            await typed(pilot, f"note on report {i}")
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.press("r")
            await typed(pilot, f"thank you for report {i}")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            body = pane(app)
            assert f"note on report {i}" in body
            assert f"reviewer: thank you for report {i}" in body
        await pilot.press("slash")
        await typed(pilot, "tag:batch-1 status:spam")
        await pilot.press("enter")
        assert set(shown(app)) == {ref for i, ref in enumerate(refs) if i % 3 == 1 and i % 4 == 3}

    drive(world.app(), steps)
    assert len(unlocks) == 1  # the identity is unlocked once for the whole session
    records = {r.ref: r for r in open_records(world.session())}
    for i, ref in enumerate(refs):
        record = records[ref]
        assert record.status == STATES[1 + i % 4]
        assert record.tags == tuple(sorted({f"{TYPES[i % 5]}-seen", f"batch-{i % 3}"}))
        assert [n.get("note") for n in record.notes] == [f"note on report {i}"]
        assert [(m["from"], m.get("text")) for m in record.thread] == [("reviewer", f"thank you for report {i}")]
    # the command line sees what the desk did, in a real process
    listed = world.reviewer.run("list", "--json", "--tag", "batch-2", "--status", "closed", where=("--db", world.url))
    assert sorted(row["id"] for row in json.loads(listed.stdout)) == sorted(r for i, r in enumerate(refs)
                                                                            if i % 3 == 2 and i % 4 == 2)


def test_export_and_errors_from_single_keys(tmp_path):
    world = World.make(tmp_path, 2, photos=1)
    out = tmp_path / "handed-on"

    async def steps(app, pilot) -> None:
        first = world.refs[0]  # the one with a photo
        await pilot.press(*["down"] * shown(app).index(first))
        await pilot.press("e")
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, str(out))
        await pilot.press("enter")
        await settle(app, pilot)
        assert f"exported case {first} into {out}" in str(app.query_one("#said").render())
        await pilot.press("e")
        await pilot.press("ctrl+a", "ctrl+k")
        await typed(pilot, str(out))
        await pilot.press("enter")
        await settle(app, pilot)
        assert [n.message for n in app._notifications] == [f"{out} already holds a report.json; export each case "
                                                           "into its own empty folder"]
        await pilot.press("t")
        await typed(pilot, "bad!tag")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "a tag may hold letters" in list(app._notifications)[-1].message
        await pilot.press("slash")
        await typed(pilot, "since:yesterday")
        await pilot.press("enter")
        assert "since:yesterday is not a day: write it YYYY-MM-DD" in list(app._notifications)[-1].message
        assert len(shown(app)) == 2

    drive(world.app(), steps)
    report = json.loads((out / "report.json").read_text())
    assert report["attachments"][0]["metadata_count"] > 0  # the photo's GPS was found, and cleaned out
    assert b"Canon" not in (out / report["attachments"][0]["file"]).read_bytes()


def test_the_desk_needs_a_terminal(tmp_path):
    world = World.make(tmp_path, 1, photos=0)
    done = run_cli("intake-review", "--identity", str(world.reviewer.key), "--passphrase-file",
                   str(world.reviewer.passphrase), "--db", world.url, "desk", cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert "intake-review: the desk needs a terminal; in a script, use list, show" in done.stderr
