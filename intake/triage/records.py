"""Every case of a Session opened once, as one record a filter, a table, a CSV or the desk can read."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from operator import attrgetter

from intake.crypto.batch import open_reports
from intake.crypto.errors import CryptoError
from intake.crypto.report import OpenedReport, open_report
from intake.review.notes import current_tags
from intake.review.session import Session
from intake.storage.cases import Case
from intake.triage.search import searchable

SNIPPET = 60
BATCH = 256  # cases opened together, one step for all before the next (crypto/batch.py)
YOUNG = 1000  # cases between two collections of the young generations while open_records runs
STRUCTURED = ("incident_type", "province", "occurred_year", "occurred_month", "lang")


@dataclass
class CaseRecord:
    """One case as triage sees it. Every text in it is a stranger's: escape it before showing it."""

    ref: str
    received: dt.date
    status: str
    sealed_by: str
    attachments: int  # the report's files
    opened: bool = False
    error: str | None = None  # why it did not open ("no match", "damaged case", ...), when it did not
    reason: str | None = None
    key_id: str | None = None
    identity: str | None = None  # the file name of the identity that opened it
    fields: dict[str, str] = field(default_factory=dict)
    attachment_bytes: int | None = None
    has_files: bool = False  # the report or a message of its thread carries a file
    unread: bool = False  # the reporter wrote since a reviewer last showed it
    tags: tuple[str, ...] = ()
    notes: list[dict[str, object]] = field(default_factory=list)  # opened notes, as `show --json` lists them
    thread: list[dict[str, object]] = field(default_factory=list)  # opened messages, as `show --json` lists them

    @cached_property
    def text(self) -> str:
        """The folded searchable text of every field, note, tag and message (triage/search.py), made once."""
        return searchable(_texts(self))

    def value(self, name: str) -> str | None:
        """A sealed field as the reporter sent it, or None when absent."""
        found = self.fields.get(name)
        return found if isinstance(found, str) and found else None

    @property
    def incident_type(self) -> str | None:
        """The incident type as the form sends it (`drone`...), untrusted."""
        return self.value("incident_type")

    @property
    def province(self) -> str | None:
        """The ISO 3166-2 code the form sends (`KH-12`), untrusted."""
        return self.value("province")

    @property
    def occurred_year(self) -> str | None:
        """The year the incident occurred in ("2026"), untrusted."""
        return self.value("occurred_year")

    @property
    def occurred_month(self) -> str | None:
        """The month the incident occurred in ("01".."12"), untrusted."""
        return self.value("occurred_month")

    @property
    def lang(self) -> str | None:
        """The page language the reporter used ("km", "my", "en"), untrusted."""
        return self.value("lang")

    @property
    def snippet(self) -> str:
        """The start of the description on one line (still to be escaped for a terminal)."""
        text = " ".join((self.value("description") or "").split())
        return text if len(text) <= SNIPPET else text[:SNIPPET - 1] + "…"


def open_record(session: Session, case: Case, unread: set[str], deep: bool = True,
                key_name: Callable[[str], str] | None = None, stored: Stored | None = None,
                report: OpenedReport | Exception | None = None) -> CaseRecord:
    """Open one case, its notes and tags (and with `deep`, its thread); a failure is the record's error.
    `stored` says which cases have notes and messages at all, so the others cost no query; `report` is the
    case's report as `open_reports` already opened it, or the exception that stopped it."""
    try:
        if isinstance(report, Exception):
            raise report
        report = report or open_report(case.header, case.body, len(case.lengths), session.identities)
    except CryptoError as exc:
        return CaseRecord(case.ref, case.received, case.status, case.sealed_by, len(case.lengths),
                          error=exc.expect, reason=str(exc), unread=case.ref in unread)
    except (ValueError, TypeError, RecursionError) as exc:  # one hostile case never hides the others
        return CaseRecord(case.ref, case.received, case.status, case.sealed_by, len(case.lengths),
                          error="damaged case", reason=f"could not be read: {type(exc).__name__}",
                          unread=case.ref in unread)
    key_id, body = report.opened.key_id, report.body
    record = CaseRecord(case.ref, case.received, case.status, case.sealed_by, len(case.lengths), opened=True,
                        key_id=key_id, identity=(key_name or session.key_name)(key_id), fields=body.fields,
                        attachment_bytes=sum(a.size for a in body.attachments),
                        has_files=bool(case.lengths), unread=case.ref in unread)
    stored = stored or Stored()
    notes = stored.notes is None or case.id in stored.notes
    messages = deep and (stored.messages is None or case.id in stored.messages)
    if notes or messages:
        _open_notes(record, session, case, report, notes, messages)
    return record


