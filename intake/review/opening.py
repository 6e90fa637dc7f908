"""Opening one case for show, export and cat: its report, its notes and its attachments."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from intake.crypto.errors import CryptoError
from intake.crypto.report import OpenedReport, open_report
from intake.review.errors import from_crypto, no_case
from intake.review.notes import open_notes
from intake.review.session import Session
from intake.storage.cases import Case
from intake.text import zawgyi

if TYPE_CHECKING:
    from intake.review.thread import ThreadMessage


@dataclass(frozen=True, repr=False)
class OpenCase:
    """A case with its opened report, read through the session's source."""

    session: Session
    case: Case
    report: OpenedReport

    def plaintext(self, idx: int) -> Iterator[bytes]:
        """Attachment `idx` in clear, chunk by chunk; its size and SHA-256 are checked at the end."""
        return self.report.attachment(idx, self.session.source.parts(self.case, idx), self.case.lengths[idx])

    def entries(self) -> list[dict[str, object]]:
        """The case's notes and tag entries (`"kind": "tags"`), opened where sealed to one of the reviewer's keys."""
        return open_notes(self.session.source.notes(self.case), self.session.identities,
                          self.report.opened.report_key)

    def notes(self) -> list[dict[str, object]]:
        """The case's notes (its tag entries left out: `entries`), opened where sealed to the reviewer's keys."""
        return [entry for entry in self.entries() if entry.get("kind") != "tags"]

    def thread(self) -> list[ThreadMessage]:
        """The case's thread, opened with the reviewer's identities and the body's reply key; in a case with the
        reporter's stanza (header version 2), only messages bound to the thread (format.md §12.4 *Bound*)."""
        from intake.review.thread import open_thread, reply_recipient

        return open_thread(self.session.source.thread(self.case), self.session.identities, reply_recipient(self),
                           self.report.opened.header.reporter is not None)

    def message_plaintext(self, item: ThreadMessage, idx: int) -> Iterator[bytes]:
        """File `idx` of an opened message in clear, chunk by chunk; its size and SHA-256 are checked at the end."""
        seq, lengths = item.message.seq, item.message.lengths
        return item.opened.attachment(idx, self.session.source.message_parts(self.case, seq, idx), lengths[idx])

    def summary(self) -> dict[str, object]:
        """What report.json and `show --json` say about the case itself."""
        key_id = self.report.opened.key_id
        return {"id": self.case.ref, "received": self.case.received.isoformat(), "status": self.case.status,
                "sealed_by": self.case.sealed_by, "opened_with": {"key_id": key_id,
                                                                 "identity": self.session.key_name(key_id)},
                "fields": self.report.body.fields,
                # whether the reporter can check back; the reply key itself is a secret of the thread (format.md §12.4)
                "codename": self.report.body.reply_key is not None,
                "warnings": zawgyi.field_warnings(self.report.body.fields, self.report.body.zawgyi)}


def open_case(session: Session, ref: str) -> OpenCase:
    """Find a case by reference and open its header and body, or raise the matching reviewer error."""
    identities = session.identities
    case = session.source.case(ref)
    if case is None:
        raise no_case(ref)
    try:
        report = open_report(case.header, case.body, len(case.lengths), identities)
    except CryptoError as exc:
        raise from_crypto(exc, f"case {case.ref}") from None
    return OpenCase(session, case, report)

