"""The reporter's own report, opened with the codename's reply identity (docs/format.md §4.1, docs/web.md).

With JavaScript the page opens it (check.js); without, `POST /check` opens it in memory for that one request, as
it opens the thread. Only the fields and the names and sizes of the files are shown: files are never served back.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from intake.crypto.envelope import REPORTER_VERSION
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from intake.storage.cases import Case
from intake.web.forms import FIELDS, INCIDENT_TYPES, ReportForm


@dataclass(frozen=True)
class Yours:
    """The report as its reporter reads it again: labelled fields and file names with sizes, or why not."""

    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[str, ...] = ()
    note: str | None = None


def labels() -> dict[str, str]:
    """The form's label of each sealed field, and of each incident type (as `incident_type:VALUE`)."""
    form = ReportForm(formdata=None, meta={"csrf": False})  # never reads the request
    named = {name: str(getattr(form, name).label.text) for name in FIELDS}
    return named | {f"incident_type:{c.value}": str(c.label) for c in INCIDENT_TYPES}


def size_text(size: int) -> str:
    """A file size in B, KB or MB, as the page's JavaScript writes it too."""
    if size < 1000:
        return f"{size} B"
    if size < 1000 * 1000:
        return f"{size // 1000} KB"
    tenths = size // 100_000
    return f"{tenths // 10}.{tenths % 10} MB"


def reopened(case: Case, identity: Identity) -> Yours:
    """The case's report opened with the reporter's reply identity; a note when it cannot be."""
    if case.header[4:5] != bytes([REPORTER_VERSION]):
        return Yours(note=_("Your report cannot be shown here: it was sent before reports could be opened again "
                            "with the codename. The reviewers have it."))
    try:
        body = open_report(case.header, case.body, len(case.lengths), [identity]).body
    except (CryptoError, ValueError, TypeError, RecursionError):
        return Yours(note=_("(Your report could not be opened here: it is damaged.)"))
    if body.reply_key != str(identity.recipient):
        return Yours(note=_("(Your report could not be opened here: it is damaged.)"))
    names = labels()
    shown = []
    for name, value in body.fields.items():
        if not value:
            continue
        text = names.get(f"incident_type:{value}", value) if name == "incident_type" else value
        shown.append((names.get(name, name), text))
    return Yours(tuple(shown), tuple(f"{a.name} ({size_text(a.size)})" for a in body.attachments))
