"""A database that stays locked (an admin command holding SQLite's write lock past the 30 s busy timeout) is a
clear 503 on both ways in, never a 500, and keeps nothing; the same reports get in once it is free."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from intake.crypto.report import seal_report
from intake.storage.writers import REBUILD_WAIT, queue_for
from tests.support.proof import Reporter
from tests.support.web import rows

pytestmark = pytest.mark.slow
FIELDS = {"incident_type": "cctv", "description": "a camera on the pole", "location": "", "occurred": "",
          "device": ""}
PHOTO = [("photo.jpg", "image/jpeg", b"\xff\xd8" + bytes(3000) + b"\xff\xd9")]
BUSY = "The service is busy. Nothing was stored: try again in a minute."


def test_locked_database_is_a_503_and_keeps_nothing(live):
    """Both paths wait out the busy timeout behind another writer, answer 503 with what to do, and store nothing."""
    site, server = live
    reporter = Reporter(server.url)
    database = Path(site.settings.database_url.removeprefix("sqlite:///"))
    before = rows(site.engine)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what a long `intake purge` or `intake restore` would hold
    answers: dict[str, object] = {}
    sealed = seal_report(reporter.recipients, FIELDS)
    ways = {"nojs": lambda: reporter.post_nojs(FIELDS, PHOTO), "api": lambda: reporter.begin(sealed)}
    threads = [threading.Thread(target=lambda k=k, f=f: answers.__setitem__(k, f())) for k, f in ways.items()]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answers["nojs"].status_code == 503
    assert BUSY in answers["nojs"].text
    assert answers["api"].status_code == 503
    assert answers["api"].json() == {"error": BUSY}
    assert rows(site.engine) == before
    assert reporter.send_nojs(FIELDS, PHOTO)
    assert reporter.send_api(FIELDS, PHOTO)
    logs = "\n".join(log.read_text() for log in server.logs)
    assert "Traceback" not in logs
    assert "database unavailable: OperationalError" in logs
    reporter.close()


def test_a_long_rebuild_of_the_file_is_a_503_not_a_hang(live):
    """The hourly rebuild (storage/layout.py) holds every writer back while `VACUUM` runs: 54 s for a 2 GiB file
    on this machine. Writers used to wait for all of it, in every worker (both workers' threads held, the form
    page itself unanswered, clients timing out after their report was stored); now they are refused with the busy
    503 after REBUILD_WAIT seconds while it still runs, keep nothing, and get in once it is over."""
    site, server = live
    reporter = Reporter(server.url)
    database = site.settings.database_url.removeprefix("sqlite:///")
    before = rows(site.engine)
    held, release = threading.Event(), threading.Event()
    answers: dict[str, object] = {}

    def rebuild() -> None:
        with queue_for(database).rebuilding():  # what shuffle_file holds while VACUUM runs on a large file
            held.set()
            release.wait(timeout=REBUILD_WAIT + 60)

    sealed = seal_report(reporter.recipients, FIELDS)
    ways = {"nojs": lambda: reporter.post_nojs(FIELDS, PHOTO), "api": lambda: reporter.begin(sealed)}
    holder = threading.Thread(target=rebuild)
    holder.start()
    assert held.wait(timeout=30)
    threads = [threading.Thread(target=lambda k=k, f=f: answers.__setitem__(k, f())) for k, f in ways.items()]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=REBUILD_WAIT + 30)
        answered_while_held = set(answers)
    finally:
        release.set()
        holder.join(timeout=30)
    assert answered_while_held == {"nojs", "api"}, "a writer waited for the whole rebuild"
    assert answers["nojs"].status_code == 503
    assert BUSY in answers["nojs"].text
    assert answers["api"].status_code == 503
    assert answers["api"].json() == {"error": BUSY}
    assert rows(site.engine) == before
    assert reporter.send_nojs(FIELDS, PHOTO)
    assert reporter.send_api(FIELDS, PHOTO)
    reporter.close()
