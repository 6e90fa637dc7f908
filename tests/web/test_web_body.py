"""The body reader of `intake serve` (web/body.py): the bytes read ahead first, then the socket, never past the body's
end; a pipelined request behind a body is served; a body cut short is a 400, never a 500 or a stored case."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time

import requests
from urllib3 import encode_multipart_formdata

from intake.web.body import SocketBody
from intake.web.slow import DeadlineSocket, Limits
from tests.support.raw_http import exchange
from tests.support.web import rows


def _pair(sent: bytes) -> tuple[DeadlineSocket, socket.socket]:
    ours, theirs = socket.socketpair()
    sock = DeadlineSocket.adopt(ours, Limits(idle_timeout=5))
    sock.clock.body(time.monotonic())
    sock.setblocking(True)
    threading.Thread(target=theirs.sendall, args=(sent,), daemon=True).start()
    return sock, theirs


def test_held_bytes_then_socket_and_never_past_the_end() -> None:
    """The held bytes come first; reads wait for what they ask; the bytes after the body stay on the socket."""
    sock, theirs = _pair(b"ef\nghij" + b"NEXT REQUEST")
    body = SocketBody(sock, b"abcd", 11)
    assert body.read(3) == b"abc"
    assert body.readline() == b"def\n"
    buffer = bytearray(100)
    assert body.readinto(buffer) == 4
    assert bytes(buffer[:4]) == b"ghij"
    assert body.read() == b""
    assert body.readinto(buffer) == 0
    assert sock.recv(100) == b"NEXT REQUEST"
    sock.close()
    theirs.close()


def test_a_body_cut_short_reads_short() -> None:
    """A client that closes before the declared length: the reader returns what came, then nothing (no hang)."""
    sock, theirs = _pair(b"12345")
    body = SocketBody(sock, b"", 1000)
    threading.Timer(0.2, theirs.close).start()
    assert body.read(1000) == b"12345"
    assert body.read(10) == b""
    assert body.left == 995
    sock.close()


def test_live_next_request_on_the_connection_after_a_large_body(live) -> None:
    """A no-JS report with a file larger than what the main loop reads ahead, then a second request on the same
    kept-alive connection: the body was read to its end and no further, so the second is answered."""
    site, server = live
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/")
    token = re.search(r'name="csrf-token" content="([^"]+)"', conn.getresponse().read().decode()).group(1)
    body, kind = encode_multipart_formdata([("csrf_token", token), ("incident_type", "cctv"),
                                            ("description", "two requests on one connection"),
                                            ("attachments", ("clip.bin", b"\x01" * 300_000, "video/mp4"))])
    conn.request("POST", "/report", body, {"Content-Type": kind})
    first = conn.getresponse()
    page = first.read()
    conn.request("GET", "/keyring.json")
    second = conn.getresponse()
    assert (first.status, second.status) == (200, 200), page[:300]
    assert b'id="receipt"' in page
    assert b'"serial":1' in second.read()
    assert rows(site.engine)["parts"] == 1
    conn.close()


def test_live_multipart_cut_short_is_a_400_and_stores_nothing(live) -> None:
    """A no-JS post with a valid token whose body ends inside its file, before its Content-Length (the client
    half-closes): a 4xx once the sealing has begun, and the case it began is gone."""
    site, server = live
    token = re.search(r'name="csrf-token" content="([^"]+)"', requests.get(server.url + "/", timeout=30).text).group(1)
    head = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() + b"\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a.bin\"\r\n\r\n")
    sent = (b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 9000000\r\n\r\n" + head + b"x" * 3_000_000)
    got = exchange(server.port, sent, half_close=True)
    assert all(400 <= s < 500 for s in got.statuses), got.raw[:300]
    assert rows(site.engine)["cases"] == 0
    assert "Traceback" not in server.log_text()
