"""The desk's small windows: pick a state, or type a note, a tag, a reply or a folder. Escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from intake.desk.text import plain

CSS = """
Choose, Ask, Write { align: center middle; }
#dialog { width: 70%; height: auto; max-height: 80%; border: round $accent; padding: 0 1; background: $surface; }
#dialog TextArea { height: 10; }
#dialog .hint { color: $text-muted; }
"""


class Choose(ModalScreen[str | None]):
    """Pick one of a few values (a case's state); Enter picks, Escape cancels."""

    DEFAULT_CSS = CSS
    BINDINGS = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, title: str, values: tuple[str, ...], current: str | None = None) -> None:
        super().__init__()
        self.title_text, self.values, self.current = title, values, current

    def compose(self) -> ComposeResult:
        """The title and the values, the current one highlighted."""
        with Vertical(id="dialog"):
            yield Static(plain(self.title_text))
            options = OptionList(*(Option(plain(v), id=v) for v in self.values))
            if self.current in self.values:
                options.highlighted = self.values.index(self.current)
            yield options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Give back the value picked."""
        event.stop()
        self.dismiss(event.option.id)


class Ask(ModalScreen[str | None]):
    """One line of text (a note, tags, a folder); Enter gives it, Escape cancels."""

    DEFAULT_CSS = CSS
    BINDINGS = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, title: str, value: str = "", hint: str = "Enter: done   Escape: cancel") -> None:
        super().__init__()
        self.title_text, self.value, self.hint = title, value, hint

    def compose(self) -> ComposeResult:
        """The title, the line, and the keys."""
        with Vertical(id="dialog"):
            yield Static(plain(self.title_text))
            yield Input(self.value, id="answer", select_on_focus=False)
            yield Static(plain(self.hint), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Give back what was typed (the desk's search line never sees it)."""
        event.stop()
        self.dismiss(event.value)


class Write(ModalScreen[str | None]):
    """Several lines of text (a reply); Ctrl+S gives it, Escape cancels."""

    DEFAULT_CSS = CSS
    BINDINGS = [Binding("ctrl+s", "done", "send", priority=True), Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        """The title, the text, and the keys."""
        with Vertical(id="dialog"):
            yield Static(plain(self.title_text))
            yield TextArea(id="answer", soft_wrap=True)
            yield Static(plain("Ctrl+S: send   Escape: cancel"), classes="hint")

    def action_done(self) -> None:
        """Give back the text written."""
        self.dismiss(self.query_one(TextArea).text)
