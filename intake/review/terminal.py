"""Where the reviewer's tool writes: lines of text on stdout or stderr, looked up at each call."""

from __future__ import annotations

import os
import sys
import unicodedata

GUTTER = "    | "  # starts every continuation line: no sender line, field or note ever starts with it
MIN_WIDTH = 20


def echo(text: str, err: bool = False) -> None:
    """Write one line on stdout, or on stderr with err=True."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def width() -> int | None:
    """The width in cells of the terminal on stdout, stderr or stdin (a pager's); None when there is none (a file
    or a program reads the output). The terminal's own size, not COLUMNS: a stale COLUMNS wider than the
    terminal would let it wrap rows itself."""
    for fd in (1, 2, 0):
        try:
            return max(os.get_terminal_size(fd).columns, MIN_WIDTH)
        except OSError:
            continue
    return None


def fold(text: str, cells: int | None) -> list[str]:
    """Each line of (already escaped) text cut to at most `cells` cells, every cut-off rest behind the gutter.

    The terminal then never wraps a line itself: a soft wrap would let a long line of a report or message start
    a row that looks like a sender line. Wide characters count two cells, every other one (a combining mark
    too) one, so a row is never wider than counted.
    """
    if cells is None:
        return text.split("\n")
    rows: list[str] = []
    for line in text.split("\n"):
        row, used, added = "", 0, 0
        for char in line:
            size = 2 if unicodedata.east_asian_width(char) in "WFA" else 1
            if used + size > cells and added:
                rows.append(row)
                row, used, added = GUTTER, len(GUTTER), 0
            row += char
            used += size
            added += 1
        rows.append(row)
    return rows
