"""A database that stays locked (an admin command holding SQLite's write lock past the 30 s busy timeout) is a
clear 503 on both ways in, never a 500, and keeps nothing; the same reports get in once it is free."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from intake.crypto.report import seal_report
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
