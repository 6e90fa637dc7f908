"""Cases for the digest tests: the contract's fields (province, occurred_year/month, lang), hostile text, photos."""

from __future__ import annotations

import re
from pathlib import Path

from intake.crypto.keys import Recipient
from intake.storage.db import connect, upgrade
from tests.support.photos import pixel_bomb, plain_jpeg, truncated_jpeg
from tests.support.reviewkit import Reviewer, jpeg_with_gps, store

LONG_WORD = "ក" * 20000
HOSTILE = {"incident_type": "<b>drone</b>", "description": "<script>document.title='pwned'</script>"
           "<img src=x onerror=alert(1)> javascript:alert(2) <a href=\"javascript:alert(3)\">x</a> \u202egnp.exe "
           "\u2066hidden\u2069 \ud800 " + LONG_WORD, "location": "<style>body{display:none}</style>",
           "province": "<svg onload=alert(4)>", "occurred_year": "20<26", "occurred_month": "13", "lang": "xx\u202e",
           "\u202efield<i>": "javascript:alert(5)"}
SECRETS = ["Tuol Sleng street", "Hlaing township", "Sok Dara saw it"]


def fields(n: int) -> dict[str, str]:
    """A well-formed report's fields: a type, a province, a month and a language cycling through a few values."""
    return {"incident_type": ("drone", "cctv", "face_recognition")[n % 3],
            "description": f"{SECRETS[2]} (case {n})", "location": SECRETS[n % 2],
            "province": ("KH-12", "MM-06", "KH-17", "KH-25")[n % 4], "occurred_year": "2026",
            "occurred_month": f"{1 + n % 3:02d}", "lang": ("km", "my", "en")[n % 3]}


def make_cases(base: Path, plain: int = 12) -> tuple[str, Reviewer, list[str]]:
    """A SQLite database of `plain` ordinary cases (one with a photo with GPS), one hostile case with a bomb, a
    truncated photo and a video, and one with a good photo; its URL, the reviewer and the references."""
    url = f"sqlite:///{base / 'intake.db'}"
    engine = connect(url)
    upgrade(engine)
    reviewer = Reviewer.make(base / "reviewer")
    recipients: list[Recipient] = [reviewer.recipient]
    refs = [store(engine, recipients, [("gps.jpg", "image/jpeg", jpeg_with_gps())] if n == 0 else [], fields(n))
            for n in range(plain)]
    refs.append(store(engine, recipients, [("bomb.png", "image/png", pixel_bomb()),
                                           ("cut.jpg", "image/jpeg", truncated_jpeg()),
                                           ("clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(64))],
                      HOSTILE))
    refs.append(store(engine, recipients, [("photo.jpg", "image/jpeg", plain_jpeg((900, 600), 4))], fields(1)))
    engine.dispose()
    return url, reviewer, refs


def numbers_shown(html: str) -> list[int]:
    """Every count the index shows: table cells, the total, the bars' and the map's titles."""
    cells = re.findall(r'<td class="n">\s*(\d+)\s*</td>', html)
    total = re.findall(r'<strong id="total">\s*(\d+)\s*</strong>', html)
    titles = re.findall(r"<title>[^<]*: (\d+)</title>", html)
    return [int(n) for n in cells + total + titles]


def active_parts(html: str) -> list[str]:
    """What in a page could run or restyle it: script-like elements, on* or style attributes, javascript: URLs."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("script", "style", "iframe", "object", "embed", "base", "form", "foreignobject"):
                found.append(tag)
            for name, value in attrs:
                if name.startswith("on") or name == "style" or (
                        name in ("href", "src", "xlink:href", "action") and "javascript:" in (value or "").lower()):
                    found.append(f"{tag} {name}={value}")
            if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
                found.append("meta refresh")

    Parser().feed(html)
    return found
