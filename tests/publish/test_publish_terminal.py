"""The publishing helper: nothing a hostile photo makes a decoder print reaches the reviewer's terminal."""

from __future__ import annotations

import os

from tests.support.photos import pixel_bomb, plain_jpeg, truncated_jpeg

ESCAPES = b"\x1b]0;owned\x07\x1b[2J\x1b[31m"  # set the window title, clear the screen, turn the text red


def test_publishing_helper_has_no_terminal_and_speaks_only_through_its_pipe():
    """The helper's stderr is /dev/null and it leads its own session (no /dev/tty to open); photos made of terminal
    escapes, a bomb and a cut JPEG are each "could not be processed", and the next good photo is still published."""
    from intake.publish.worker import Publisher

    hostile = [("image/jpeg", b"\xff\xd8\xff\xe0" + ESCAPES * 200), ("image/png", b"\x89PNG\r\n\x1a\n" + ESCAPES * 50),
               ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + ESCAPES * 50), ("image/png", pixel_bomb()),
               ("image/jpeg", truncated_jpeg())]
    with Publisher() as publisher:
        answers = [publisher.publish(data, kind) for kind, data in hostile]
        server = publisher.server
        assert server is not None
        assert os.readlink(f"/proc/{server.pid}/fd/2") == "/dev/null"
        assert os.getsid(server.pid) == server.pid
        good = publisher.publish(plain_jpeg((96, 72), 1), "image/jpeg")
        assert server.poll() is None  # the same helper, still serving
    assert all(isinstance(a, str) and a.startswith("could not be processed") for a in answers), answers
    assert not any("\x1b" in a for a in answers)
    assert not isinstance(good, str)
    assert good.jpeg.startswith(b"\xff\xd8\xff")
