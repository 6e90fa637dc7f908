"""Reporter text for the desk: escaped as `show` escapes it, and always plain Text, never markup."""

from __future__ import annotations

from rich.text import Text

from intake.review.names import terminal_text
from intake.review.terminal import fold

CELL = 200  # characters of a stranger's value escaped for a list cell (its column cuts it shorter)


def plain(value: object) -> Text:
    """One line, every control, format and private character escaped; brackets stay brackets."""
    return Text(terminal_text(str(value)), no_wrap=True, end="")


def cell(value: object) -> str:
    """A list cell: escaped, its start only (a 20,000-character word costs what a short one does)."""
    return terminal_text(str(value)[:CELL])


def folded(lines: list[str], cells: int) -> Text:
    """Lines from `show.case_lines` cut at `cells` as `show` cuts them on a terminal: the pane never wraps a row
    itself, so no wrapped rest of a reporter's line can look like a sender line; each rest is behind the gutter."""
    rows = [row for line in lines for row in fold(terminal_text(line, keep_newlines=True), max(cells, 20))]
    return Text("\n".join(rows), no_wrap=True, overflow="crop", end="")
