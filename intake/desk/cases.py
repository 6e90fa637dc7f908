"""What the desk reads and changes, through the domain packages only: the records, an opened case, each change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake.errors import IntakeError
from intake.review.names import terminal_text
from intake.review.session import Session
from intake.triage.records import CaseRecord


@dataclass(frozen=True)
class Opened:
    """A case as `show` prints it: its escaped lines, its state, and what went wrong in it (or None)."""

    ref: str
    status: str
    lines: list[str]
    problem: str | None = None


@dataclass
class Desk:
    """The reviewer's session and where changes are sealed to: the keyring, and on a bundle the replies file."""

    session: Session
    keys_dir: Path
    signer: str | Callable[[], str]
    replies: Path | None = None
    custody: Any = None  # an intake.evidence.record.Custody: the custody record shown with each case (none appended)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one reader of the source at a time

    @property
    def read_only(self) -> bool:
        """Whether the cases come from a bundle, which cannot change."""
        return bool(self.session.source.read_only)

    def where(self) -> str:
        """Where the cases come from and where changes go, as the desk's title says it."""
        if not self.read_only:
            return "database"
        goes = f"changes go into {self.replies}" if self.replies else "start with --out FILE to make changes"
        return terminal_text(f"bundle {self.session.bundle.name} (read-only: {goes})")

    def records(self) -> list[CaseRecord]:
        """Every case opened once (fields, notes, tags and thread, for search), newest day first."""
        from intake.triage.records import open_records

        with self._lock:
            return open_records(self.session, deep=True)

    def record(self, ref: str) -> CaseRecord | None:
        """One case opened again, after the desk changed it (None if it is gone)."""
        from intake.triage.records import open_record

        with self._lock:
            source = self.session.source
            case = source.case(ref)
            return None if case is None else open_record(self.session, case, source.unread())

    def open(self, ref: str) -> Opened:
        """Open a case as `show` does (its files checked, its reporter's messages then marked read)."""
        from intake.review.show import case_data, case_lines, seen

        with self._lock:
            case, data = case_data(self.session, ref)
            if self.custody is not None:
                data["custody"] = self.custody.record(case).as_json()
            problem = None
            try:
                seen(case, data)
            except IntakeError as exc:
                problem = exc.text()
            return Opened(case.case.ref, case.case.status, case_lines(data), problem)

    def set_status(self, ref: str, state: str, note: str | None = None) -> None:
        """Set a case's state (and seal a note with it) as `status` does: on a bundle, into the replies file."""
        from intake.review.triage import set_status

        with self._lock:
            set_status(self.session, ref, state, note, self.keys_dir, self.signer, self.replies)

    def add_note(self, ref: str, text: str) -> None:
        """Seal a note to the keyring, the case keeping its state."""
        with self._lock:
            case = self.session.source.case(ref)
        self.set_status(ref, case.status if case else "new", text)

    def set_tags(self, ref: str, wanted: frozenset[str]) -> None:
        """Give a case exactly these tags (normal forms) as `tag` does: what it lacks added, the rest removed."""
        from intake.triage.tagging import set_tags

        record = self.record(ref)  # its tags now, not as the list showed them
        if record is None:
            return
        add, remove = sorted(wanted - set(record.tags)), sorted(set(record.tags) - wanted)
        if add or remove:
            with self._lock:
                set_tags(self.session, ref, add, remove, self.keys_dir, self.signer, self.replies)

    def reply(self, ref: str, text: str) -> None:
        """Seal a reply as `reply` does: stored on the database, into the replies file on a bundle."""
        from intake.review.thread import reply_to_case

        with self._lock:
            reply_to_case(self.session, ref, text, self.keys_dir, self.signer, self.replies)

    def export(self, ref: str, folder: Path) -> None:
        """Export a case as `export` does: checked, metadata removed, into a new folder."""
        from intake.review.export import export_case

        with self._lock:
            export_case(self.session, ref, folder, False, None)
