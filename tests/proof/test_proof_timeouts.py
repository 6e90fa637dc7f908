"""The slow-client rules against a live `intake serve`: each one ends a request that sends nothing useful, and
none ends an honest slow upload.

The server runs with short limits (headers within 2 s, silences of at most 3 s, 1 KiB/s after 2 s) so that each
rule shows within seconds; times are only checked against generous bounds that catch a hang.
"""

from __future__ import annotations

import re
import select
import socket
import time

import pytest
import requests

from tests.support.proof import RECEIPT, Reporter, open_all
from tests.support.web import Server, make_site, rows

pytestmark = [pytest.mark.soak, pytest.mark.serial]  # seconds-long deadlines: a starved client would miss them
HANG = 60
LIMITS = {"INTAKE_HEADER_TIMEOUT": "2", "INTAKE_IDLE_TIMEOUT": "3", "INTAKE_BODY_GRACE": "2",
          "INTAKE_MIN_BODY_RATE": "1024"}
FIELDS = {"incident_type": "drone", "description": "slow but honest", "location": "", "occurred": "", "device": ""}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    """One `intake serve` with short slow-client limits, and its site."""
    root = tmp_path_factory.mktemp("timeouts")
    site = make_site(root, f"sqlite:///{root / 'intake.db'}")
    server = Server({**site.env, **LIMITS, "INTAKE_POW_BITS": "0", "INTAKE_WORKERS": "1"}, root).start()
    yield site, server
    server.stop()
    site.engine.dispose()
    log = [line for line in server.log_text().splitlines() if "Listening at" not in line]
    assert not [line for line in log if "Traceback" in line or "127.0.0.1" in line]


def prepared_post(server: Server, files: list[tuple[str, str, bytes]]) -> tuple[bytes, bytes]:
    """The head and the body of a no-JS report post, as a browser would send it, closing the connection after."""
    reporter = Reporter(server.url)
    data = {"csrf_token": reporter.token, "website": "", **FIELDS}
    request = reporter.http.prepare_request(requests.Request(
        "POST", server.url + "/report", data=data, files=[("attachments", (n, d, t)) for n, t, d in files]))
    reporter.close()
    request.headers["Connection"] = "close"
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    return f"POST /report HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{head}\r\n".encode(), request.body


def read_answer(s: socket.socket, within: float = HANG) -> bytes:
    """Everything the server sends until it closes the connection (at most `within` seconds)."""
    s.settimeout(within)
    answer = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        answer += data
    return answer


def send_until_answered(s: socket.socket, pieces: list[bytes], pause: float) -> tuple[bytes, float]:
    """Send one piece every `pause` seconds until the server answers or closes; its answer and when it came."""
    began = time.monotonic()
    for piece in pieces:
        if select.select([s], [], [], pause)[0]:
            break
        try:
            s.sendall(piece)
        except OSError:
            break
    return read_answer(s), time.monotonic() - began


def test_headers_past_their_deadline_get_408(live) -> None:
    """Header lines dribbled forever: a 408 once the header deadline passes, then the connection closes."""
    _site, server = live
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer, spent = send_until_answered(s, [b"X-Slow-%d: a\r\n" % n for n in range(4 * HANG)], 0.25)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"Nothing was stored" in answer
    assert 1.5 < spent < HANG


def test_silent_body_gets_408(live) -> None:
    """Headers and a few body bytes, then silence: a 408 after the idle timeout, never a thread held."""
    _site, server = live
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"PUT /api/v1/uploads/x/0/0 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream"
                  b"\r\nContent-Length: 100000\r\n\r\n0123456789")
        answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_body_below_the_minimum_rate_gets_408(live) -> None:
    """A body at 4 bytes a second, never silent for long: a 408 once the grace period is over."""
    _site, server = live
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  b"Content-Length: 100000\r\n\r\n")
        answer, spent = send_until_answered(s, [b"-"] * (4 * HANG), 0.25)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert 1.5 < spent < HANG


def test_oversized_headers_get_431(live) -> None:
    """Headers past the limit are refused at once, not waited for."""
    _site, server = live
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: " + b"a" * 40_000 + b"\r\n")
        answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_stalled_nojs_upload_leaves_nothing(live) -> None:
    """A no-JS upload that stalls after 5 MiB (sealed parts already stored by the background thread): a 408 page,
    and the incomplete case and its parts are gone."""
    site, server = live
    head, body = prepared_post(server, [("big.mp4", "video/mp4", b"v" * (6 << 20))])
    before = rows(site.engine)
    stored = []
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(head + body[:(5 << 20) + 500_000])
        for _ in range(20 * HANG):
            if select.select([s], [], [], 0.05)[0]:
                break
            stored.append(rows(site.engine)["parts"])
        answer = read_answer(s)
    assert max(stored, default=0) > before["parts"], "sealed parts should have been stored before the stall ended"
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"text/html" in answer.split(b"\r\n\r\n", 1)[0]
    assert b"arrived too slowly" in answer
    deadline = time.monotonic() + HANG
    while rows(site.engine) != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rows(site.engine) == before


def test_stalled_api_part_gets_a_json_408(live) -> None:
    """A 1 MiB sealed part that stalls after 200 KB, in a thread: a JSON 408, and the upload can still be sent."""
    site, server = live
    from intake.crypto.report import seal_report

    reporter = Reporter(server.url)
    report = seal_report(reporter.recipients, FIELDS, [("v.mp4", "video/mp4", [b"v" * 3000])])
    upload = reporter.begin(report).json()["upload"]
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(f"PUT /api/v1/uploads/{upload}/0/0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-CSRFToken: {reporter.token}"
                  f"\r\nCookie: {'; '.join(f'{k}={v}' for k, v in reporter.http.cookies.items())}\r\n"
                  "Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n".encode() + b"p" * 200_000)
        answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"error"' in answer
    assert b"arrived too slowly" in answer
    assert reporter.put(upload, 0, 0, report.streams[0]).status_code == 204
    done = reporter.complete(upload)
    assert done.status_code == 200, done.text
    assert open_all(site.engine, site.identities)[done.json()["ref"]][1] == [("v.mp4", b"v" * 3000)]
    reporter.close()


def test_slow_honest_upload_gets_its_receipt(live) -> None:
    """A no-JS report with a 150 KB photo sent at 24 KB/s, with a 2 s stall as Tor circuits have: a receipt."""
    site, server = live
    photo = bytes(range(256)) * 600
    head, body = prepared_post(server, [("p.jpg", "image/jpeg", photo)])
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(head)
        pieces = [body[i:i + 6000] for i in range(0, len(body), 6000)]
        for n, piece in enumerate(pieces):
            time.sleep(2 if n == len(pieces) // 2 else 0.25)
            s.sendall(piece)
        answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    ref = RECEIPT.search(answer.decode()).group(1)
    fields, files = open_all(site.engine, site.identities)[ref]
    assert fields["description"] == FIELDS["description"]
    assert files == [("p.jpg", photo)]


def test_expect_100_continue_is_answered_once(live) -> None:
    """A client that waits for 100 Continue gets it (once) before it sends the body, then its receipt."""
    site, server = live
    head, body = prepared_post(server, [("a.jpg", "image/jpeg", b"x" * 3000)])
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(head[:-2] + b"Expect: 100-continue\r\n\r\n")
        s.settimeout(HANG)
        interim = s.recv(100)
        s.sendall(body)
        answer = interim + read_answer(s)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.count(b"100 Continue") == 1
    assert re.search(rb"HTTP/1.1 200 ", answer)
    assert RECEIPT.search(answer.decode()).group(1) in open_all(site.engine, site.identities)
