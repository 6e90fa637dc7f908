"""Nothing finer than the day (issue 10 point 4): reports sent at known times leave no time, and no order of
arrival, in any row, the SQLite files (main and WAL) or the server's logs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from intake.clock import today
from tests.support import run_cli
from tests.support.proof import Reporter
from tests.support.time_traces import scan_bytes, scan_rows, windows
from tests.support.web import Server, make_site

pytestmark = pytest.mark.slow
FIELDS = {"incident_type": "drone", "description": "a drone over the market", "location": "", "occurred": "",
          "device": ""}
BOOT = ("Starting gunicorn", "Listening at", "Using worker", "Booting worker")
SMALL = [("photo.jpg", "image/jpeg", b"\xff\xd8" + bytes(range(256)) * 8 + b"\xff\xd9")]


def test_no_time_finer_than_the_day(tmp_path: Path, db_url: str):
    """Send 12 reports a second apart by both paths (and leave an upload unfinished), then search for
    their times in every unit, as text and as binary, in every row and in the database files (the day's partial
    anchor included: anchors and anchor_items)."""
    site = make_site(tmp_path, db_url)
    server = Server(site.env, tmp_path).start()
    reporter = Reporter(server.url)
    started = time.time()
    order = []
    try:
        for n in range(12):
            time.sleep(1)
            files = SMALL if n % 3 == 0 else []
            order.append(reporter.send_nojs(FIELDS, files) if n % 2 else reporter.send_api(FIELDS, files))
        report = reporter.begin(__import__("intake.crypto.report", fromlist=["seal_report"]).seal_report(
            reporter.recipients, FIELDS, [(n, t, [d]) for n, t, d in SMALL]))
        assert report.status_code == 201
        anchored = run_cli("intake", "anchor", "--day", today().isoformat(), cwd=tmp_path, env=site.env)
        assert "anchored 12 items in 64 leaves: partial" in anchored.stderr  # the anchor tables get rows to search
        ended = time.time()
        spans = windows(started, ended, slack=120)
        found = scan_rows(site.engine, spans)
        if db_url.startswith("sqlite"):
            database = Path(db_url.removeprefix("sqlite:///"))
            for path in (database, database.with_name(database.name + "-wal")):
                if path.exists():
                    found += [f"{path.name}: {f}" for f in scan_bytes(path.read_bytes(), spans)]
        assert found == [], found
        lines = [line for log in server.logs for line in log.read_text().splitlines()]
        assert [line for line in lines if not any(boot in line for boot in BOOT)] == [], "logged during the reports"
        with site.engine.connect() as conn:
            stored = conn.execute(text("SELECT ref FROM cases WHERE complete = true ORDER BY id")).scalars().all()
            assert sorted(stored) == sorted(order)
            assert stored != order, "case ids follow the order of arrival"
            if db_url.startswith("sqlite"):
                natural = conn.execute(text("SELECT ref FROM cases WHERE complete = 1")).scalars().all()
                assert natural != order
                for table in ("attachments", "case_keys", "messages", "spent_work", "stored_bytes", "anchors",
                              "anchor_items"):
                    with pytest.raises(Exception, match="no such column: rowid"):
                        conn.execute(text(f"SELECT rowid FROM {table}"))  # noqa: S608 - our table names
                assert conn.execute(text("SELECT count(*) FROM parts WHERE rowid != pid")).scalar() == 0
            part_ids = conn.execute(text("SELECT pid FROM parts")).scalars().all()
            assert len(part_ids) == 4
            assert all(pid > 1 << 32 for pid in part_ids), "part ids count up"
    finally:
        reporter.close()
        server.stop()
        site.engine.dispose()