def _open_notes(record: CaseRecord, session: Session, case: Case, report: OpenedReport, notes: bool,
                messages: bool) -> None:
    """Fill the record's tags and notes (and with `messages`, its thread); a failure is the record's reason."""
    from intake.review.opening import OpenCase

    opened = OpenCase(session, case, report)
    try:
        entries = opened.entries() if notes else []
        record.tags = current_tags(entries)
        record.notes = [e for e in entries if e.get("kind") != "tags"]
        if messages:
            thread = opened.thread()
            record.thread = [m.shown for m in thread]
            record.has_files = record.has_files or any(m.message.lengths for m in thread)
    except (CryptoError, ValueError, TypeError, RecursionError) as exc:  # a hostile note or message
        record.reason = f"its notes or thread could not be read: {type(exc).__name__}"


@dataclass(frozen=True)
class Stored:
    """The ids of the cases that have notes, and messages, in the database (None: ask the source each time)."""

    notes: frozenset[int] | None = None
    messages: frozenset[int] | None = None

    @classmethod
    def of(cls, source: object) -> Stored:
        """One query each on the database; nothing for a bundle, whose manifest already says."""
        if getattr(source, "read_only", True):
            return cls()
        from intake.storage.notes import noted_cases
        from intake.storage.threads import cases_with_messages

        return cls(noted_cases(source.engine), cases_with_messages(source.engine))  # type: ignore[attr-defined]


def _texts(record: CaseRecord) -> Iterator[str]:
    yield record.ref
    yield from (str(v) for v in record.fields.values())
    yield from record.tags
    for note in record.notes:
        yield from (str(note[k]) for k in ("note", "status") if note.get(k))
    for message in record.thread:
        if isinstance(message.get("text"), str):
            yield message["text"]  # type: ignore[misc]
        for item in message.get("attachments") or ():  # type: ignore[attr-defined]
            yield str(item.get("name", ""))


def iter_records(session: Session, deep: bool = True) -> Iterator[CaseRecord]:
    """Each case of the session's source opened once, in the source's order (unlocking the identities first)."""
    session.identities  # noqa: B018 - ask for the passphrases before anything is read
    source = session.source
    unread = source.unread()
    stored = Stored.of(source)
    names: dict[str, str] = {}

    def key_name(key_id: str) -> str:
        if key_id not in names:
            names[key_id] = session.key_name(key_id)
        return names[key_id]

    cases = iter(source.cases())
    while batch := list(islice(cases, BATCH)):
        reports = open_reports([(c.header, c.body, len(c.lengths)) for c in batch], session.identities)
        for case, report in zip(batch, reports, strict=True):
            yield open_record(session, case, unread, deep, key_name, stored, report)


def open_records(session: Session, deep: bool = True) -> list[CaseRecord]:
    """Every case of the session's source opened once, newest day first (see `select` to filter them).

    Python's automatic collections are paused meanwhile: each full one walks every record kept so far, about 5 %
    of a 10,000-case list. The young generations are still collected every YOUNG cases, so the cyclic garbage of
    hostile cases (an exception and its traceback) stays bounded."""
    records: list[CaseRecord] = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        for n, record in enumerate(iter_records(session, deep), 1):
            records.append(record)
            if n % YOUNG == 0:
                gc.collect(1)
    finally:
        if collecting:
            gc.enable()
    return newest_first(records)


def newest_first(records: list[CaseRecord]) -> list[CaseRecord]:
    """Sort records in place, newest day first, then by reference (two stable sorts on C keys), and return them."""
    records.sort(key=attrgetter("ref"))
    records.sort(key=attrgetter("received"), reverse=True)
    return records
