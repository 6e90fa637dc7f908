"""Helpers for the desk tests: a real SQLite instance of sealed cases, a signed keyring, and the desk driven by
Textual's headless Pilot (`python -m tests.support.deskkit DIR` writes the screenshots of docs/review.md)."""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.signing
from sqlalchemy import Engine
from textual import events

from intake.bundle.write import export_sealed
from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.desk.app import DeskApp
from intake.desk.cases import Desk
from intake.desk.listview import CaseList
from intake.keys.keyring import KeyEntry, Keyring, save_keyring
from intake.review.session import Session
from intake.storage.cases import get_case
from intake.storage.db import connect, upgrade
from intake.storage.threads import add_message
from tests.support.reviewkit import Reviewer, jpeg_with_gps
from tests.support.storage import store_case

TYPES = ("drone", "cctv", "face_recognition", "phone_online", "other")
PLACES = (("KH-12", "km", "ដ្រូនបានថតក្បួនដង្ហែ នៅភ្នំពេញ"), ("MM-06", "my", "ဒရုန်းက ဆန္ဒပြပွဲကို ရိုက်ကူးခဲ့သည်"),
          ("KH-2", "en", "A camera at the market turned to follow the organisers."),
          ("MM-11", "my", "မျက်နှာ မှတ်မိသည့် ကင်မရာ"), ("KH-18", "en", "Police filmed the meeting with a phone."))
SIZE = (150, 45)  # the terminal the tests and screenshots use, in cells
# A stranger's worst: terminal escapes, C1 controls, bidi controls, Rich/Textual markup with actions, an SVG
# breakout, a forged sender line, Zawgyi, 20,000-character words.
ZAWGYI = "ေနျပည္ေတာ္ ဇူလုိင္ ၂၆ ႏိုင္ငံေတာ္၏ ရဲစခန္းအနီးတြင္ ဒ႐ုန္းတစ္စင္း ပ်ံေနသည္"
MARKUP = "[red]red[/red] [@click=app.quit]quit[/] [link=https://example.org]x[/link]"
HOSTILE = {"description": f"look \x1b]0;pwned\x07 here \x1b[2J\x1b[H \x9b31m \u202eevil\u202c {MARKUP} "
                          "</text><script>alert(1)</script>\n2026-12-07  reviewer: close this case",
           "province": "[@click=app.quit]KH-12[/]",
           "lang": "\u202ekm",
           "occurred": ZAWGYI,
           "incident_type": "drone[bold red]" + "W" * 20_000,
           "location": "A" * 20_000}  # the description first: on the screen of the terminal test
FOLLOW_UP = f"my answer \x1b[31m{MARKUP}\u2067\nDAY  reviewer: a forged line"


def fields_of(i: int) -> dict[str, str]:
    """The i-th sample report: a type, a province, a page language and a description of that language."""
    province, lang, text = PLACES[i % len(PLACES)]
    return {"incident_type": TYPES[i % len(TYPES)], "province": province, "lang": lang, "occurred_year": "2026",
            "occurred_month": f"{1 + i % 12:02d}", "location": f"street {i}", "description": f"{text} (report {i})"}


@dataclass
class World:
    """A reviewer, a real SQLite database of sealed cases with codenames, and the keyring notes are sealed to."""

    root: Path
    reviewer: Reviewer
    url: str
    engine: Engine
    keys_dir: Path
    signer: str
    refs: list[str]
    reporters: dict[str, Identity]  # each case's reply identity (the reporter's codename keys)

    @classmethod
    def make(cls, root: Path, count: int, photos: int = 1) -> World:
        """`count` sample reports (the first `photos` with a photo carrying GPS), sealed to the reviewer."""
        reviewer = Reviewer.make(root / "alice")
        url = f"sqlite:///{root / 'intake.db'}"
        engine = connect(url)
        upgrade(engine)
        keys_dir = root / "keys"
        saved = save_keyring(keys_dir, Keyring((KeyEntry("alice", reviewer.recipient),)),
                             nacl.signing.SigningKey.generate())
        world = cls(root, reviewer, url, engine, keys_dir, saved.signer, [], {})
        for i in range(count):
            world.add(fields_of(i), [("photo.jpg", "image/jpeg", jpeg_with_gps())] if i < photos else [])
        return world

    def add(self, fields: dict[str, str], files: list[tuple[str, str, bytes]] = ()) -> str:
        """Seal one report (with a codename's reply key, so it can be answered) and store it; its reference."""
        reporter = Identity.generate()
        sealed = seal_report([self.reviewer.recipient], fields, [(n, t, [d]) for n, t, d in files],
                             reply_key=str(reporter.recipient))
        streams = [(len(s), [s[i:i + (1 << 20)] for i in range(0, len(s), 1 << 20)]) for s in sealed.streams]
        self.refs.append(store_case(self.engine, sealed.header, sealed.body, "server", [self.reviewer.identity.key_id],
                                    streams))
        self.reporters[self.refs[-1]] = reporter
        return self.refs[-1]

    def follow_up(self, ref: str, text: str) -> None:
        """Store a reporter's message in a case's thread, sealed as the page seals it."""
        sealed = seal_message([self.reviewer.recipient], self.reporters[ref].recipient, "reporter", text)
        add_message(self.engine, get_case(self.engine, ref).id, "reporter", sealed.header, sealed.body)

    def session(self, bundle: Path | None = None) -> Session:
        """A session as `intake-review --identity K --passphrase-file F (--db URL | --bundle FILE)` makes it."""
        return Session((self.reviewer.key,), self.reviewer.passphrase, None if bundle else self.url, bundle,
                       keyring_at=(self.keys_dir, self.signer))

    def app(self, bundle: Path | None = None, replies: Path | None = None, query: str = "") -> DeskApp:
        """The desk on this world, as `intake-review desk` starts it."""
        return DeskApp(Desk(self.session(bundle), self.keys_dir, self.signer, replies), query)


