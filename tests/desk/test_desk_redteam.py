"""The red team's desk (rt-desk): a stranger's file names, a damaged message, a hostile keyring, a bundle's name and
a huge search line, each against the real desk on real sealed cases (Textual's headless Pilot)."""

from __future__ import annotations

import nacl.signing
from textual.geometry import Region
from textual.widgets import Input

from intake.desk.listview import CaseList
from intake.keys.keyring import KeyEntry, Keyring, save_keyring
from intake.review.names import unsafe
from intake.storage.cases import get_case
from intake.storage.threads import add_message
from tests.support.deskkit import MARKUP, World, drive, pane, settle, typed
from tests.support.reviewkit import jpeg_with_gps

NAME = f"../../{MARKUP}\x1b]52;c;cHduZWQ=\x07\u202egpj.jpg"


def inert(widget) -> None:
    """Nothing the widget draws can drive the terminal, and no style came from a stranger's markup."""
    for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
        for segment in strip:
            assert not any(unsafe(c) for c in segment.text), repr(segment.text)
            if segment.style is not None:
                assert not (segment.style.meta or {}).get("@click"), segment.style.meta
                assert segment.style.link is None


async def open_row(app, pilot, ref: str) -> None:
    cases = app.query_one(CaseList)
    await pilot.press("home", *["down"] * cases.refs.index(ref), "enter")
    await settle(app, pilot)


def test_a_hostile_file_name_is_inert_and_its_export_stays_in_the_folder(tmp_path):
    world = World.make(tmp_path, 1, photos=0)
    ref = world.add({"description": "see the photo"}, [(NAME, "image/jpeg", jpeg_with_gps())])
    out = tmp_path / "out" / "case"
    (tmp_path / "out").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())

    async def steps(app, pilot) -> None:
        await open_row(app, pilot, ref)
        assert "\\x1b]52;c;cHduZWQ=\\x07" in pane(app)
        assert "[@click=app.quit]quit[/]" in pane(app)
        inert(app.query_one("#body"))
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.is_running
        inert(app.query_one("#said"))

    drive(world.app(), steps)
    made = [p for p in out.rglob("*")]
    assert made, "the export wrote nothing"
    assert all(p.resolve().is_relative_to(out.resolve()) for p in made)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing beside the folder's parent
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["case"]
    assert not any(unsafe(c) or c == "/" for p in made for c in p.name)


def test_a_damaged_message_leaves_the_rest_of_the_desk_usable(tmp_path):
    world = World.make(tmp_path, 3, photos=0)
    bad = world.refs[1]
    add_message(world.engine, get_case(world.engine, bad).id, "reporter", b"\x00junk header", b"junk body")

    async def steps(app, pilot) -> None:
        cases = app.query_one(CaseList)
        assert sorted(cases.refs) == sorted(world.refs)
        await open_row(app, pilot, bad)
        assert app.is_running
        await open_row(app, pilot, world.refs[0])
        assert "(report 0)" in pane(app)
        await open_row(app, pilot, world.refs[2])
        assert "(report 2)" in pane(app)

    drive(world.app(), steps)


def test_a_note_is_never_sealed_to_a_keyring_the_pinned_signer_did_not_sign(tmp_path):
    world = World.make(tmp_path, 1, photos=0)
    mallory = World.make(tmp_path / "mallory", 0).reviewer
    forged = tmp_path / "forged-keys"
    save_keyring(forged, Keyring((KeyEntry("alice", world.reviewer.recipient), KeyEntry("m", mallory.recipient))),
                 nacl.signing.SigningKey.generate())
    from intake.desk.app import DeskApp
    from intake.desk.cases import Desk

    async def steps(app, pilot) -> None:
        await pilot.press("n")
        await typed(pilot, "the organiser lives on street 5")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app._notifications, "a note was sealed to a keyring the pinned signer never signed"

    drive(DeskApp(Desk(world.session(), forged, world.signer)), steps)
    from intake.triage.records import open_records

    record = open_records(world.session())[0]
    assert [n for n in record.notes if n.get("note")] == []


def test_a_bundle_named_with_markup_stays_plain_in_the_title(tmp_path):
    from intake.bundle.replies import import_identity
    from intake.bundle.write import export_sealed

    world = World.make(tmp_path, 1, photos=0)
    bundle = tmp_path / "[@click=app.quit]x[link=https:__e.org]y.bundle"
    export_sealed(world.engine, bundle, import_key=import_identity(tmp_path / "instance").recipient)

    async def steps(app, pilot) -> None:
        assert "[@click=app.quit]" in app.sub_title
        from textual.widgets import Header

        header = app.query_one(Header)
        inert(header)
        await pilot.click(Header, offset=(60, 0))
        await settle(app, pilot)
        assert app.is_running

    drive(world.app(bundle), steps)


def test_a_huge_search_line_is_answered(tmp_path):
    world = World.make(tmp_path, 3, photos=0)

    async def steps(app, pilot) -> None:
        await pilot.press("slash")
        await typed(pilot, "report " * 30_000 + "(.*)+$ [a-z]{1,99999} \\" + "x" * 20_000)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.is_running
        assert app.query_one(CaseList).refs == []
        await pilot.press("slash")
        app.query_one("#query", Input).value = "(report"
        await pilot.press("enter")
        await settle(app, pilot)
        assert len(app.query_one(CaseList).refs) == 3

    drive(world.app(), steps)


def test_a_slow_case_opened_before_never_covers_the_case_opened_after(tmp_path):
    """Enter on a slow case (large files checked), then on another: the pane ends on the one chosen last, the one
    under the cursor that the single keys act on, never the slow one arriving late."""
    import threading

    world = World.make(tmp_path, 2, photos=0)
    slow, quick = world.refs
    app = world.app()
    opening, release = app.desk.open, threading.Event()

    def open_case(ref: str):
        if ref == slow:
            release.wait(20)
        return opening(ref)

    app.desk.open = open_case

    async def steps(app, pilot) -> None:
        cases = app.query_one(CaseList)
        await pilot.press("home", *["down"] * cases.refs.index(slow), "enter")
        await pilot.pause()
        await pilot.press("home", *["down"] * cases.refs.index(quick), "enter")
        await pilot.pause(0.5)
        release.set()
        await settle(app, pilot)
        await pilot.pause(0.3)
        assert cases.current == quick
        assert app.opened.ref == quick
        assert "(report 1)" in pane(app)

    drive(app, steps)


def test_a_change_ending_late_never_reopens_its_case_over_the_one_chosen_since(tmp_path):
    import threading

    world = World.make(tmp_path, 2, photos=0)
    first, second = world.refs
    app = world.app()
    noting, release = app.desk.add_note, threading.Event()
    opening, opened = app.desk.open, threading.Event()

    def add_note(ref: str, text: str) -> None:
        release.wait(20)
        noting(ref, text)

    def open_case(ref: str):
        if ref == second:
            opened.wait(20)
        return opening(ref)

    app.desk.add_note, app.desk.open = add_note, open_case

    async def steps(app, pilot) -> None:
        cases = app.query_one(CaseList)
        await open_row(app, pilot, first)
        await pilot.press("n")
        await typed(pilot, "a note")
        await pilot.press("enter")
        await pilot.press("home", *["down"] * cases.refs.index(second), "enter")
        await pilot.pause(0.3)
        release.set()  # the note ends while the second case is still opening
        await pilot.pause(1)
        opened.set()
        await settle(app, pilot)
        await pilot.pause(0.3)
        assert (cases.current, app.opened.ref) == (second, second)
        assert "(report 1)" in pane(app)

    drive(app, steps)
