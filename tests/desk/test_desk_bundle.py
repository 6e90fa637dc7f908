"""The desk on a sealed bundle (air-gapped): read-only, said so; a reply goes into the replies file, never into
the bundle."""

from __future__ import annotations

from intake.bundle.replies import read_replies
from intake.bundle.write import export_sealed
from intake.crypto.keys import Identity
from intake.desk.listview import CaseList
from tests.support.deskkit import World, drive, pane, settle, typed


def test_a_bundle_is_read_only_and_a_reply_goes_into_the_replies_file(tmp_path):
    world = World.make(tmp_path, 3, photos=1)
    world.follow_up(world.refs[1], "they came back today")
    bundle = tmp_path / "cases.bundle"
    export_sealed(world.engine, bundle, import_key=Identity.generate().recipient)
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

    drive(world.app(bundle, replies), steps)
    assert [reply.ref for reply in read_replies(replies)] == [world.refs[1]]
    assert bundle.read_bytes() == before
    assert b"which street?" not in replies.read_bytes()