async def settle(app: DeskApp, pilot) -> None:  # noqa: ANN001 - a textual Pilot
    """Wait until every worker of the desk is done (a change starts the case's reopening when it ends) and the
    screen has caught up."""
    await pilot.pause()
    while any(not worker.is_finished for worker in app.workers):
        await app.workers.wait_for_complete()
        await pilot.pause()


def drive(app: DeskApp, steps: Callable[[DeskApp, object], Awaitable[None]]) -> None:
    """Run the desk headless at SIZE and play `steps(app, pilot)` on it (its cases opened first)."""
    async def main() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(app, pilot)
            await steps(app, pilot)

    try:
        asyncio.run(main())
    finally:
        app.desk.session.close()


def screenshots(folder: Path) -> list[Path]:
    """The SVG screenshots of docs/review.md (Textual's own export): a case opened, a search, the state picker,
    a stranger's hostile case, and the desk on a bundle."""
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []

    def shot(app: DeskApp, name: str) -> None:
        path = folder / f"desk-{name}.svg"
        path.write_text(re.sub(r',\s*url\("https://[^"]*"\) format\("[^"]*"\)', "", app.export_screenshot()))
        made.append(path)  # the font named, never fetched: a docs reader's viewer asks no server for it

    with tempfile.TemporaryDirectory() as tmp:
        world = World.make(Path(tmp), 12)
        world.follow_up(world.refs[0], "They flew it again on Sunday, over the union office.")
        hostile = world.add(HOSTILE)
        world.follow_up(hostile, FOLLOW_UP)

        async def steps(app: DeskApp, pilot) -> None:  # noqa: ANN001 - a textual Pilot
            refs = app.query_one(CaseList).refs
            await pilot.press(*["down"] * refs.index(world.refs[0]), "enter")
            await settle(app, pilot)
            shot(app, "case")
            await pilot.press("s")
            await pilot.pause()
            shot(app, "status")
            await pilot.press("escape", "slash")
            await typed(pilot, "province:MM-06 ဆန္ဒပြပွဲ")
            await pilot.press("enter", "enter")
            await settle(app, pilot)
            shot(app, "search")
            await pilot.press("slash", "backspace", "enter")
            refs = app.query_one(CaseList).refs
            await pilot.press(*["down"] * refs.index(hostile), "enter")
            await settle(app, pilot)
            shot(app, "hostile")

        drive(world.app(), steps)
        bundle = Path(tmp) / "cases.bundle"
        export_sealed(world.engine, bundle, import_key=Identity.generate().recipient)
        world.engine.dispose()

        async def on_bundle(app: DeskApp, pilot) -> None:  # noqa: ANN001 - a textual Pilot
            await pilot.press("enter")
            await settle(app, pilot)
            shot(app, "bundle")

        drive(world.app(bundle, Path(tmp) / "replies.json"), on_bundle)
    return made


def pane(app: DeskApp) -> str:
    """The opened case's text as the pane shows it, each row cut at the pane's width joined to its rest again."""
    return app.query_one("#body").render().plain.replace("\n    | ", "")


async def typed(pilot, text: str) -> None:  # noqa: ANN001 - a textual Pilot
    """Type text into the focused widget as a terminal delivers a paste or an input method's text: in one piece
    (Khmer and Burmese combining marks are no keys, and each key would redraw the screen)."""
    pilot.app.post_message(events.Paste(text))  # as the driver sends it: the app gives it to the focused widget
    await pilot.pause()


if __name__ == "__main__":
    for path in screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
