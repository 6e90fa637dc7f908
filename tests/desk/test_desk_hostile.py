"""A stranger's text in the desk: escapes, bidi controls, Textual/Rich markup, 20,000-character words and Zawgyi
stay inert (Pilot on real sealed cases, and the real `intake-review desk` on a pseudo-terminal)."""

from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import time

from rich.cells import cell_len
from textual.geometry import Region

from intake.desk.listview import CaseList
from intake.review.names import unsafe
from tests.support import BIN
from tests.support.deskkit import FOLLOW_UP, HOSTILE, SIZE, World, drive, pane, settle


def world_with_hostile(tmp_path) -> tuple[World, str]:
    world = World.make(tmp_path, 2, photos=0)
    ref = world.add(HOSTILE)
    world.follow_up(ref, FOLLOW_UP)
    return world, ref


def strips_of(widget) -> list:
    """The rows a widget draws, as Textual's compositor gets them."""
    return widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))


def assert_inert(strips) -> None:
    """No drawn character may drive the terminal, and no style came from a stranger's markup."""
    for strip in strips:
        for segment in strip:
            assert not any(unsafe(c) for c in segment.text), repr(segment.text)
            style = segment.style
            if style is not None:
                assert not (style.meta or {}).get("@click"), style.meta
                assert style.link is None


def test_hostile_text_is_inert_in_the_desk(tmp_path):
    world, ref = world_with_hostile(tmp_path)

    async def steps(app, pilot) -> None:
        cases = app.query_one(CaseList)
        row = cases.row(cases.refs.index(ref))
        assert not any(unsafe(c) for c in row)
        for cut in ("drone[bold red]…", "[@click…", "\\u2…", "look \\x1b]0;pwned\\x07 here"):
            assert f" {cut}" in row  # each value escaped and cut to its column: never a 20,000-cell column
        assert len(row) == cases.row_width
        await pilot.press(*["down"] * cases.refs.index(ref), "enter")
        await settle(app, pilot)
        body = app.query_one("#body")
        content = body.render()
        assert content.spans == []
        text = content.plain
        unfolded = pane(app)  # each row cut at the pane's width goes on behind the gutter
        for shown in ("[@click=app.quit]quit[/]", "[red]red[/red]", "\\x1b]0;pwned\\x07", "\\x1b[2J", "\\x9b31m",
                      "\\u202eevil\\u202c", "</text><script>", "[probably Zawgyi]", "my answer \\x1b[31m"):
            assert shown in unfolded
        width = app.query_one("#case").scrollable_content_region.width
        rows = text.split("\n")
        assert all(cell_len(row) <= width for row in rows)
        assert body.size.height == len(rows)  # Textual wrapped none of them again
        assert sum("A" in row for row in rows) >= 20_000 // width  # the long word folded, not cut off
        assert [row for row in rows if "reviewer: " in row and not row.startswith("    | ")] == []
        assert_inert(strips_of(body))
        assert_inert(strips_of(cases))
        await pilot.click("#body", offset=(10, 12))  # where a [@click=...] would sit, were it markup
        await pilot.click(CaseList, offset=(60, 1 + cases.refs.index(ref)))
        await settle(app, pilot)
        assert app.is_running
        svg = app.export_screenshot()
        assert "<script" not in svg
        assert "\x1b" not in svg
        assert "\u202e" not in svg

    drive(world.app(), steps)


def _read(fd: int, until: bytes, seconds: float, seen: bytearray) -> None:
    deadline = time.monotonic() + seconds
    while until not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                return


def test_the_real_desk_on_a_terminal_sends_no_hostile_byte(tmp_path):
    """`intake-review desk` in a real pseudo-terminal: what reaches the terminal holds none of the stranger's
    escapes or bidi controls, and the desk quits on q."""
    import fcntl
    import pty
    import termios

    world, ref = world_with_hostile(tmp_path)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "INTAKE_KEYS_DIR": str(world.keys_dir),
           "INTAKE_SIGNER": world.signer}
    command = [str(BIN / "intake-review"), "--identity", str(world.reviewer.key), "--passphrase-file",
               str(world.reviewer.passphrase), "--db", world.url, "desk", "--search", f"province:{HOSTILE['province']}"]
    desk = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path, env=env,
                            start_new_session=True)
    os.close(slave)
    seen = bytearray()
    try:
        _read(master, ref.encode(), 60, seen)
        assert ref.encode() in seen, bytes(seen[-2000:])
        os.write(master, b"\r")
        _read(master, b"description: look", 30, seen)
        assert b"description: look" in seen  # the case is drawn
        os.write(master, b"q")
        assert desk.wait(timeout=30) == 0
    finally:
        if desk.poll() is None:
            os.killpg(desk.pid, signal.SIGKILL)
            desk.wait()
        _read(master, b"\x00never", 1, seen)
        os.close(master)
    for raw in (b"\x1b]0;pwned", b"\x07 here", "\x9b".encode(), "\u202e".encode(), "\u2067".encode(),
                b"\x1b[2J\x1b[H \x9b"):
        assert raw not in seen, raw
