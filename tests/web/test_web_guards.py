"""Flood guards shared by every server process: one set of spent challenges and one byte budget for all workers."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.crypto.report import seal_report
from intake.settings import Settings
from intake.storage.admission import Limits, Refused, admit_case
from intake.storage.batches import GroupCommit
from intake.storage.budgets import sweep
from intake.storage.cases import StorageError
from intake.storage.schema import cases, spent_work, stored_bytes
from intake.web.tokens import day_number
from tests.support.web import Server, b64, make_site, rows, solve

LIMITS = Limits(daily_bytes=1 << 30, pending_bytes=1 << 30)


def _admit(engine, digest: bytes, lengths=(), limits: Limits = LIMITS, day: int | None = None):  # noqa: ANN001, ANN202
    """Admit a small case spending `digest`, in a group commit of its own."""
    return admit_case(GroupCommit(engine), digest, day_number() if day is None else day, limits, b"h", b"b",
                      ["00" * 16], lengths)


def _guard_rows(engine) -> tuple[int, int, int]:  # noqa: ANN001
    """How many cases and spent challenges are stored, and how many bytes were charged."""
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(cases)).scalar_one(),
                conn.execute(select(func.count()).select_from(spent_work)).scalar_one(),
                conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))).scalar_one())


def test_admission_all_or_nothing(engine):
    """A case that cannot be stored, or is over a budget, leaves nothing: no spent challenge, no bytes charged."""
    with pytest.raises(StorageError, match="not a valid stream"):
        _admit(engine, b"c1" * 8, lengths=[30])
    assert _guard_rows(engine) == (0, 0, 0)
    assert _admit(engine, b"c1" * 8).token is None
    with pytest.raises(Refused, match="replayed"):
        _admit(engine, b"c1" * 8)
    assert _guard_rows(engine) == (1, 1, 2)
    with pytest.raises(Refused, match="daily"):
        _admit(engine, b"c2" * 8, limits=Limits(daily_bytes=3, pending_bytes=1 << 30))
    with pytest.raises(Refused, match="pending"):
        _admit(engine, b"c3" * 8, lengths=[1 << 20], limits=Limits(daily_bytes=1 << 30, pending_bytes=1 << 19))
    assert _guard_rows(engine) == (1, 1, 2)


def test_spent_days_dropped_whole(engine):
    """A sweep drops the spent challenges of days that can no longer be spent, and keeps yesterday's."""
    for day, digest in ((day_number() - 2, b"a" * 16), (day_number() - 1, b"b" * 16), (day_number(), b"c" * 16)):
        _admit(engine, digest, day=day)
    assert sweep(engine, time.time(), day_number()) is not None
    with engine.connect() as conn:
        assert sorted(conn.execute(select(spent_work.c.digest)).scalars()) == [b"b" * 16, b"c" * 16]
        assert conn.execute(select(spent_work.c.day)).scalars().all() != []
        assert all(isinstance(d, dt.date) for d in conn.execute(select(spent_work.c.day)).scalars())


def test_one_challenge_raced_by_many_threads(engine):
    """Eight threads spending one challenge at once: exactly one case is stored, the others are told it was used."""
    def attempt(_: int) -> str:
        try:
            return _admit(engine, b"raced" * 3 + b"x").ref
        except Refused as exc:
            return exc.reason

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("replayed") == 7
    assert _guard_rows(engine)[:2] == (1, 1)


def test_workers_setting():
    """INTAKE_WORKERS defaults to 2 and refuses what is not a small whole number."""
    assert Settings.from_env({}).workers == 2
    assert Settings.from_env({"INTAKE_WORKERS": "4"}).workers == 4
    with pytest.raises(ValueError, match="INTAKE_WORKERS must be between 1 and 64"):
        Settings.from_env({"INTAKE_WORKERS": "0"})


def _post_report(port: int, token: str, body: dict) -> int:
    """One sealed report over a new connection (so gunicorn hands it to either worker); its status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/v1/reports", json.dumps(body), {"Content-Type": "application/json",
                                                               "X-CSRFToken": token})
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.slow
def test_serve_two_workers_one_spent_set(tmp_path: Path):
    """`intake serve` runs two worker processes; one solution sent 12 times at once is stored once, no cookie."""
    made = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server(made.env, tmp_path).start()
    try:
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        for _ in range(100):
            if len(children.read_text().split()) == 2:
                break
            time.sleep(0.05)
        assert len(children.read_text().split()) == 2
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", "/")
        page = conn.getresponse()
        assert page.getheader("Set-Cookie") is None
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode()).group(1)
        conn.request("GET", "/api/v1/challenge")
        challenge = json.loads(conn.getresponse().read())
        conn.close()
        report = seal_report([i.recipient for i in made.identities], {"incident_type": "drone", "description": "x"})
        body = {"keyring_serial": 1, "header": b64(report.header), "body": b64(report.body), "lengths": [],
                "website": "", "pow_challenge": challenge["challenge"],
                "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: _post_report(server.port, token, body), range(12)))
        assert sorted(statuses) == [201] + [400] * 11
        assert rows(made.engine)["cases"] == 1
    finally:
        server.stop()
        made.engine.dispose()
