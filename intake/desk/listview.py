"""The list of cases: one row a case, drawn only where it is seen (10,000 cases cost what a screenful does).

Every cell is a stranger's text escaped and cut to its column; a row is one plain segment in a style of the
desk's own, so nothing in a report can change a colour, add a link or an action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = " "


def fit(value: str, width: int) -> str:
    """A value in exactly `width` cells: padded, or cut with an ellipsis (wide characters count two)."""
    value = value[:width * 2 + 1]  # a 20,000-character word costs no more than a short one
    return set_cell_size(value, width) if cell_len(value) <= width else set_cell_size(value, width - 1) + "…"


class CaseList(ScrollView, can_focus=True):
    """Rows of (reference, cells); the cursor row is the case the single keys act on. Enter or a click opens it."""

    COMPONENT_CLASSES = {"caselist--cursor", "caselist--header", "caselist--odd"}
    DEFAULT_CSS = """
    CaseList { height: 1fr; }
    CaseList > .caselist--header { text-style: bold; background: $panel; }
    CaseList > .caselist--cursor { background: $accent; color: $text; }
    CaseList:blur > .caselist--cursor { background: $accent 40%; }
    CaseList > .caselist--odd { background: $boost; }
    """
    BINDINGS = [Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False),
                Binding("pageup", "page(-1)", show=False), Binding("pagedown", "page(1)", show=False),
                Binding("home", "move(-1000000000)", show=False), Binding("end", "move(1000000000)", show=False),
                Binding("enter", "choose", show=False)]
    cursor: reactive[int] = reactive(0)

    class Chosen(Message):
        """Enter or a click on a row: open this case."""

        def __init__(self, ref: str) -> None:
            super().__init__()
            self.ref = ref

    def __init__(self, columns: Sequence[tuple[str, int]], cells: Callable[[object], tuple[str, ...]],
                 **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.columns, self.cells = tuple(columns), cells  # (label, width in cells); an item's escaped cells
        self.items: list[object] = []
        self.refs: list[str] = []
        self._rows: dict[int, str] = {}

    def show(self, items: Sequence[object], refs: Sequence[str]) -> None:
        """Show these items (records), in order, the cursor on the first."""
        self.items, self.refs, self._rows = list(items), list(refs), {}
        self.virtual_size = Size(self.row_width, len(self.items) + 1)
        self.cursor = 0
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def replace(self, ref: str, item: object) -> None:
        """Draw one case's row again from a new item."""
        if ref in self.refs:
            index = self.refs.index(ref)
            self.items[index] = item
            self._rows.pop(index, None)
            self.refresh()

    @property
    def row_width(self) -> int:
        """The cells of a whole row."""
        return sum(width for _, width in self.columns) + len(GAP) * (len(self.columns) - 1)

    @property
    def current(self) -> str | None:
        """The reference under the cursor, or None when no case is shown."""
        return self.refs[self.cursor] if self.refs else None

    def line(self, values: Sequence[str]) -> str:
        """Values laid out in the columns, each padded to its width in cells, or cut with an ellipsis."""
        return GAP.join(fit(value, width) for value, (_, width) in zip(values, self.columns, strict=True))

    def row(self, index: int) -> str:
        """Row `index` as text, made once."""
        if index not in self._rows:
            self._rows[index] = self.line(self.cells(self.items[index]))
        return self._rows[index]

    def render_line(self, y: int) -> Strip:
        """Row y of the screen: the header, or the case scrolled there."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            text, style = self.line([label for label, _ in self.columns]), self.get_component_rich_style(
                "caselist--header")
        else:
            index = scroll_y + y - 1
            if index >= len(self.items):
                return Strip.blank(width, self.rich_style)
            text = self.row(index)
            style = self.rich_style
            if index == self.cursor:
                style = self.get_component_rich_style("caselist--cursor")
            elif index % 2:
                style = self.rich_style + self.get_component_rich_style("caselist--odd")
        return Strip([Segment(text, style)]).crop_extend(scroll_x, scroll_x + width, style)

    def watch_cursor(self, old: int, new: int) -> None:
        """Keep the cursor's row in sight."""
        seen = max(self.scrollable_content_region.height - 1, 1)
        if new < self.scroll_offset.y:
            self.scroll_to(y=new, animate=False)
        elif new >= self.scroll_offset.y + seen:
            self.scroll_to(y=new - seen + 1, animate=False)
        self.refresh()

    def action_move(self, by: int) -> None:
        """Move the cursor by rows."""
        if self.items:
            self.cursor = min(max(self.cursor + by, 0), len(self.items) - 1)

    def action_page(self, pages: int) -> None:
        """Move the cursor by a screenful."""
        self.action_move(pages * max(self.scrollable_content_region.height - 1, 1))

    def action_choose(self) -> None:
        """Open the case under the cursor."""
        if self.current is not None:
            self.post_message(self.Chosen(self.current))

    def on_click(self, event: events.Click) -> None:
        """A click on a row puts the cursor there and opens its case."""
        index = self.scroll_offset.y + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.items):
            self.cursor = index
            self.action_choose()
