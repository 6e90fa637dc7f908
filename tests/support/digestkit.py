"""Cases for the digest tests: the contract's fields (province, occurred_year/month, lang), hostile text, photos."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from intake.crypto.keys import Recipient
from intake.storage.db import connect, upgrade
from tests.support.photos import pixel_bomb, plain_jpeg, truncated_jpeg
from tests.support.reviewkit import Reviewer, damage_body, jpeg_with_gps, store

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


FETCHERS = ("<meta http-equiv=\"refresh\" content=\"0;url={u}/refresh\"><base href=\"{u}/base/\">"
            "<link rel=\"prefetch\" href=\"{u}/prefetch\"><link rel=\"stylesheet\" href=\"{u}/css\">"
            "<style>@import url({u}/import); body{{background:url({u}/bg)}}</style>"
            "<div style=\"background:url({u}/st)\">"
            "<svg><a href=\"{u}/svga\"><text>x</text></a><image href=\"{u}/svgimage\"/><use href=\"{u}/use#x\"/>"
            "<foreignObject><iframe src=\"{u}/fo\"></iframe></foreignObject></svg>"
            "<form action=\"{u}/form\"><button formaction=\"{u}/fa\">go</button></form><img src=\"{u}/img\">"
            "<a href=\"data:text/html,<script>alert(1)</script>\">d</a><img src=\"data:image/svg+xml,<svg "
            "onload=alert(1)>\"><object data=\"{u}/obj\"></object><script src=\"{u}/js\"></script>"
            "<script>window.pwned=1;fetch('{u}/fetch')</script><img src=x onerror=\"window.pwned=2\">")
ZAWGYI = "ကၽြန္ေတာ္ ဒီေန႔ ေစ်းမွာ ဒ႐ုန္း ျမင္တယ္"  # "I saw a drone at the market today", typed in Zawgyi
BAD_WHEN = [("NaN", "13"), ("-5", "00"), ("٢٠٢٦", "1"), ("1e3", "12"), ("99999", "-1"), ("2026", "\u202e03")]
BAD_PLACES = ["KH-99", "kh-12", "__proto__", "constructor", "MM-6", "<svg onload=alert(1)>"]


def svg_photo(url: str) -> bytes:
    """An SVG that claims to be a photo, fetching and scripting if it were ever rendered."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned=3"><image href="{url}/svgphoto"/>'
            f'<script>fetch("{url}/svgscript")</script></svg>').encode()


def hostile_cases(base: Path, url: str) -> tuple[str, Reviewer, list[str], dict[str, str]]:
    """A database of red-team cases whose every value points at `url` (a listener no request may reach): markup
    that could fetch in every field and file name, SVG as a photo, Zawgyi, bad years, months and provinces, a
    20,000-character tag, 10,000 tags, a hostile note, a forged message of markup, a case that does not open,
    references that are not names of files. Its URL, the reviewer, the references and what each case is."""
    from sqlalchemy import insert, update

    from intake.crypto.report import open_report
    from intake.review.notes import seal_note, seal_tags
    from intake.storage.cases import get_case
    from intake.storage.schema import cases, notes

    db = f"sqlite:///{base / 'intake.db'}"
    engine = connect(db)
    upgrade(engine)
    reviewer = Reviewer.make(base / "reviewer")
    me = [reviewer.recipient]
    markup = FETCHERS.format(u=url)
    what: dict[str, str] = {}
    every_field = {name: markup + LONG_WORD[:2000] for name in ("incident_type", "description", "location",
                                                               "province", "occurred_year", "occurred_month", "lang")}
    what[store(engine, me, [(markup + ".jpg", "image/jpeg", svg_photo(url)), ("p\u202egnp.svg", markup,
                                                                            svg_photo(url))], every_field)] = "fields"
    what[store(engine, me, [], {**fields(0), "description": ZAWGYI, "lang": "my"})] = "zawgyi"
    for n, ((year, month), place) in enumerate(zip(BAD_WHEN, BAD_PLACES, strict=True)):
        what[store(engine, me, [], {**fields(n), "occurred_year": year, "occurred_month": month,
                                    "province": place})] = f"bad when {n}"
    tagged = store(engine, me, [], fields(1))
    what[tagged] = "tags"
    what[store(engine, me, [], fields(2))] = "does not open"
    renamed = {store(engine, me, [], fields(3)): "../../escaped", store(engine, me, [], fields(4)): "<b>x</b>"}
    case = get_case(engine, tagged)
    key = open_report(case.header, case.body, len(case.lengths), [reviewer.identity]).opened.report_key
    day = dt.date.today()
    tags = [markup[:500], "ក" * 20000, *(f"t{i}" for i in range(10000))]
    with engine.begin() as conn:
        case_id = conn.execute(cases.select().where(cases.c.ref == tagged)).first().id
        for header, body in (seal_tags(me, tags, [], reviewer.identity.key_id, key, day.isoformat(), 1),
                             seal_note(me, markup, markup, markup, key, day)):
            conn.execute(insert(notes).values(case_id=case_id, created=day, header=header, body=body))
        for ref, bad in renamed.items():
            conn.execute(update(cases).where(cases.c.ref == ref).values(ref=bad))
            what[bad] = "bad reference"
    from intake.storage.threads import add_message

    add_message(engine, case_id, "reporter", markup.encode(), markup.encode())  # a forged message: "not opened"
    damage_body(engine, next(ref for ref, kind in what.items() if kind == "does not open"))
    engine.dispose()
    return db, reviewer, list(what), what
