"""Where the reviewer's tool writes: lines of text on stdout or stderr, looked up at each call."""

from __future__ import annotations

import sys


def echo(text: str, err: bool = False) -> None:
    """Write one line on stdout, or on stderr with err=True."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()
