"""The API's proof of work follows the load and prices every report (docs/web.md, "Floods"; issue 11.3)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from intake.crypto.keys import generichash
from intake.web import work as work_module
from intake.web.work import DOMAIN, FRESH_MINUTES, MAX_RISE, SLACK, ProofOfWork, WorkRefused, leading_zero_bits
from tests.support.web import begin, csrf_token, rows, sealed


def zeros(challenge: str, nonce: str) -> int:
    """How many zero bits a nonce gives a challenge."""
    return leading_zero_bits(generichash(32, DOMAIN + challenge.encode() + nonce.encode()))


def nonce_with(challenge: str, low: int, high: int) -> str:
    """A nonce whose solution has between `low` and `high` zero bits."""
    return next(n for n in (format(i, "x") for i in itertools.count()) if low <= zeros(challenge, n) <= high)


def test_effort_doubles_with_the_load():
    """One more bit each time the last minute's reports double past the easy rate, and never past MAX_RISE."""
    work = ProofOfWork(b"secret", base_bits=10, easy_rate=8, workers=2)
    seen = []
    for _ in range(40):
        seen.append(work.effort())
        work.load.add()
    assert seen[:5] == [10] * 5, "4 reports in a worker, 8 for the server: still easy"
    assert [seen[8], seen[16], seen[32]] == [11, 12, 13]
    assert work.challenge()[1] == work.effort() == 14, "80 a minute: 10 times the easy rate, 4 bits more"
    for _ in range(8 * 2 ** MAX_RISE):
        work.load.add()
    assert work.effort() == 10 + MAX_RISE


def test_work_is_checked_without_state():
    """A challenge of another instance, one tampered with, and garbage are refused as invalid."""
    work = ProofOfWork(b"secret", 4, 60, 1)
    challenge, _ = ProofOfWork(b"other", 4, 60, 1).challenge()
    for bad in (challenge, "A" * 50, "\ud800" * 50, None):
        with pytest.raises(WorkRefused) as refused:
            work.verify(bad, "0")
        assert refused.value.status == 400
    mine, bits = work.challenge()
    nonce = nonce_with(mine, bits, 64)
    tampered = mine[:10] + ("A" if mine[10] != "A" else "B") + mine[11:]
    with pytest.raises(WorkRefused):
        work.verify(tampered, nonce)
    assert work.verify(mine, nonce).day == work.verify(mine, nonce).day


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_stockpiled_work_is_refused_under_load(client, site, app):
    """A challenge solved while quiet is refused (429) once the load asks for more than SLACK bits more."""
    work = app.extensions["intake"].work
    token = csrf_token(client)
    quiet = client.get("/api/v1/challenge").get_json()
    assert quiet["bits"] == 4
    for _ in range(work.easy_rate * 2 ** 6):
        work.load.add()
    assert work.effort() >= 4 + SLACK + 3
    cheap = nonce_with(quiet["challenge"], 4, work.effort() - SLACK - 1)
    r = begin(client, token, sealed(site, ()), pow_challenge=quiet["challenge"], pow_nonce=cheap)
    assert r.status_code == 429
    assert "more work" in r.get_json()["error"]
    assert rows(site.engine)["cases"] == 0
    busy = client.get("/api/v1/challenge").get_json()
    assert busy["bits"] == work.effort()
    assert begin(client, token, sealed(site, ())).status_code == 201


def test_old_challenges_get_no_slack(monkeypatch):
    """Issue 19.11: a challenge stockpiled more than FRESH_MINUTES ago must reach the full current effort."""
    clock = [work_module.minute()]
    monkeypatch.setattr(work_module, "minute", lambda: clock[0])
    work = ProofOfWork(b"secret", base_bits=4, easy_rate=8, workers=1)
    challenge, bits = work.challenge()
    for _ in range(8 * 4):
        work.load.add()
    assert work.effort() == bits + SLACK
    nonce = nonce_with(challenge, bits, bits + SLACK - 1)  # enough when issued, SLACK bits short now
    clock[0] += FRESH_MINUTES
    work.verify(challenge, nonce)
    clock[0] += 1
    with pytest.raises(WorkRefused) as refused:
        work.verify(challenge, nonce)
    assert refused.value.status == 429
    clock[0] -= FRESH_MINUTES + 2  # a challenge "from the future" (a clock set back) gets no slack either
    with pytest.raises(WorkRefused):
        work.verify(challenge, nonce)
    full = nonce_with(challenge, bits + SLACK, 64)
    clock[0] += 60
    assert work.verify(challenge, full).day == work.verify(challenge, full).day


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refusal_keeps_nothing(client, site, app):
    """A report refused by a byte budget stores nothing and leaves its challenge unspent."""
    intake = app.extensions["intake"]
    token = csrf_token(client)
    intake.settings = dataclasses.replace(intake.settings, daily_bytes=1 << 20)
    challenge = client.get("/api/v1/challenge").get_json()
    nonce = nonce_with(challenge["challenge"], challenge["bits"], 64)
    report = sealed(site)
    refused = begin(client, token, report, pow_challenge=challenge["challenge"], pow_nonce=nonce)
    assert refused.status_code == 503
    assert "tomorrow" in refused.get_json()["error"]
    assert rows(site.engine)["cases"] == 0
    intake.settings = dataclasses.replace(intake.settings, daily_bytes=1 << 30)
    again = begin(client, token, report, pow_challenge=challenge["challenge"], pow_nonce=nonce)
    assert again.status_code == 201
    replay = begin(client, token, report, pow_challenge=challenge["challenge"], pow_nonce=nonce)
    assert replay.status_code == 400
    assert "already used" in replay.get_json()["error"]


def test_replay_refused_by_another_worker(site):
    """Two workers of one instance share the spent challenges: a solution spent on one is refused by the other."""
    from intake.web import create_app

    apps = [create_app(site.settings) for _ in range(2)]
    try:
        first, second = (a.test_client() for a in apps)
        challenge = first.get("/api/v1/challenge").get_json()
        nonce = nonce_with(challenge["challenge"], challenge["bits"], 64)
        report = sealed(site, ())
        ok = begin(first, csrf_token(first), report, pow_challenge=challenge["challenge"], pow_nonce=nonce)
        assert ok.status_code == 201
        again = begin(second, csrf_token(second), report, pow_challenge=challenge["challenge"], pow_nonce=nonce)
        assert again.status_code == 400
        assert rows(site.engine)["cases"] == 1
    finally:
        for a in apps:
            a.extensions["intake"].engine.dispose()
