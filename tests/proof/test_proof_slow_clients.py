"""Slow and flood clients against a live `intake serve`: other reporters still get through, floods get 429s.

Slowloris connections dribble their headers, body tricklers send a body at 1 byte/s; meanwhile a reporter
sends reports on both paths. A flood past the no-JS budget gets 429s while the server keeps answering.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.hostile_http import measure
from tests.support.proof import Reporter, open_all
from tests.support.web import Server, make_site

pytestmark = [pytest.mark.soak, pytest.mark.serial]  # reporters' times, measured against a baseline
HOLD = 20.0
THREADS = 8  # gunicorn threads of a worker (intake/web/serve.py)
WORKERS = 2  # pinned by INTAKE_WORKERS where the setting exists, so that the counts below hold
FIELDS = {"incident_type": "cctv", "description": "still gets through", "location": "", "occurred": "", "device": ""}


def slowloris(port: int, stop: threading.Event, held: list[int]) -> None:
    """Open a connection and send one more header line every two seconds until told to stop."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        held.append(1)
        for n in range(int(HOLD)):
            if stop.wait(2):
                return
            try:
                s.sendall(b"X-Slow-%d: a\r\n" % n)
            except OSError:
                return


def trickler(port: int, path: str, stop: threading.Event, sent: list[int]) -> None:
    """Send complete headers, then the body one byte a second until told to stop."""
    body_type = "multipart/form-data; boundary=b" if path == "/report" else "application/octet-stream"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"{'POST' if path == '/report' else 'PUT'} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Content-Type: {body_type}\r\nContent-Length: 100000\r\n\r\n".encode())
        for _ in range(int(HOLD) * 2):
            if stop.wait(1):
                return
            try:
                s.sendall(b"-")
            except OSError:
                return
            sent.append(1)


@pytest.fixture
def site_server(tmp_path: Path):
    """A SQLite instance served with a cheap proof of work and the given budget."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    servers: list[Server] = []

    def start(per_minute: int) -> Server:
        servers.append(Server({**site.env, "INTAKE_POW_BITS": "0", "INTAKE_NOJS_PER_MINUTE": str(per_minute),
                               "INTAKE_WORKERS": str(WORKERS)},
                              tmp_path).start())
        return servers[-1]

    yield site, start
    for server in servers:
        server.stop()
    site.engine.dispose()


@pytest.mark.parametrize(("slow_headers", "tricklers"), [
    (THREADS // 2 - 1, 1),
    (WORKERS * THREADS + 44, 0),
    (0, WORKERS * THREADS + 12),
], ids=["fewer than the threads", "slowloris", "1 byte per second"])
def test_slow_clients_do_not_block_reporters(site_server, slow_headers: int, tricklers: int) -> None:
    """With slowloris connections and 1 byte/s bodies held open, a reporter's reports go through in good time."""
    site, start = site_server
    server = start(1000)
    reporter = Reporter(server.url)
    baseline = measure(lambda: reporter.send_nojs(FIELDS, [("a.jpg", "image/jpeg", b"x" * 5000)]), times=3)
    stop, held, sent = threading.Event(), [], []
    upload = reporter.begin(reporter_sealed(reporter)).json()["upload"]
    attackers = [threading.Thread(target=slowloris, args=(server.port, stop, held)) for _ in range(slow_headers)]
    attackers += [threading.Thread(target=trickler, args=(server.port, "/report" if i % 2 else
                                                          f"/api/v1/uploads/{upload}/0/0", stop, sent))
                  for i in range(tricklers)]
    for t in attackers:
        t.start()
    try:
        time.sleep(3)
        assert len(held) == slow_headers
        refs, spent = [], []
        for n in range(6):
            began = time.monotonic()
            fresh = Reporter(server.url, timeout=15)
            send = fresh.send_api if n % 2 else fresh.send_nojs
            refs.append(send(FIELDS, [("a.jpg", "image/jpeg", b"x" * 5000)]))
            fresh.close()
            spent.append(time.monotonic() - began)
        assert sent or not tricklers, "the tricklers should have been sending all along"
    finally:
        stop.set()
        for t in attackers:
            t.join(timeout=30)
    assert max(spent) < 40 * baseline + 2, (spent, baseline)
    opened = open_all(site.engine, site.identities)
    assert all(opened[ref][0]["description"] == FIELDS["description"] for ref in refs)
    reporter.close()


def reporter_sealed(reporter: Reporter):
    """A small report with one attachment, sealed to the server's keyring."""
    from intake.crypto.report import seal_report

    return seal_report(reporter.recipients, FIELDS, [("v.mp4", "video/mp4", [b"v" * 3000])])


def test_flood_gets_429_and_server_answers(site_server) -> None:
    """Sixty no-JS posts at once against a budget of ten a minute per worker: at most that many stored, the rest
    429; a browser-sealed report still gets in (the API is priced apart, docs/web.md "Floods"); the site answers."""
    site, start = site_server
    server = start(10)
    reporter = Reporter(server.url)
    baseline = measure(lambda: reporter.http.get(server.url + "/keyring.json", timeout=30))
    codes: list[int] = []
    busy: list[bool] = []

    def flood(_n: int) -> None:
        flooder = Reporter(server.url)
        for _ in range(10):
            r = flooder.post_nojs(FIELDS)
            codes.append(r.status_code)
            if r.status_code == 429:
                busy.append("wait a minute" in r.text)
        flooder.close()

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    during = []
    while any(t.is_alive() for t in threads) and len(during) < 200:
        began = time.monotonic()
        assert reporter.http.get(server.url + "/keyring.json", timeout=30).status_code == 200
        during.append(time.monotonic() - began)
    for t in threads:
        t.join(timeout=60)
    assert sorted(set(codes)) == [200, 429]
    assert 10 <= codes.count(200) <= 10 * WORKERS
    assert busy == [True] * codes.count(429)
    assert max(during, default=0) < 50 * baseline + 1, (max(during), baseline)
    assert reporter.begin(reporter_sealed(reporter)).status_code == 201
    assert "Traceback" not in server.log_text()
    reporter.close()
