"""Cambodia's provinces and Myanmar's states and regions: codes and names (text/answers.py) and drawn shapes.

The shapes (provinces.json) are Natural Earth's admin-1 boundaries, public domain, simplified by
tools/make_provinces.py, which records their source. Natural Earth has no Tboung Khmum (KH-25, made from
Kampong Cham in 2013) and no Nay Pyi Taw (MM-18, inside Mandalay): both are counted, listed, not drawn.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from intake.text.answers import place, places

SHAPES = Path(__file__).with_name("provinces.json")


@cache
def provinces() -> dict[str, str]:
    """Every code the form offers (pycountry's spelling, e.g. KH-12, MM-06), with its English name."""
    return {p.code: p.name for p in places()}


def province_name(code: str, lang: str) -> str | None:
    """The name of a known code in `lang` (the site's catalogue, as the form shows it); None for an unknown code."""
    from intake.digest.pages import translations

    found = place(code)
    return None if found is None else translations(lang).pgettext(found.code, found.name)


@cache
def shapes() -> dict[str, dict[str, object]]:
    """Per country: its SVG view box and one path per code."""
    return json.loads(SHAPES.read_text(encoding="utf-8"))["countries"]
