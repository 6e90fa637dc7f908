"""The desk on a sealed bundle (air-gapped): read-only, said so; a state, a note, tags and a reply go into the
signed replies file, never into the bundle, and reach the server's database through `intake import-replies`."""

from __future__ import annotations

from intake.bundle.replies import import_identity, read_replies
from intake.bundle.write import export_sealed
from intake.desk.listview import CaseList
from intake.triage.records import open_records
from tests.support import run_cli
from tests.support.deskkit import World, drive, pane, settle, typed


def test_a_bundle_is_read_only_and_a_reply_goes_into_the_replies_file(tmp_path):
    world = World.make(tmp_path, 3, photos=1)
    world.follow_up(world.refs[1], "they came back today")
    bundle = tmp_path / "cases.bundle"
    instance = tmp_path / "instance"
    export_sealed(world.engine, bundle, import_key=import_identity(instance).recipient)  # as `intake export-sealed`
    before = bundle.read_bytes()
    replies = tmp_path / "replies.json"

    async def without_out(app, pilot) -> None:
        assert "read-only" in app.sub_title
        assert "start with --out FILE" in app.sub_title
        await pilot.press("r")
        await typed(pilot, "which street?")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert [n.message for n in app._notifications] == [
            "a bundle is read-only: a reply from it goes into a replies file; add --out FILE, then carry FILE to the "
            "server for `intake import-replies FILE`"]

    drive(world.app(bundle), without_out)

    async def steps(app, pilot) -> None:
        assert app.sub_title == f"bundle cases.bundle (read-only: changes go into {replies})"
        cases = app.query_one(CaseList)
        assert sorted(cases.refs) == sorted(world.refs)
        row = cases.refs.index(world.refs[1])
        assert cases.row(row).split()[1] == "new"  # the reporter's follow-up, unread when exported
        await pilot.press(*["down"] * row, "enter")
        await settle(app, pilot)
        assert "reporter: they came back today" in pane(app)
        await pilot.press("r")
        await typed(pilot, "which street?")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert f"case {world.refs[1]}: reply sealed into {replies}" in str(app.query_one("#said").render())
        await pilot.press("s", "down", "down", "enter")
        await settle(app, pilot)
        await pilot.press("t")
        await typed(pilot, "drone witness-x7")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("n")
        await typed(pilot, "the street is near the market")
        await pilot.press("enter")
        await settle(app, pilot)
        assert f"sealed into {replies}" in str(app.query_one("#said").render())
        assert list(app._notifications) == []

    drive(world.app(bundle, replies), steps)
    items = read_replies(replies)
    assert [(item.ref, item.kind, item.state) for item in items] == [
        (world.refs[1], "reply", None), (world.refs[1], "note", "needs follow-up"), (world.refs[1], "tags", None),
        (world.refs[1], "note", "new")]  # the note keeps the state of the bundle as it was made
    assert bundle.read_bytes() == before
    for secret in (b"which street?", b"the street is near", b"witness-x7"):
        assert secret not in replies.read_bytes()
    done = run_cli("intake", "import-replies", str(replies), cwd=tmp_path,
                   env={"INTAKE_DATABASE_URL": world.url, "INTAKE_KEYS_DIR": str(world.keys_dir),
                        "INTAKE_KEYRING_SIGNER": world.signer, "INTAKE_INSTANCE": str(instance)},
                   check=False)
    assert done.returncode == 0, done.stderr
    record = next(r for r in open_records(world.session()) if r.ref == world.refs[1])
    assert (record.status, record.tags) == ("needs follow-up", ("drone", "witness-x7"))
    assert [n["note"] for n in record.notes if n.get("note")] == ["the street is near the market"]
    assert [m["text"] for m in record.thread] == ["they came back today", "which street?"]
