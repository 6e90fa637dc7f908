"""Red team of `intake anchor` (issue 25): a hostile timestamping authority (dripping its answer, speaking no HTTP)
never hangs or crashes the run, and a stamp the TSA did not sign never passes `check_proof`."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from intake.anchor import merkle, timestamp
from intake.anchor.day import check_proof
from tests.support.tsa import local_tsa


class Drip(BaseHTTPRequestHandler):
    """Answers 200 with a 64 KiB body, one byte every 0.1 s (well inside any socket timeout)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(timestamp.MAX_RESPONSE))
        self.end_headers()
        try:
            for _ in range(timestamp.MAX_RESPONSE):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def dripping() -> Iterator[str]:
    """A local TSA that never finishes its answer."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_dripping_tsa_does_not_hang_the_run(dripping: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timestamp, "TIMEOUT", 1)
    monkeypatch.setattr(timestamp, "DEADLINE", 2, raising=False)
    outcome: list[BaseException | bytes] = []

    def ask() -> None:
        try:
            outcome.append(timestamp.request(dripping, b"\1" * 32))
        except BaseException as exc:  # noqa: BLE001 (the outcome is checked below)
            outcome.append(exc)

    asker = threading.Thread(target=ask, daemon=True)
    started = time.monotonic()
    asker.start()
    asker.join(20)
    assert outcome, "a TSA dripping its answer hung `intake anchor` (64 KiB at 0.1 s a byte: ~2 hours)"
    assert isinstance(outcome[0], timestamp.TimestampError), outcome[0]
    assert "did not finish" in str(outcome[0])
    assert time.monotonic() - started < 10


class Garbage(BaseHTTPRequestHandler):
    """Answers with no HTTP at all, or a body cut short of its Content-Length."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/cut":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n0123")
        else:
            self.wfile.write(b"\x16\x03\x01 not http at all\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        return


@pytest.mark.parametrize("path", ["/garbage", "/cut"])
def test_a_tsa_speaking_no_http_is_a_clear_error(path: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(timestamp.TimestampError, match="did not answer|not an RFC 3161"):
            timestamp.request(f"http://127.0.0.1:{server.server_address[1]}{path}", b"\1" * 32)
    finally:
        server.shutdown()
        server.server_close()


def test_a_stamp_not_signed_by_the_tsa_is_refused() -> None:
    """check_proof trusts only the TSA's CA: a stamp by another TSA (the forger's own), or with its signature
    changed, over the very same root is refused, not returned as the time the root existed."""
    leaves = merkle.padded([merkle.item_from_hashes(b"\1" * 32, b"\2" * 32, [])])
    digest = merkle.item_from_hashes(b"\1" * 32, b"\2" * 32, [])
    index = leaves.index(digest)
    proof = {"format": "intake-anchor-proof-v1", "day": "2020-01-01", "partial": False,
             "header_sha256": "01" * 32, "body_sha256": "02" * 32, "stream_sha256": [], "item": digest.hex(),
             "index": index, "size": 64, "path": [h.hex() for h in merkle.proof(leaves, index)],
             "root": merkle.root(leaves).hex()}
    root = merkle.root(leaves)
    with local_tsa() as honest, local_tsa() as forger:
        ca = honest.ca.read_bytes()
        good = timestamp.request(honest.url, root)
        forged = timestamp.request(forger.url, root)
    assert check_proof({**proof, "timestamp": base64.b64encode(good).decode()}, tsa_ca=ca) is not None
    bent = good[:-1] + bytes([good[-1] ^ 1])
    for token in (forged, bent):
        with pytest.raises(timestamp.TimestampError, match="not signed"):
            check_proof({**proof, "timestamp": base64.b64encode(token).decode()}, tsa_ca=ca)
    with pytest.raises(timestamp.TimestampError, match="CA certificate"):
        check_proof({**proof, "timestamp": base64.b64encode(forged).decode()})
