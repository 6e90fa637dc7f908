"""Counting cases by type, status, tag, language, province, month of occurrence and day (or week) received.

Every value comes from a stranger: a value outside the form's closed sets is counted under its own text in the
team's digest (escaped where it is shown), and as "not recognised" in a shared one, which holds no text.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from intake.digest.places import provinces
from intake.storage.cases import STATUSES
from intake.text.answers import MONTHS, is_year

if TYPE_CHECKING:
    from intake.triage.records import CaseRecord

TYPES = ("drone", "cctv", "face_recognition", "phone_online", "other")
LANGS = ("km", "my", "en")
NOT_GIVEN, NOT_OPENED, UNRECOGNISED, OTHER_YEARS = "-", "!", "?", "years"
FIRST_YEAR = 1950  # an occurrence year before this, or after next year, is not recognised


@dataclass
class Cell:
    """One count: its key, what it is called, how many cases, and (in a shared digest) whether it is hidden, or
    withheld with every cell of its breakdown (shown as "not shown": hiding could not protect it)."""

    key: str
    label: str
    count: int
    hidden: bool = False
    withheld: bool = False


@dataclass
class Breakdown:
    """The counts of one question; `exclusive` when each case is in exactly one cell (not so for tags)."""

    key: str
    cells: list[Cell] = field(default_factory=list)
    exclusive: bool = True

    @property
    def total(self) -> int:
        """The cases counted (for an exclusive breakdown: every case once)."""
        return sum(c.count for c in self.cells)

    def counts(self) -> dict[str, int]:
        """Count by key."""
        return {c.key: c.count for c in self.cells}


def closed(value: str | None, known: Iterable[str], share: bool) -> str:
    """The key of a value of a closed set: itself when known, its own text or "not recognised" when not."""
    if value is None:
        return NOT_GIVEN
    if value in known:
        return value
    return UNRECOGNISED if share else "=" + value


def month(record: CaseRecord) -> str:
    """"YYYY-MM" of the occurrence when both are given as the form writes them and plausible, else NOT_GIVEN."""
    year, mon = record.occurred_year, record.occurred_month
    if not (is_year(year) and mon in MONTHS):
        return NOT_GIVEN
    return f"{year}-{mon}" if FIRST_YEAR <= int(str(year)) <= dt.date.today().year + 1 else NOT_GIVEN


def monday(day: dt.date) -> dt.date:
    """The Monday of the ISO week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


def keys_of(record: CaseRecord, share: bool) -> dict[str, str]:
    """The cell key of each exclusive breakdown for one case."""
    received = monday(record.received) if share else record.received
    keys = {"status": closed(record.status, STATUSES, share), "received": received.isoformat()}
    if not record.opened:
        return {**keys, **dict.fromkeys(("type", "lang", "province", "occurred"), NOT_OPENED)}
    return {**keys, "type": closed(record.incident_type, TYPES, share), "lang": closed(record.lang, LANGS, share),
            "province": closed(record.province, provinces(), share), "occurred": month(record)}


def count_keys(records: Sequence[CaseRecord], share: bool) -> dict[str, Counter[str]]:
    """Per breakdown, how many cases have each key (tags counted only in the team's digest)."""
    counted: dict[str, Counter[str]] = {name: Counter() for name in ("type", "status", "lang", "province",
                                                                     "occurred", "received", "tag")}
    for record in records:
        for name, key in keys_of(record, share).items():
            counted[name][key] += 1
        if not share:
            counted["tag"].update(record.tags)
    return counted


def breakdown(name: str, counted: Counter[str], order: Sequence[str], label: Callable[[str], str],
              every: bool, exclusive: bool = True) -> Breakdown:
    """Cells in `order` (each of them when `every`, else only those with cases), then the other keys by count."""
    keys = [k for k in order if every or counted[k]]
    rest = sorted((k for k in counted if k not in keys and counted[k]), key=lambda k: (-counted[k], k))
    return Breakdown(name, [Cell(k, label(k), counted[k]) for k in keys + rest], exclusive)


def span(first: dt.date, last: dt.date, step: Callable[[dt.date], dt.date]) -> list[dt.date]:
    """Every point from `first` to `last` by `step`."""
    points = []
    while first <= last:
        points.append(first)
        first = step(first)
    return points


def next_month(day: dt.date) -> dt.date:
    """The first day of the next month."""
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_keys(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from `first` to `last`."""
    start, end = (dt.date(int(k[:4]), int(k[5:]), 1) for k in (first, last))
    return [d.strftime("%Y-%m") for d in span(start, end, next_month)]


def quarter_start(day: dt.date) -> dt.date:
    """The first day of the quarter holding `day`."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: dt.date) -> dt.date:
    """The last day of the quarter holding `day`."""
    start = quarter_start(day)
    return dt.date(start.year + (start.month + 3) // 13, (start.month + 2) % 12 + 1, 1) - dt.timedelta(days=1)
