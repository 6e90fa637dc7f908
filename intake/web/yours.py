"""The reporter's own report, opened with the codename's reply identity (docs/format.md §4.1, docs/web.md).

With JavaScript the page opens it (check.js); without, `POST /check` opens it in memory for that one request, as
it opens the thread. Only the fields and the names and sizes of the files are shown: files are never served back.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from intake.crypto.envelope import REPORTER_VERSIONS
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from intake.storage.cases import Case
from intake.text import answers
from intake.web.forms import CHOSEN, FIELDS, INCIDENT_TYPES, ReportForm, lang, place_name, year_label
from intake.web.language import LOCALES, NAMES


@dataclass(frozen=True)
class Yours:
    """The report as its reporter reads it again: labelled fields and file names with sizes, or why not."""

    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[str, ...] = ()
    note: str | None = None


def labels() -> dict[str, str]:
    """The form's label of each sealed field, and what each chosen value reads as (`NAME:VALUE`).

    A year reads through `year_label` (check.js has its pattern), so a year the picker no longer offers still reads.
    """
    form = ReportForm(formdata=None, meta={"csrf": False})  # never reads the request
    named = {name: str(getattr(form, name).label.text) for name in FIELDS + CHOSEN} | {"lang": _("Language")}
    named |= {f"incident_type:{c.value}": str(c.label) for c in INCIDENT_TYPES}
    named |= {f"occurred_month:{m}": str(answers.month_name(m, lang())) for m in answers.MONTHS}
    named |= {f"province:{p.code}": place_name(p) for p in answers.places()}
    return named | {f"lang:{code}": NAMES[code] for code in LOCALES}


def shown_value(names: dict[str, str], name: str, value: str) -> str:
    """A sealed value as its reporter reads it: a chosen answer by its label, anything else as it was written."""
    if name == "occurred_year" and answers.is_year(value):
        return year_label(value)
    return names.get(f"{name}:{value}", value) if name in ("incident_type", "lang", *CHOSEN) else value


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
    if case.header[4] not in REPORTER_VERSIONS:
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
        shown.append((names.get(name, name), shown_value(names, name, value)))
    return Yours(tuple(shown), tuple(f"{a.name} ({size_text(a.size)})" for a in body.attachments))
