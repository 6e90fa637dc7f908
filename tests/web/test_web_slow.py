"""The slow-client rules of intake/web/slow.py on a socket pair: every wait ends, bytes that arrived still count."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from intake.web.slow import PREFETCH, DeadlineSocket, Limits, SlowClient, request_head

HANG = 30


@pytest.fixture
def pair():
    """A guarded server side with short limits, and the client side."""
    server, client = socket.socketpair()
    guarded = DeadlineSocket.adopt(server, Limits(header_timeout=0.3, idle_timeout=5, body_grace=0.3,
                                                 min_body_rate=1000))
    guarded.setblocking(True)
    yield guarded, client
    guarded.close()
    client.close()


@pytest.mark.parametrize(("head", "expected"), [
    (b"GET / HTTP/1.1\r\nHost: x", (0, False, False)),
    (b"POST /report HTTP/1.1\r\nContent-Length: 5000", (5000, False, False)),
    (b"POST /report HTTP/1.1\r\ncontent-length:  999999999", (PREFETCH, False, False)),
    (b"POST /report HTTP/1.1\r\nContent-Length: -1", (0, False, False)),
    (b"POST /report HTTP/1.1\r\nContent-Length: " + b"9" * 5000, (PREFETCH, False, False)),
    (b"POST /report HTTP/1.1\r\nTransfer-Encoding: chunked", (0, True, False)),
    (b"POST /report HTTP/1.1\r\ntransfer-encoding:", (0, True, False)),
    (b"POST /report HTTP/1.1\r\nX: a\nTRANSFER-ENCODING : gzip", (0, True, False)),
    (b"POST /report HTTP/1.1\rTransfer-Encoding: chunked\r\nContent-Length: 5", (5, True, False)),
    (b"POST /report HTTP/1.1\r\nX: a\r\n Transfer-Encoding: chunked", (0, True, False)),
    (b"PUT /a HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-Continue", (10, False, True)),
    (b"PUT /a HTTP/1.0\r\nContent-Length: 10\r\nExpect: 100-continue", (10, False, False)),
])
def test_request_head(head: bytes, expected: tuple[int, bool, bool]) -> None:
    """What the main loop waits for before a thread takes a request."""
    assert request_head(head) == expected


def test_headers_due_within_their_deadline(pair) -> None:
    """No headers within the header timeout: the read gives up, and every later read fails at once."""
    guarded, _client = pair
    guarded.clock.headers(time.monotonic())
    began = time.monotonic()
    with pytest.raises(SlowClient):
        guarded.recv(100)
    assert 0.2 < time.monotonic() - began < HANG
    assert guarded.expired
    with pytest.raises(TimeoutError):
        guarded.recv(100)


def test_body_below_minimum_rate(pair) -> None:
    """Ten bytes, then nothing: the read gives up once the grace period is over, well before the idle timeout."""
    guarded, client = pair
    guarded.clock.body(time.monotonic())
    client.sendall(b"0123456789")
    assert guarded.recv(100) == b"0123456789"
    assert guarded.clock.body_bytes == 10
    began = time.monotonic()
    with pytest.raises(SlowClient):
        guarded.recv(100)
    assert time.monotonic() - began < 4


def test_bytes_waiting_count_past_the_deadline(pair) -> None:
    """Bytes that arrived while the app was busy are read even though the deadline has passed."""
    guarded, client = pair
    guarded.clock.body(time.monotonic() - 100)
    client.sendall(b"late but here")
    assert guarded.recv(100) == b"late but here"
    assert not guarded.expired


def test_nonblocking_reads_are_untouched(pair) -> None:
    """The main loop's reads neither wait nor expire."""
    guarded, _client = pair
    guarded.setblocking(False)
    guarded.clock.headers(time.monotonic() - 100)
    with pytest.raises(BlockingIOError):
        guarded.recv(100)
    assert not guarded.expired


def test_sendall_gives_up_on_a_client_that_reads_nothing() -> None:
    """A response to a client that never reads ends after the idle timeout, not never."""
    server, client = socket.socketpair()
    guarded = DeadlineSocket.adopt(server, Limits(idle_timeout=0.3))
    guarded.setblocking(True)
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        guarded.sendall(b"x" * (64 << 20))
    assert time.monotonic() - began < HANG
    guarded.close()
    client.close()


def test_sendall_sends_everything_to_a_reader() -> None:
    """A client that keeps reading gets the whole response."""
    server, client = socket.socketpair()
    guarded = DeadlineSocket.adopt(server, Limits(idle_timeout=5))
    guarded.setblocking(True)
    got = bytearray()

    def read() -> None:
        while len(got) < 3 << 20 and (data := client.recv(65536)):
            got.extend(data)

    reader = threading.Thread(target=read)
    reader.start()
    guarded.sendall(bytes(range(256)) * (3 << 12))
    reader.join(timeout=HANG)
    assert bytes(got) == bytes(range(256)) * (3 << 12)
    guarded.close()
    client.close()


def test_settings_defaults_and_refusals() -> None:
    """The slow-client limits default to values an honest upload over Tor keeps, and refuse nonsense clearly."""
    from intake.settings import Settings

    settings = Settings.from_env({})
    assert (settings.header_timeout, settings.idle_timeout, settings.body_grace, settings.min_body_rate) == (
        30, 60, 30, 1024)
    assert Settings.from_env({"INTAKE_MIN_BODY_RATE": "4096"}).min_body_rate == 4096
    for name, value in [("INTAKE_HEADER_TIMEOUT", "0"), ("INTAKE_IDLE_TIMEOUT", "1h"), ("INTAKE_BODY_GRACE", "-1"),
                        ("INTAKE_MIN_BODY_RATE", "0")]:
        with pytest.raises(ValueError, match=name):
            Settings.from_env({name: value})
