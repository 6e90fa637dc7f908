"""Triage notes: sealed like reports (docs/format.md header and body, no attachments), opened for show."""

from __future__ import annotations

from collections.abc import Sequence

from intake.crypto.envelope import Sealer
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity, Recipient
from intake.crypto.report import open_report
from intake.storage.notes import Note


def seal_note(recipients: Sequence[Recipient], status: str, text: str, by: str) -> tuple[bytes, bytes]:
    """Seal a note to the keyring's recipients; return its header and body."""
    sealer = Sealer(recipients)
    body = sealer.body({"note": text, "status": status, "by": by})
    return sealer.header(), body


def open_notes(notes: Sequence[Note], identities: Sequence[Identity]) -> list[dict[str, object]]:
    """Each note in clear, or with the reason it could not be opened."""
    opened: list[dict[str, object]] = []
    for note in notes:
        entry: dict[str, object] = {"created": note.created.isoformat()}
        try:
            fields = open_report(note.header, note.body, 0, identities).body.fields
        except CryptoError as exc:
            entry["error"] = exc.expect
        else:
            entry.update(status=fields.get("status"), note=fields.get("note"), by=fields.get("by"))
        opened.append(entry)
    return opened
