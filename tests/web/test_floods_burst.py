"""Bursts get in (issue 11.5): with the default settings, 200 small reports from 8 concurrent clients within a
minute are all stored, without JavaScript and sealed in the client, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.storage.schema import cases
from tests.support import ROOT
from tests.support.proof import Reporter
from tests.support.web import Server, default_site

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # "within a minute" needs the machine to itself
CLIENTS, EACH = 8, 25
FIELDS = {"incident_type": "cctv", "description": "cameras at the junction", "location": "", "occurred": "",
          "device": ""}


def stored(engine) -> int:
    """Complete cases."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(True))).scalar_one()


def release_together(clients: list[subprocess.Popen], outs: list[Path], go: Path) -> None:
    """Wait until every client has solved its challenges (OUT.ready), then tell them all the same start, 1 s away."""
    deadline = time.monotonic() + 600
    while not all(Path(f"{out}.ready").exists() for out in outs):
        exited = [c.returncode for c in clients if c.poll() is not None]
        if exited or time.monotonic() > deadline:
            raise AssertionError(f"clients exited ({exited}), or did not all solve their challenges in 10 minutes")
        time.sleep(0.05)
    unsent = go.with_name("go.tmp")
    unsent.write_text(repr(time.time() + 1))
    unsent.rename(go)


def test_nojs_burst(tmp_path: Path, db_url: str):
    """8 people send 25 reports each through the no-JS form as fast as they can: all 200 get a receipt."""
    site = default_site(tmp_path, db_url)
    server = Server(site.env, tmp_path).start()
    try:
        def one_client(_: int) -> list[str]:
            reporter = Reporter(server.url)
            try:
                return [reporter.send_nojs(FIELDS) for _ in range(EACH)]
            finally:
                reporter.close()

        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            refs = [ref for refs in pool.map(one_client, range(CLIENTS)) for ref in refs]
        elapsed = time.monotonic() - started
        print(f"no-JS burst: {len(refs)} receipts in {elapsed:.1f} s")
        assert len(set(refs)) == CLIENTS * EACH == stored(site.engine)
        assert elapsed < 60, f"200 reports took {elapsed:.0f} s: the burst was not within a minute"
    finally:
        server.stop()
        site.engine.dispose()


def test_sealed_burst(tmp_path: Path, db_url: str):
    """8 clients (processes solving natively) each send 25 sealed reports at once: all 200 are stored.

    Each solves its challenges first, as a page does while its reporter writes (each reporter has a
    device of their own; here 8 clients share the server's cores), then all send at the same moment.
    """
    site = default_site(tmp_path, db_url)
    server = Server(site.env, tmp_path).start()
    clients: list[subprocess.Popen] = []
    try:
        outs = [tmp_path / f"client{n}.json" for n in range(CLIENTS)]
        go = tmp_path / "go"
        clients += [subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.support.flood_attacker", "burst", server.url, str(EACH),
             str(out), str(go)], cwd=ROOT) for out in outs]
        release_together(clients, outs, go)
        assert [c.wait(timeout=600) for c in clients] == [0] * CLIENTS
        records = [json.loads(out.read_text()) for out in outs]
        elapsed = max(r["seconds"] for r in records)
        refs = [ref for r in records for ref in r["refs"]]
        busy = sum(r["statuses"].get("429", 0) for r in records)
        print(f"sealed burst: {len(refs)} receipts in {elapsed:.1f} s, {busy} asked to solve again, "
              f"longest wait {max(w for r in records for w in r['waits']):.2f} s")
        assert len(set(refs)) == CLIENTS * EACH == stored(site.engine)
        assert elapsed < 60, f"200 reports took {elapsed:.0f} s: the burst was not within a minute"
    finally:
        for c in clients:  # a client left waiting for the start after a failure is killed and reaped
            if c.poll() is None:
                c.kill()
            c.wait()
        server.stop()
        site.engine.dispose()
