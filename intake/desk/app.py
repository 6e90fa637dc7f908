"""`intake-review desk`: the cases, filtered and searched, beside the opened case; single keys triage it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Static
from textual.worker import get_current_worker

from intake.desk.cases import Desk, Opened
from intake.desk.dialogs import Ask, Choose, Write
from intake.desk.listview import CaseList
from intake.desk.query import HELP, read_query
from intake.desk.text import cell, folded, plain
from intake.errors import IntakeError
from intake.review.listing import human_size
from intake.review.names import terminal_text
from intake.storage.cases import STATUSES
from intake.text.counts import count
from intake.triage.filters import Filters, select
from intake.triage.records import CaseRecord

SAID = 3  # lines of what the last change wrote
FAILED = object()  # what `DeskApp.call` gives back when the domain function raised
COLUMNS = (("case", 14), ("msg", 3), ("received", 10), ("status", 15), ("type", 16), ("province", 8), ("lang", 4),
           ("tags", 24), ("files", 12), ("text", 40))
CSS = """
#side { width: 55%; }
#query { margin: 0; }
#count { height: 1; color: $text-muted; }
#said { height: auto; max-height: 3; color: $text-muted; }
#case { border-left: solid $accent; padding: 0 1; scrollbar-gutter: stable; }
#body { text-wrap: nowrap; text-overflow: clip; }
"""


class Said(Static):
    """What the last change wrote (the lines `status`, `reply` or `export` print on the command line)."""

    lines: list[str] = []

    def clear(self) -> None:
        """Forget the lines of the change before."""
        self.lines = []
        self.update("")

    def on_print(self, event: events.Print) -> None:
        """Show the lines printed, as plain escaped text."""
        self.lines = [*self.lines, *(line for line in event.text.splitlines() if line.strip())][-SAID:]
        self.update(Text("\n".join(terminal_text(line) for line in self.lines), end=""))


class DeskApp(App[None]):
    """The reviewer's desk over one Session: every case opened once, then filtered, read and changed."""

    TITLE = "intake-review desk"
    ENABLE_COMMAND_PALETTE = False
    CSS = CSS
    BINDINGS = [Binding("slash", "search", "search"), Binding("s", "status", "status"), Binding("n", "note", "note"),
                Binding("t", "tag", "tag"), Binding("r", "reply", "reply"), Binding("e", "export", "export"),
                Binding("ctrl+r", "reload", "reload"), Binding("q", "quit", "quit"),
                Binding("escape", "list", "list", show=False)]

    def __init__(self, desk: Desk, query: str = "") -> None:
        super().__init__()
        self.desk, self.query_line = desk, query
        self.all: list[CaseRecord] = []
        self.shown: dict[str, CaseRecord] = {}
        self.opened: Opened | None = None
        self.wanted: str | None = None  # the case chosen last: the pane shows it, or is opening it

    def compose(self) -> ComposeResult:
        """The list and its search line on the left, the opened case on the right."""
        yield Header()
        with Horizontal():
            with Vertical(id="side"):
                yield Input(self.query_line, placeholder=HELP, id="query")
                yield CaseList(COLUMNS, self.cells, id="cases")
                yield Static(plain("opening the cases..."), id="count")
            with VerticalScroll(id="case"):
                yield Static(plain("Enter opens the case under the cursor."), id="body")
        yield Said(id="said")
        yield Footer()

    def on_mount(self) -> None:
        """Set up the list and open every case, off the screen's thread."""
        self.sub_title = self.desk.where()
        table = self.query_one(CaseList)
        self.begin_capture_print(self.query_one(Said), stdout=False, stderr=True)
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        """Open every case once (the passphrase was asked before the screen opened)."""
        records = self.call(self.desk.records)
        if records is not FAILED:
            self.call_from_thread(self.loaded, records)

    def loaded(self, records: list[CaseRecord]) -> None:
        """Keep the records and show those the search line asks for."""
        self.all = records
        self.apply(self.query_line)

    def apply(self, line: str) -> None:
        """Show the cases the search line selects, newest day first."""
        try:
            filters = read_query(line)
        except IntakeError as exc:
            self.fail(exc)
            return
        self.query_line = line
        chosen = select(self.all, filters) if filters != Filters() else self.all
        self.shown = {r.ref: r for r in chosen}
        self.query_one(CaseList).show(chosen, [r.ref for r in chosen])
        not_opened = sum(1 for r in chosen if not r.opened)
        self.query_one("#count", Static).update(plain(
            f"{count(len(chosen), 'case')} of {len(self.all)}" + (f", {not_opened} not opened" if not_opened else "")))

    @staticmethod
    def cells(r: CaseRecord) -> tuple[str, ...]:
        """One row: the reference whole, every stranger's value escaped (its column cuts it)."""
        new = "new" if r.unread else ""
        if not r.opened:
            return cell(r.ref), new, str(r.received), cell(r.status), cell(f"no: {r.error}"), "", "", "", \
                str(r.attachments or "-"), cell(r.reason or "")
        files = f"{r.attachments} ({human_size(r.attachment_bytes or 0)})" if r.attachments else "-"
        return (cell(r.ref), new, str(r.received), cell(r.status), cell(r.incident_type or "-"),
                cell(r.province or "-"), cell(r.lang or "-"), cell(" ".join(r.tags)), files, cell(r.snippet))

    def current(self) -> str | None:
        """The reference of the case under the cursor, or None when the list is empty."""
        return self.query_one(CaseList).current

    @on(Input.Submitted, "#query")
    def search(self, event: Input.Submitted) -> None:
        """Search and filter, then go back to the list."""
        self.apply(event.value)
        self.query_one(CaseList).focus()

    def on_case_list_chosen(self, event: CaseList.Chosen) -> None:
        """Enter (or a click) opens the case."""
        self.wanted = event.ref
        self.open_case(event.ref)

    @work(thread=True, exclusive=True, group="open")
    def open_case(self, ref: str) -> None:
        """Open a case as `show` does, its files checked (in a bounded child process each)."""
        self.call_from_thread(self.query_one("#body", Static).update, plain(f"opening {ref}..."))
        opened = self.call(self.desk.open, ref)
        if opened is not FAILED and not get_current_worker().is_cancelled:  # a case chosen since goes in the pane
            self.call_from_thread(self.show_case, opened)

    def show_case(self, opened: Opened) -> None:
        """Show the opened case, cut at the pane's width as `show` cuts it at a terminal's."""
        self.opened = opened
        lines = [*([f"WARNING: {opened.problem}"] if opened.problem else []), *opened.lines]
        self.query_one("#body", Static).update(folded(lines, self.query_one("#case").scrollable_content_region.width))

    def on_resize(self, event: events.Resize) -> None:
        """Cut the opened case again at the pane's new width."""
        if self.opened is not None:
            self.call_after_refresh(self.show_case, self.opened)

    def call(self, job: Callable[..., object], *args: object) -> object:
        """Run a domain function in this worker thread; a known error is shown (never printed over the screen)
        and FAILED returned."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return job(*args)
        except IntakeError as exc:
            self.call_from_thread(self.fail, exc)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            self.call_from_thread(self.fail, IntakeError(f"cannot read the database: {reason}"))
        return FAILED

    def fail(self, exc: IntakeError) -> None:
        """Say what went wrong and what to do next, as plain text."""
        self.notify(terminal_text(exc.text()), severity="error", timeout=8, markup=False)

    @work(thread=True, group="change")
    def change(self, ref: str, job: Callable[..., object], *args: object) -> None:
        """Make one change through the domain function the command line uses, then refresh its row and pane."""
        self.call_from_thread(self.query_one(Said).clear)
        if self.call(job, ref, *args) is not FAILED:
            record = self.call(self.desk.record, ref)
            self.call_from_thread(self.changed, ref, None if record is FAILED else record)

    def changed(self, ref: str, record: CaseRecord | None) -> None:
        """Put a changed case's row (and its pane, if open) up to date."""
        if record is not None and ref in self.shown:
            self.shown[ref] = record
            self.all = [record if r.ref == ref else r for r in self.all]
            self.query_one(CaseList).replace(ref, record)
        if self.wanted == ref:  # never a case chosen before, over the one opening now
            self.open_case(ref)

    def action_search(self) -> None:
        """Go to the search line."""
        self.query_one("#query", Input).focus()

    def action_list(self) -> None:
        """Go back to the list."""
        self.query_one(CaseList).focus()

    def action_reload(self) -> None:
        """Open every case again (new reports, changes made elsewhere)."""
        self.query_one("#count", Static).update(plain("opening the cases..."))
        self.load()

    def ask(self, screen: Choose | Ask | Write, then: Callable[[str], object]) -> None:
        """Show a small window; with its answer (not on Escape), do `then`."""
        def done(answer: str | None) -> None:
            if answer is not None:
                then(answer)

        self.push_screen(screen, done)

    def action_status(self) -> None:
        """Pick the state of the case under the cursor."""
        ref = self.current()
        if ref is not None:
            self.ask(Choose(f"state of {ref}", STATUSES, self.shown[ref].status),
                     lambda state: self.change(ref, self.desk.set_status, state))

    def action_note(self) -> None:
        """Seal a note to the team on the case under the cursor."""
        ref = self.current()
        if ref is not None:
            self.ask(Ask(f"note on {ref}, sealed to the keyring"),
                     lambda text: self.change(ref, self.desk.add_note, text))

    def action_tag(self) -> None:
        """Edit the tags of the case under the cursor: the line is its tags, a space between them."""
        ref = self.current()
        if ref is not None:
            self.ask(Ask(f"tags of {ref} (a space between them)", " ".join(self.shown[ref].tags)),
                     lambda line: self.retag(ref, line))

    def retag(self, ref: str, line: str) -> None:
        """Give the case the tags of the line: those it lacks are added, the others removed."""
        from intake.triage.tags import normal_tag

        try:
            wanted = {normal_tag(word) for word in line.split()}
        except IntakeError as exc:
            self.fail(exc)
            return
        if wanted != set(self.shown[ref].tags):
            self.change(ref, self.desk.set_tags, frozenset(wanted))

    def action_reply(self) -> None:
        """Write a reply to the reporter of the case under the cursor."""
        ref = self.current()
        if ref is not None:
            self.ask(Write(f"reply to the reporter of {ref} (sealed to them and the keyring)"),
                     lambda text: self.change(ref, self.desk.reply, text))

    def action_export(self) -> None:
        """Export the case under the cursor into a new folder."""
        ref = self.current()
        if ref is not None:
            self.ask(Ask(f"export {ref} into the new folder", str(Path.cwd() / f"case-{ref}")),
                     lambda folder: folder.strip() and self.change(ref, self.desk.export, Path(folder.strip())))


def run_desk(desk: Desk, query: str = "") -> None:
    """Run the desk on the terminal until the reviewer quits."""
    try:
        DeskApp(desk, query).run()
    finally:
        desk.session.close()
