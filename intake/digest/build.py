"""`intake-review digest`: write the index, and (for the team) a page per case with its previews, into DIR."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from intake.digest.charts import bar_chart, country_maps
from intake.digest.pages import LANGUAGES, environment, stylesheet, translations
from intake.digest.picture import Picture, picture
from intake.errors import BadValue, UsageProblem
from intake.review.errors import ReviewError
from intake.review.folder import Folder
from intake.review.terminal import echo
from intake.text import zawgyi
from intake.text.counts import count

if TYPE_CHECKING:
    from intake.review.session import Session
    from intake.triage.filters import Filters
    from intake.triage.records import CaseRecord

PAGE_NAME = re.compile(r"[A-Z0-9][A-Z0-9-]{0,63}")
SHARE_FLOOR = 2  # a shared digest's K is at least this (the command's default is 5)
OPTIONS = {"incident_type": "type", "tags": "tag"}  # the filters whose option is not named as their field


@dataclass
class Row:
    """A case in the index's table: its record, its page's name, and what its type and place are called."""

    record: CaseRecord
    page: str
    type: str
    place: str


def write_digest(session: Session, filters: Filters, out: Path, share: bool, k: int, lang: str) -> None:
    """Open every case once, choose with `filters`, and write the digest into `out` (a new or empty folder)."""
    from intake.triage.filters import select
    from intake.triage.records import open_records

    if lang not in LANGUAGES:
        raise BadValue(f"no digest in {lang!r}: choose {', '.join(LANGUAGES)}", "--lang")
    if share and k < SHARE_FLOOR:
        raise BadValue(f"--min-count {k} hides nothing: give {SHARE_FLOOR} or more (5 is the default)",
                       "--min-count")
    if share and not filters.empty:
        given = ", ".join(name for name, _ in _filters(filters))
        raise UsageProblem(f"a shared digest takes no filters (given: {given}): two shared digests made with "
                           f"different filters can be subtracted to reveal counts below {k}",
                           "drop the filters to publish the whole picture, or leave out --share for a team digest "
                           "of the filtered view")
    if share and _bundle_since(session):
        raise UsageProblem("this bundle was exported with --since, so it holds only the cases received since a "
                           "day: a shared digest of it and one of every case could be subtracted to reveal counts "
                           f"below {k}",
                           "make the shared digest from the database, or from a bundle exported without --since")
    records = open_records(session, deep=not share)
    chosen = [r for r in records if r.opened] if share else select(records, filters)  # shared: only what it reads
    env = environment(lang)
    pic = picture(chosen, share, k, lang, translations(lang).gettext)
    folder = Folder.at(out)
    try:
        _write(folder, "style.css", stylesheet())
        rows = [] if share else _case_pages(session, folder, env, chosen, pic, lang)
        _write(folder, "index.html", env.get_template("index.html").render(
            lang=lang, up="", pic=pic, made=dt.date.today().isoformat(), rows=rows,
            filters=_filters(filters), not_opened=sum(1 for r in chosen if not r.opened),
            maps=country_maps(pic.breakdowns["province"], lang),
            occurred=bar_chart(pic.breakdowns["occurred"], "month"),
            received=bar_chart(pic.breakdowns["received"], "week" if share else "day")))
    except BaseException:
        folder.discard()
        raise
    what = "shared digest" if share else "digest"
    echo(f"wrote the {what} of {count(len(chosen), 'case')} into {out}: open {out / 'index.html'}", err=True)


def _bundle_since(session: Session) -> bool:
    """Whether the cases come from a bundle exported with --since (a filter by other means)."""
    from intake.review.source import BundleSource

    source = session.source
    return isinstance(source, BundleSource) and bool(source.manifest.get("since"))


def _write(folder: Folder, name: str, text: str | bytes) -> None:
    """Create a new file in the folder (never over one that is there)."""
    try:
        fd = folder.create(name)
    except FileExistsError:
        raise ReviewError(f"{folder.path / name} already exists", "give --out a new or empty folder") from None
    with os.fdopen(fd, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode("utf-8", "replace"))


def _filters(filters: Filters) -> list[tuple[str, str]]:
    """The filters given, as (option, value) for the team's index page."""
    given = []
    for item in fields(filters):
        value = getattr(filters, item.name)
        if value:
            shown = ", ".join(value) if isinstance(value, tuple) else "" if value is True else str(value)
            given.append(("--" + OPTIONS.get(item.name, item.name).replace("_", "-"), shown))
    return given


def _case_pages(session: Session, folder: Folder, env, records: list[CaseRecord], pic: Picture,  # noqa: ANN001
                lang: str) -> list[Row]:
    """Write one page per case (with its previews) into cases/; the rows of the index's table."""
    from intake.digest.files import list_files
    from intake.review.opening import open_case
    from intake.review.sandbox import Previews

    cases = folder.folder("cases")
    labels = {c.key: c.label for c in pic.breakdowns["type"].cells}
    places = {c.key: c.label for c in pic.breakdowns["province"].cells}
    template, rows, used = env.get_template("case.html"), [], set()
    with Previews() as previews:
        for n, record in enumerate(records, 1):
            page = record.ref if PAGE_NAME.fullmatch(record.ref) and record.ref not in used else f"case-{n}"
            used.add(page)
            files = []
            if record.opened and record.attachments:
                try:
                    files = list_files(open_case(session, record.ref), page, previews,
                                       lambda name, data: _write(cases, name, data))
                except ReviewError as exc:
                    record.reason = exc.message
            _write(cases, f"{page}.html", template.render(
                lang=lang, up="../", record=record, files=files, fields=list(record.fields.items()),
                zawgyi={w["field"]: w["unicode"] for w in zawgyi.field_warnings(_texts(record.fields))},
                notes=[_note(n) for n in record.notes], thread=[_message(m) for m in record.thread]))
            rows.append(Row(record, page, labels.get(_type_key(record), ""), places.get(_place_key(record), "")))
    return rows


def _texts(values: dict[str, object]) -> dict[str, str]:
    return {k: v for k, v in values.items() if isinstance(v, str)}


def _type_key(record: CaseRecord) -> str:
    from intake.digest.tally import keys_of

    return keys_of(record, False)["type"]


def _place_key(record: CaseRecord) -> str:
    from intake.digest.tally import keys_of

    return keys_of(record, False)["province"]


def _note(entry: dict[str, object]) -> dict[str, object]:
    """A note for its page: every key the template reads (an opened note has no "error", a refused one no text)."""
    return {name: entry.get(name) for name in ("created", "status", "note", "by", "error")}


def _message(entry: dict[str, object]) -> dict[str, object]:
    """A thread message for its page: its Zawgyi conversion beside it, its files as one line each."""
    text = entry.get("text")
    unicode = zawgyi.to_unicode(text) if isinstance(text, str) and zawgyi.is_zawgyi(text) else None
    files = [f"{a.get('name')} ({a.get('type')}, {a.get('size')} B)" for a in entry.get("attachments") or ()
             if isinstance(a, dict)]
    return {"from": entry.get("from"), "day": entry.get("day"), "text": text, "error": entry.get("error"),
            "why": entry.get("why"), "unverified": entry.get("unverified"), "unicode": unicode, "files": files}
