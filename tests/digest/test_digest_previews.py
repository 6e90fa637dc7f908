"""The digest's preview helper: a hostile photo is one "no preview", and nothing it makes print reaches a terminal."""

from __future__ import annotations

import os

from intake.review.sandbox import Previews
from tests.support.photos import plain_jpeg, terminal_hostile


def test_preview_helper_has_no_terminal_and_speaks_only_through_its_pipe():
    """The helper's stderr is /dev/null and it leads its own session (no /dev/tty to open); photos made of terminal
    escapes, a bomb and a cut JPEG are each "no preview", and the next good photo still gets its JPEG."""
    hostile = terminal_hostile()
    with Previews() as previews:
        answers = [previews.make(data, kind) for kind, data in hostile]
        server = previews.server
        assert server is not None
        assert os.readlink(f"/proc/{server.pid}/fd/2") == "/dev/null"
        assert os.getsid(server.pid) == server.pid
        good = previews.make(plain_jpeg((640, 480), 2), "image/jpeg")
    assert all(isinstance(a, str) and a.startswith("no preview") for a in answers), answers
    assert not any("\x1b" in a for a in answers)
    assert "decompression bomb" in answers[3]
    assert isinstance(good, bytes)
    assert good.startswith(b"\xff\xd8\xff")
