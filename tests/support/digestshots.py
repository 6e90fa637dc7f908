"""The digest's screenshots in docs/review.md: `python -m tests.support.digestshots [DIR]` (docs/screenshots unless
told) stores 140 sample cases in a temporary database, runs the real `intake-review digest` (the team's in English
and in Khmer, and --share) and opens each page from file:// in Debian's Chromium, 1000 px wide, down to the end
of the part the docs show (the breakdowns' tables; the map of the Khmer one; a case's whole page)."""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from sqlalchemy import update

from intake.storage.db import connect, upgrade
from intake.storage.schema import cases
from tests.support.browser import Chromium
from tests.support.reviewkit import Reviewer, store

TYPES = {"drone": 45, "cctv": 34, "face_recognition": 38, "phone_online": 9, "other": 14}
LANGS = {"km": 73, "my": 33, "en": 34}
PLACES = {"MM-06": 30, "KH-12": 20, "MM-04": 14, "KH-17": 12, "MM-15": 10, "MM-13": 8, "KH-2": 6, "MM-17": 6,
          "MM-01": 5, "KH-3": 4, "KH-25": 4, "KH-23": 3, "MM-18": 3, "MM-02": 2, "": 13}
MONTHS = {(2025, m): n for m, n in zip(range(1, 13), (1, 8, 6, 8, 5, 5, 2, 10, 2, 1, 1, 0), strict=True)} | {
    (2026, m): n for m, n in zip(range(1, 13), (8, 9, 10, 7, 5, 5, 1, 2, 13, 7, 11, 5), strict=True)}
STATUSES = {"new": 112, "in review": 16, "needs follow-up": 3, "closed": 7, "spam": 2}
TEXTS = ("A drone hovered over the protest camp for an hour.", "New cameras on the poles at the market junction.",
         "They checked every face at the checkpoint with a tablet.", "My phone showed a message from the police.")
SHOTS = {"digest-team": ("team/index.html", ".columns"), "digest-case": ("team/cases/{ref}.html", "body"),
         "digest-team-km": ("team-km/index.html", "#map"), "digest-shared": ("shared/index.html", ".columns")}


def spread(counts: dict, rng: random.Random) -> list:
    """Each key as many times as its count, shuffled."""
    values = [key for key, n in counts.items() for _ in range(n)]
    rng.shuffle(values)
    return values


def sample_cases(base: Path) -> tuple[str, Reviewer, str]:
    """A SQLite database of 140 cases (the same every run), its URL, the reviewer and the first case's reference."""
    rng = random.Random(7)
    url = f"sqlite:///{base / 'intake.db'}"
    engine = connect(url)
    upgrade(engine)
    reviewer = Reviewer.make(base / "reviewer")
    columns = [spread(c, rng) for c in (TYPES, LANGS, PLACES, MONTHS, STATUSES)]
    missing = 140 - len(columns[3])
    columns[3] += [(None, None)] * missing  # a case without a date is counted, not charted
    refs = []
    for n, (kind, lang, place, (year, month), status) in enumerate(zip(*columns, strict=True)):
        fields = {"incident_type": kind, "description": TEXTS[n % len(TEXTS)], "location": "near the market",
                  "province": place, "lang": lang}
        if year:
            fields |= {"occurred_year": str(year), "occurred_month": f"{month:02d}"}
        refs.append(store(engine, [reviewer.recipient], [], fields))
        with engine.begin() as conn:
            conn.execute(update(cases).where(cases.c.ref == refs[-1]).values(status=status))
    engine.dispose()
    return url, reviewer, refs[0]


def screenshots(folder: Path) -> list[Path]:
    """Make the digests and write their screenshots into `folder`; return their paths."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        url, reviewer, ref = sample_cases(base)
        for out, extra in (("team", ()), ("team-km", ("--pages-in", "km")), ("shared", ("--share",))):
            reviewer.run("digest", *extra, "--out", str(base / out), where=("--db", url))
        chromium = Chromium()
        made = []
        try:
            context = chromium.get().new_context(viewport={"width": 1000, "height": 900})
            page = context.new_page()
            for name, (page_path, until) in SHOTS.items():
                page.goto((base / page_path.format(ref=ref)).as_uri())
                box = page.locator(until).first.bounding_box()
                made.append(folder / f"{name}.png")
                page.screenshot(path=str(made[-1]), full_page=True,
                                clip={"x": 0, "y": 0, "width": 1000, "height": box["y"] + box["height"] + 16})
        finally:
            chromium.stop()
    return made


if __name__ == "__main__":
    for path in screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
