"""Which cases a reviewer asked for: the filters of `list`, the desk and the digest, and the one `select`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from intake.triage.records import CaseRecord
from intake.triage.search import matches, words
from intake.triage.tags import normal_tag


@dataclass(frozen=True)
class Filters:
    """What a case must have to be selected. Empty means any; several values of one filter mean any of them;
    different filters all hold at once. Values are what the form sends (`drone`, `KH-12`, `km`)."""

    status: tuple[str, ...] = ()  # stored states ("in review"); cli/states.py reads any spelling
    tags: tuple[str, ...] = ()  # every one of these tags (as typed: made normal here)
    incident_type: tuple[str, ...] = ()
    province: tuple[str, ...] = ()
    lang: tuple[str, ...] = ()
    since: dt.date | None = None  # received on or after
    until: dt.date | None = None  # received on or before
    unread: bool = False  # the reporter wrote since a reviewer last showed it
    has_files: bool = False  # the report or a message carries a file
    search: str = ""  # words that must all appear in a field, note, tag or message (triage/search.py)

    @property
    def empty(self) -> bool:
        """Whether every case is selected."""
        return self == Filters()


def _any(value: str | None, wanted: tuple[str, ...], fold=str.casefold) -> bool:  # noqa: ANN001
    return not wanted or (value is not None and fold(value.strip()) in {fold(w.strip()) for w in wanted})


def keep(record: CaseRecord, filters: Filters, wanted_words: tuple[str, ...] = (),
         tags: frozenset[str] = frozenset()) -> bool:
    """Whether one record passes every filter (`wanted_words` and `tags` made once by `select`)."""
    if filters.status and record.status not in filters.status:
        return False
    if filters.since and record.received < filters.since or filters.until and record.received > filters.until:
        return False
    if filters.unread and not record.unread or filters.has_files and not record.has_files:
        return False
    if not (_any(record.incident_type, filters.incident_type) and _any(record.province, filters.province)
            and _any(record.lang, filters.lang)):
        return False
    if tags and not tags.issubset(record.tags):
        return False
    return not wanted_words or matches(record.text, wanted_words)  # the text is folded only for a search


def select(records: Iterable[CaseRecord], filters: Filters) -> list[CaseRecord]:
    """The records that pass every filter, in the order given (open_records: newest day first). A case that did
    not open passes only filters that need nothing of its sealed text (status, days): it is listed so a reviewer
    sees it failed."""
    if filters.empty:
        return list(records)
    tags = frozenset(normal_tag(t) for t in filters.tags)
    wanted = words(filters.search)
    return [r for r in records if keep(r, filters, wanted, tags)]
