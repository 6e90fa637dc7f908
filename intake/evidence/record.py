"""Appending to a case's custody record from a command: `show`, `export`, `evidence` and `status` each call `append`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from intake.errors import IntakeError
from intake.evidence.custody import KIND, Record, new_entry, read_record, seal_entry
from intake.review.errors import ReviewError
from intake.review.opening import OpenCase
from intake.review.terminal import echo
from intake.storage.notes import Note

TRIES = 3


def read(case: OpenCase, replies: Path | None = None) -> Record:
    """The case's custody record as stored, checked (it never raises for a broken chain: `problems` say it); on a
    bundle, with the entries of the case already sealed into the replies file `replies` after it."""
    notes = case.session.source.notes(case.case)
    if case.session.source.read_only and replies is not None:
        notes = [*notes, *carried(replies, case.case.ref)]
    return read_record(notes, case.session.identities, case.report.opened.report_key)


def carried(replies: Path, ref: str) -> list[Note]:
    """The custody entries of case `ref` in a replies file, as the notes the server will store (none if the file
    is missing or unreadable: appending to it then says why)."""
    import datetime as dt

    from intake.bundle.replies import RepliesError, read_replies

    try:
        items = read_replies(replies) if replies.exists() else []
        return [Note(dt.date.fromisoformat(str(r.day)), r.header, r.body) for r in items
                if r.kind == KIND and r.ref == ref]
    except (RepliesError, ValueError):
        return []


@dataclass(frozen=True)
class Custody:
    """Where custody entries are sealed to: the keyring in `keys_dir`, verified against `signer` (as notes).

    `required`: a command whose entry cannot be recorded fails (evidence); otherwise it warns and goes on.
    `replies`: on a bundle, the replies file the entry is sealed into, for `intake import-replies`.
    """

    keys_dir: Path
    signer: str | Callable[[], str]
    required: bool = False
    replies: Path | None = None

    def record(self, case: OpenCase) -> Record:
        """The case's record as it stands (on a bundle with this replies file's entries), appending nothing."""
        return read(case, self.replies)

    def append(self, case: OpenCase, action: str, hashes: dict[str, str], detail: str = "") -> Record:
        """Seal and store the next entry of the case's record; return the record with it."""
        from sqlalchemy.exc import SQLAlchemyError

        from intake.clock import today
        from intake.review.triage import reviewer_keyring
        from intake.storage.notes import NotesMoved, append_note

        source = case.session.source
        try:
            if source.read_only and self.replies is None:
                raise ReviewError("a bundle is read-only: the custody entry goes into a replies file",
                                  "give --out FILE (status) or a replies file in your profile, and import it")
            recipients = reviewer_keyring(case.session, self.keys_dir, self.signer, "custody entry").recipients()
            if source.read_only:
                return self._carry(case, recipients, action, hashes, detail)
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
        except IntakeError as exc:
            if self.required:
                raise
            echo(f"intake-review: warning: case {case.case.ref}: custody entry not recorded: {exc.text()}", err=True)
        return read(case, self.replies)

    def _carry(self, case: OpenCase, recipients: list, action: str, hashes: dict[str, str],  # type: ignore[type-arg]
               detail: str) -> Record:
        """Seal the next entry after the bundle's and the replies file's into the replies file."""
        from intake.bundle.replies import Reply, append_item
        from intake.clock import today

        day = today()
        entry = new_entry(read(case, self.replies), action, case.report.opened.key_id, day, hashes, detail)
        header, body = seal_entry(recipients, entry, case.report.opened.report_key)
        append_item(self.replies, case.session.source.import_key, case.session.identities,  # type: ignore[arg-type]
                    Reply(case.case.ref, "", header, body, b"", b"", kind="custody", day=day.isoformat()))
        return read(case, self.replies)
