"""The index page's numbers: every breakdown of the chosen cases, and in a shared digest what is hidden."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from intake.digest.places import province_name, provinces
from intake.digest.protect import protect
from intake.digest.tally import (
    LANGS,
    NOT_GIVEN,
    NOT_OPENED,
    OTHER_YEARS,
    TYPES,
    UNRECOGNISED,
    Breakdown,
    breakdown,
    count_keys,
    monday,
    month_keys,
    quarter_end,
    quarter_start,
    span,
)
from intake.storage.cases import STATUSES

if TYPE_CHECKING:
    from intake.triage.records import CaseRecord

EXCLUSIVE = ("type", "status", "lang", "province", "occurred", "received")


@dataclass
class Picture:
    """The counts of a digest: its total and its breakdowns, hidden cells marked in a shared one."""

    total: int
    breakdowns: dict[str, Breakdown]
    share: bool
    k: int
    years: tuple[str, ...] = ()  # shared: the years whose months are shown (the others are one cell)


def picture(records: Sequence[CaseRecord], share: bool, k: int, lang: str, _: Callable[[str], str]) -> Picture:
    """Count the cases (and in a shared digest, which counts every case it can read, hide what must be)."""
    counted = count_keys(records, share)
    years: tuple[str, ...] = ()
    if share:
        years = _shown_years(counted["occurred"], k)
        _merge_years(counted["occurred"], years)
    label = _labels(lang, share, _)
    order = {"type": TYPES, "status": STATUSES, "lang": LANGS, "province": list(provinces()),
             "occurred": _months(counted["occurred"], share), "received": _days(counted["received"], share)}
    made = {name: breakdown(name, counted[name], order[name], label[name], name != "province" or share)
            for name in EXCLUSIVE}
    if share:
        for name in EXCLUSIVE:
            protect(made[name], k)
    else:
        made["tag"] = breakdown("tag", counted["tag"], (), str, False, exclusive=False)
    return Picture(len(records), made, share, k, years)


def _months(counted: Counter[str], share: bool) -> list[str]:
    months = sorted(k for k in counted if k[:1].isdigit())
    if not months:
        return []
    if share:  # whole years, so that the chart's ends tell no case's month
        return month_keys(months[0][:4] + "-01", months[-1][:4] + "-12")
    return month_keys(months[0], months[-1])


def _days(counted: Counter[str], share: bool) -> list[str]:
    days = sorted(dt.date.fromisoformat(k) for k in counted)
    if not days:
        return []
    if share:  # whole quarters, so that the chart's ends tell no case's week
        first, last = monday(quarter_start(days[0])), monday(quarter_end(days[-1]))
        return [d.isoformat() for d in span(first, last, lambda d: d + dt.timedelta(days=7))]
    return [d.isoformat() for d in span(days[0], days[-1], lambda d: d + dt.timedelta(days=1))]


def _shown_years(counted: Counter[str], k: int) -> tuple[str, ...]:
    """The first and the last year of occurrence with at least K cases (the window whose months are shown)."""
    by_year: Counter[str] = Counter()
    for key, n in counted.items():
        if key[:1].isdigit():
            by_year[key[:4]] += n
    years = sorted(year for year, n in by_year.items() if n >= k)
    return (years[0], years[-1]) if years else ()


def _merge_years(counted: Counter[str], years: tuple[str, ...]) -> None:
    """Months of occurrence outside `years` (first, last) counted as one cell, "other years"."""
    for key in [key for key in counted if key[:1].isdigit() and not (years and years[0] <= key[:4] <= years[-1])]:
        counted[OTHER_YEARS] += counted.pop(key)


def _labels(lang: str, share: bool, _: Callable[[str], str]) -> dict[str, Callable[[str], str]]:
    """What each key is called in `lang` (a value outside the closed sets is shown as it was written)."""
    special = {NOT_GIVEN: _("not given"), NOT_OPENED: _("could not be opened"), UNRECOGNISED: _("not recognised"),
               OTHER_YEARS: _("other years")}
    names = {"drone": _("Drone"), "cctv": _("CCTV camera"), "face_recognition": _("Face recognition or ID check"),
             "phone_online": _("Phone or online monitoring"), "other": _("Something else"),
             "new": _("new"), "in review": _("in review"), "needs follow-up": _("needs follow-up"),
             "closed": _("closed"), "spam": _("spam"), "km": "ខ្មែរ (km)", "my": "မြန်မာ (my)", "en": "English (en)"}

    def plain(key: str) -> str:
        return special.get(key) or names.get(key) or key.removeprefix("=")

    def place(key: str) -> str:
        name = province_name(key, lang)
        return f"{name} ({key})" if name else plain(key)

    def week(key: str) -> str:
        return plain(key) if key in special else _("week of %(day)s") % {"day": key}

    return {"type": plain, "status": plain, "lang": plain, "province": place, "occurred": plain,
            "received": week if share else plain}
