"""Appending to a case's custody record from a command: `show`, `export`, `evidence` and `status` each call `append`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from intake.evidence.custody import Record, new_entry, read_record, seal_entry
from intake.review.errors import ReviewError
from intake.review.opening import OpenCase
from intake.review.terminal import echo

TRIES = 3


def read(case: OpenCase) -> Record:
    """The case's custody record as stored, checked (it never raises for a broken chain: `problems` say it)."""
    return read_record(case.session.source.notes(case.case), case.session.identities,
                       case.report.opened.report_key)


@dataclass(frozen=True)
class Custody:
    """Where custody entries are sealed to: the keyring in `keys_dir`, verified against `signer` (as notes).

    `required`: a command whose entry cannot be recorded fails (evidence); otherwise it warns and goes on.
    """

    keys_dir: Path
    signer: str | Callable[[], str]
    required: bool = False

    def append(self, case: OpenCase, action: str, hashes: dict[str, str], detail: str = "") -> Record:
        """Seal and store the next entry of the case's record; return the record with it."""
        from sqlalchemy.exc import SQLAlchemyError

        from intake.clock import today
        from intake.review.triage import reviewer_keyring
        from intake.storage.notes import NotesMoved, append_note

        source = case.session.source
        try:
            if source.read_only:
                raise ReviewError("a bundle is read-only: the custody entry cannot be stored in it",
                                  "run the command on the server's database (--db URL)")
            recipients = reviewer_keyring(case.session, self.keys_dir, self.signer, "custody entry").recipients()
            for attempt in range(TRIES):
                record, day = read(case), today()
                entry = new_entry(record, action, case.report.opened.key_id, day, hashes, detail)
                header, body = seal_entry(recipients, entry, case.report.opened.report_key)
                try:
                    append_note(source.engine, case.case.id, header, body, day, record.rows)
                    return read(case)
                except NotesMoved:
                    if attempt == TRIES - 1:
                        raise ReviewError("the custody record kept changing while this entry was sealed",
                                          "run the command again") from None
                except SQLAlchemyError as exc:  # a read-only database user, say
                    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                    raise ReviewError(f"the database did not take it ({reason})",
                                      "give the reviewers' database user the right to add notes") from None
        except ReviewError as exc:
            if self.required:
                raise
            echo(f"intake-review: warning: case {case.case.ref}: custody entry not recorded: {exc.text()}", err=True)
        return read(case)
