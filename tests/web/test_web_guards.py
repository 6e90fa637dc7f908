"""Flood guards shared by every server process: one budget and one set of spent challenges for all workers."""

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
from intake.storage.admission import Refused, admit_case
from intake.storage.batches import GroupCommit
from intake.storage.cases import StorageError
from intake.storage.db import writing
from intake.storage.guards import forget_spent, spend, take_budget
from intake.storage.schema import cases, report_budget, spent_challenges
from tests.support.web import Server, b64, begin, csrf_token, make_site, rows, sealed, solve


@pytest.fixture
def two_workers(site):
    """Two apps on one instance and database, as two gunicorn workers are."""
    from intake.web import create_app

    apps = [create_app(site.settings) for _ in range(2)]
    yield apps
    for application in apps:
        application.extensions["intake"].engine.dispose()


def test_one_budget_for_two_workers(two_workers, site):
    """A budget of 3 reports a minute holds across both workers: the fourth is refused by either."""
    for application in two_workers:
        application.extensions["intake"].budget.per_minute = 3
    clients = [application.test_client() for application in two_workers]
    tokens = [csrf_token(c) for c in clients]
    statuses = [begin(clients[n % 2], tokens[n % 2], sealed(site, ())).status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert rows(site.engine)["cases"] == 3


def test_pow_replayed_on_another_worker(two_workers, site):
    """A proof of work spent on one worker is refused by the other."""
    first, second = (application.test_client() for application in two_workers)
    report = sealed(site, ())
    challenge = first.get("/api/v1/challenge").get_json()["challenge"]
    nonce = solve(challenge, 4)
    assert begin(first, csrf_token(first), report, pow_challenge=challenge, pow_nonce=nonce).status_code == 201
    again = begin(second, csrf_token(second), report, pow_challenge=challenge, pow_nonce=nonce)
    assert again.status_code == 400
    assert "already used" in again.get_json()["error"]
    assert rows(site.engine)["cases"] == 1


def test_sliding_window(engine):
    """Half a minute into a new minute, half of the last minute's reports still count."""
    start = 60.0 * 29_000_000
    assert all(take_budget(engine, 10, start + n) for n in range(10))
    assert not take_budget(engine, 10, start + 59)
    halfway = start + 90
    assert [take_budget(engine, 10, halfway) for _ in range(6)] == [True] * 5 + [False]
    assert all(take_budget(engine, 10, start + 180 + n) for n in range(10))


def test_expired_state_forgotten(engine):
    """Expired challenges and counters of minutes out of the window are deleted; a spent challenge stays spent."""
    now = dt.datetime(2030, 1, 1, 12, 0)
    for challenge, expires, fresh in [("old", now - dt.timedelta(seconds=1), True),
                                      ("fresh", now + dt.timedelta(hours=1), True),
                                      ("fresh", now + dt.timedelta(hours=1), False)]:
        with writing(engine) as conn:
            assert spend(conn, challenge, expires) is fresh
    minute = now.replace(tzinfo=dt.UTC).timestamp()
    for ago in (0, 60, 120, 180):
        take_budget(engine, 5, minute - ago)
    forget_spent(engine, now)
    with engine.connect() as conn:
        assert conn.execute(spent_challenges.select()).all() == [("fresh", now + dt.timedelta(hours=1))]
        assert sorted(m for m, _ in conn.execute(report_budget.select())) == [minute // 60 - 1, minute // 60]


def _admit(engine, challenge: str, lengths=(), per_minute: int = 100):  # noqa: ANN001, ANN202
    """Admit a small case spending `challenge`, in a group commit of its own."""
    expires = dt.datetime(2030, 1, 1, 13, 0)
    return admit_case(GroupCommit(engine), challenge, expires, per_minute, 60.0 * 29_000_000, b"h", b"b",
                      ["00" * 16], lengths)


def _guard_rows(engine) -> tuple[int, int, int]:  # noqa: ANN001
    """How many cases, spent challenges and reports counted in the budget are stored."""
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(cases)).scalar_one(),
                conn.execute(select(func.count()).select_from(spent_challenges)).scalar_one(),
                conn.execute(select(func.coalesce(func.sum(report_budget.c.used), 0))).scalar_one())


def test_admission_all_or_nothing(engine):
    """A case that cannot be stored leaves its challenge unspent and the budget uncounted; a replay stores nothing."""
    with pytest.raises(StorageError, match="not a valid stream"):
        _admit(engine, "c1", lengths=[30])
    assert _guard_rows(engine) == (0, 0, 0)
    admitted = _admit(engine, "c1")
    assert admitted.token is None
    with pytest.raises(Refused, match="replayed"):
        _admit(engine, "c1")
    assert _guard_rows(engine) == (1, 1, 1)
    with pytest.raises(Refused, match="budget"):
        _admit(engine, "c2", per_minute=1)
    assert _guard_rows(engine) == (1, 2, 1)


def test_one_challenge_raced_by_many_threads(engine):
    """Eight threads spending one challenge at once: exactly one case is stored, the others are told it was used."""
    def attempt(_: int) -> str:
        try:
            return _admit(engine, "raced").ref
        except Refused as exc:
            return exc.reason

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("replayed") == 7
    assert _guard_rows(engine) == (1, 1, 1)


def test_workers_setting():
    """INTAKE_WORKERS defaults to 2 and refuses what is not a small whole number."""
    assert Settings.from_env({}).workers == 2
    assert Settings.from_env({"INTAKE_WORKERS": "4"}).workers == 4
    with pytest.raises(ValueError, match="INTAKE_WORKERS must be between 1 and 64"):
        Settings.from_env({"INTAKE_WORKERS": "0"})


def _post_report(port: int, cookie: str, token: str, report) -> int:  # noqa: ANN001
    """One sealed report over a new connection (so gunicorn hands it to either worker); its status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/challenge")
    challenge = json.loads(conn.getresponse().read())
    body = {"keyring_serial": 1, "header": b64(report.header), "body": b64(report.body), "lengths": [],
            "website": "", "pow_challenge": challenge["challenge"],
            "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/v1/reports", json.dumps(body),
                 {"Content-Type": "application/json", "X-CSRFToken": token, "Cookie": cookie})
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.slow
def test_serve_two_workers_one_budget(tmp_path: Path):
    """`intake serve` runs two worker processes by default, and 12 concurrent reports meet one budget of 5."""
    made = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}", reports_per_minute=5)
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
        cookie = page.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode()).group(1)
        conn.close()
        report = seal_report([i.recipient for i in made.identities], {"incident_type": "drone", "description": "x"})
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: _post_report(server.port, cookie, token, report), range(12)))
        assert sorted(statuses) == [201] * 5 + [429] * 7
        assert rows(made.engine)["cases"] == 5
    finally:
        server.stop()
        made.engine.dispose()
