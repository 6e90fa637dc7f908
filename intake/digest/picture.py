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


def picture(chosen: Sequence[CaseRecord], whole: Sequence[CaseRecord], share: bool, k: int, lang: str,
            _: Callable[[str], str]) -> Picture:
    """Count the chosen cases (and in a shared digest hide what must be: `whole` is every case, unfiltered)."""
    mine, every = count_keys(chosen, share), count_keys(whole, share)
    if share:
        _window_years(mine, every, k)
    label = _labels(lang, share, _)
    made = {"type": breakdown("type", mine["type"], TYPES, label["type"], True),
            "status": breakdown("status", mine["status"], STATUSES, label["status"], True),
            "lang": breakdown("lang", mine["lang"], LANGS, label["lang"], True),
            "province": breakdown("province", mine["province"], list(provinces()), label["province"], share),
            "occurred": breakdown("occurred", mine["occurred"], _months(mine["occurred"]), label["occurred"], True),
            "received": breakdown("received", mine["received"], _days(mine["received"], share), label["received"],
                                  True)}
    if not share:
        made["tag"] = breakdown("tag", mine["tag"], (), str, False, exclusive=False)
    if share:
        for name in EXCLUSIVE:
            protect(made[name], every[name], k)
    return Picture(len(chosen), made, share, k)


def _months(counted: Counter[str]) -> list[str]:
    months = sorted(k for k in counted if k[:1].isdigit())
    return month_keys(months[0], months[-1]) if months else []


def _days(counted: Counter[str], share: bool) -> list[str]:
    days = sorted(dt.date.fromisoformat(k) for k in counted)
    if not days:
        return []
    if share:  # whole quarters, so that the chart's ends tell no case's week
        first, last = monday(quarter_start(days[0])), monday(quarter_end(days[-1]))
        return [d.isoformat() for d in span(first, last, lambda d: d + dt.timedelta(days=7))]
    return [d.isoformat() for d in span(days[0], days[-1], lambda d: d + dt.timedelta(days=1))]


def _window_years(mine: dict[str, Counter[str]], every: dict[str, Counter[str]], k: int) -> None:
    """Months of occurrence only for the years between the first and last year shown; others in one cell."""
    by_year: Counter[str] = Counter()
    for key, n in mine["occurred"].items():
        by_year[key[:4] if key[:1].isdigit() else key] += n
    every_year: Counter[str] = Counter()
    for key, n in every["occurred"].items():
        every_year[key[:4] if key[:1].isdigit() else key] += n
    years = breakdown("years", by_year, sorted(by_year), str, True)
    protect(years, every_year, k)
    shown = [c.key for c in years.cells if not c.hidden and c.key[:1].isdigit()]
    for counted in (mine["occurred"], every["occurred"]):
        for key in [key for key in counted if key[:1].isdigit() and not (shown and shown[0] <= key[:4] <= shown[-1])]:
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
