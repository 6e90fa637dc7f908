"""Cambodia's provinces and Myanmar's states and regions: their ISO 3166-2 codes, names and drawn shapes.

The shapes (provinces.json) are Natural Earth's admin-1 boundaries, public domain, simplified by
tools/make_provinces.py, which records their source. Natural Earth has no Tboung Khmum (KH-25, made from
Kampong Cham in 2013) and no Nay Pyi Taw (MM-18, inside Mandalay): both are counted, listed, not drawn.
"""

from __future__ import annotations

import gettext
import json
from functools import cache
from pathlib import Path

COUNTRIES = ("KH", "MM")
SHAPES = Path(__file__).with_name("provinces.json")


@cache
def provinces() -> dict[str, str]:
    """Every code of the two countries (pycountry's spelling, e.g. KH-12, MM-06) with its English name."""
    import pycountry

    return {s.code: s.name for country in COUNTRIES for s in sorted(
        pycountry.subdivisions.get(country_code=country), key=lambda s: (len(s.code), s.code))}


@cache
def _names(lang: str) -> gettext.NullTranslations:
    import pycountry

    return gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def province_name(code: str, lang: str) -> str | None:
    """The name of a known code in `lang` where pycountry has it (else English); None for an unknown code."""
    name = provinces().get(code)
    return None if name is None else _names(lang).gettext(name)


@cache
def shapes() -> dict[str, dict[str, object]]:
    """Per country: its SVG view box and one path per code."""
    return json.loads(SHAPES.read_text(encoding="utf-8"))["countries"]
