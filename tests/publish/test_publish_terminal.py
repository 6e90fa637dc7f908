"""The publishing helper: nothing a hostile photo makes a decoder print reaches the reviewer's terminal."""

from __future__ import annotations

import os

from tests.support.photos import plain_jpeg, terminal_hostile


def test_publishing_helper_has_no_terminal_and_speaks_only_through_its_pipe():
    """The helper's stderr is /dev/null and it leads its own session (no /dev/tty to open); photos made of terminal
    escapes, a bomb and a cut JPEG are each "could not be processed", and the next good photo is still published."""
    from intake.publish.worker import Publisher

    hostile = terminal_hostile()
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
