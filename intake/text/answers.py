"""The form's structured answers (docs/format.md §5.1): places from pycountry, months and years, and how each reads.

Codes and English names come from pycountry's ISO 3166-2 subdivisions, never from a list typed here; the page's
Khmer and Burmese place names are in the .po catalogs (`extract_places` feeds them to pybabel), month names come
from CLDR through Babel. A sealed value is a stranger's text: an unknown one is named as such, never looked up
without checking.
"""

from __future__ import annotations

import datetime as dt
import gettext
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pycountry
from babel.dates import get_month_names

COUNTRIES = ("KH", "MM")  # Cambodia's provinces, Myanmar's states and regions
LANGS = ("en", "km", "my")
YEARS_BACK = 10  # the year picker: this year and the ten before it
BE_OFFSET = 543  # the Buddhist era: BE = CE + 543
MONTHS = tuple(f"{m:02d}" for m in range(1, 13))


@dataclass(frozen=True)
class Place:
    """One province (Cambodia) or state/region (Myanmar): its ISO 3166-2 code and English name (pycountry)."""

    code: str
    name: str
    country: str  # the alpha-2 code


@cache
def places() -> tuple[Place, ...]:
    """Every province of Cambodia and state/region of Myanmar, by country then English name."""
    found = [Place(s.code, s.name, s.country_code)
             for c in COUNTRIES for s in pycountry.subdivisions.get(country_code=c)]
    return tuple(sorted(found, key=lambda p: (COUNTRIES.index(p.country), p.name)))


@cache
def _by_code() -> dict[str, Place]:
    return {p.code: p for p in places()}


def place(code: object) -> Place | None:
    """The place with this exact code, or None for anything else (a code of another country included)."""
    return _by_code().get(code) if isinstance(code, str) else None


@cache
def country_name(alpha2: str, lang: str = "en") -> str:
    """A country's name in `lang`, from pycountry's translations of ISO 3166-1 (English if it has none)."""
    name = pycountry.countries.get(alpha_2=alpha2).name
    if lang == "en":
        return name
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True).gettext(name)


def years(today: dt.date) -> tuple[str, ...]:
    """The years the picker offers, newest first: this year and the YEARS_BACK before it, as 4 ASCII digits."""
    return tuple(str(y) for y in range(today.year, today.year - YEARS_BACK - 1, -1))


def is_year(value: object) -> bool:
    """Whether a sealed `occurred_year` is a year as the form writes it: 4 ASCII digits, not starting with 0."""
    return isinstance(value, str) and len(value) == 4 and value.isascii() and value.isdigit() and value[0] != "0"


def buddhist_year(value: str) -> str:
    """The Buddhist-era year of a Gregorian one written as `is_year` accepts."""
    return str(int(value) + BE_OFFSET)


def month_name(value: object, lang: str = "en") -> str | None:
    """The name of a sealed `occurred_month` ("01".."12") in `lang` (CLDR, through Babel), or None."""
    if value not in MONTHS:
        return None
    return str(get_month_names("wide", locale=lang)[int(str(value))])


def readable(name: str, value: str) -> str:
    """A sealed field as the reviewer's tools print it: a known code or number followed by what it means."""
    meaning = None
    if name == "province" and (found := place(value)):
        meaning = f"{found.name}, {country_name(found.country)}"
    elif name == "province":
        meaning = "not a province code of the form"
    elif name == "occurred_month":
        meaning = month_name(value) or "not a month of the form"
    elif name == "occurred_year":
        meaning = f"BE {buddhist_year(value)}" if is_year(value) else "not a year of the form"
    elif name == "lang":
        meaning = {"en": "English", "km": "Khmer", "my": "Burmese"}.get(value, "not a language of the form")
    return value if meaning is None else f"{value} ({meaning})"


def extract_places(fileobj: object, keywords: object, comment_tags: object,
                   options: object) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """A pybabel extraction method (babel.cfg): each place's English name, with its code as the context."""
    for p in places():
        yield 1, "pgettext", (p.code, p.name), [f"ISO 3166-2 {p.code}, {country_name(p.country)} (pycountry)"]
