"""Hostile request heads and framings against a live `intake serve` (issue 19, finding 1).

Every variant (Transfer-Encoding in every value, case and duplication and with Content-Length, obs-fold,
bare CR and LF, NUL, huge and many header lines, non-ASCII, pipelining, HTTP/1.0, absolute-form targets,
Expect: 100-continue, chunk-size overflow, chunk extensions, trailers) gets a 4xx or a clean close; the
worker processes stay the same (no worker dies), and an honest upload under way meanwhile gets its receipt.
"""

from __future__ import annotations

import os
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.proof import RECEIPT, Reporter, open_all
from tests.support.raw_http import Flood, exchange, slow_nojs_upload, worker_pids
from tests.support.web import Server, make_site

pytestmark = pytest.mark.soak
WORKERS = 2
FIELDS = {"incident_type": "cctv", "description": "an honest upload under way", "location": "", "occurred": "",
          "device": ""}
WRITES = [b"POST /report", b"POST /check", b"POST /api/v1/reports", b"PUT /api/v1/uploads/aa/0/0",
          b"POST /receipt/confirm", b"POST /api/v1/thread", b"POST http://127.0.0.1/report", b"POST *",
          b"POST //report", b"POST /report?lang=km#x"]
ATTACK = b"POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A live server of two workers with short header and body deadlines, and its workers' pids."""
    root = tmp_path_factory.mktemp("hostile-heads")
    site = make_site(root, f"sqlite:///{root / 'intake.db'}")
    server = Server({**site.env, "INTAKE_POW_BITS": "0", "INTAKE_NOJS_PER_MINUTE": "100000",
                     "INTAKE_WORKERS": str(WORKERS), "INTAKE_HEADER_TIMEOUT": "3", "INTAKE_BODY_GRACE": "3",
                     "INTAKE_IDLE_TIMEOUT": "3"}, root).start()
    time.sleep(1)
    pids = worker_pids(server.process.pid)
    assert len(pids) == WORKERS
    yield site, server, pids
    assert worker_pids(server.process.pid) == pids, server.log_text()[-3000:]
    server.stop()
    site.engine.dispose()


def refused_or_closed(sent: bytes, port: int, half_close: bool = True) -> None:
    """The server answers only 4xx (and 100 Continue), and closes or answers within the deadlines."""
    got = exchange(port, sent, half_close=half_close)
    assert got.closed or got.statuses, (sent[:300], got.raw[:300])
    assert all(400 <= s < 500 for s in got.statuses), (sent[:300], got.raw[:500])


def still_serving(site, server, pids) -> None:
    """Same workers, no worker error in the log, and an honest report still gets its receipt."""
    assert worker_pids(server.process.pid) == pids, server.log_text()[-3000:]
    log = server.log_text()
    assert "Exception in worker process" not in log
    assert "exited with code" not in log
    reporter = Reporter(server.url, timeout=60)
    assert reporter.send_nojs(FIELDS)
    reporter.close()


def head(start: bytes, lines: list[bytes], eol: bytes = b"\r\n", version: bytes = b"HTTP/1.1") -> bytes:
    """A request line and header lines, ended by an empty line."""
    return eol.join([start + b" " + version, b"Host: 127.0.0.1", *lines]) + eol + eol


TE_VALUES = [b"chunked", b"Chunked", b"CHUNKED", b"chunked, chunked", b"gzip, chunked", b"chunked, gzip",
             b"identity", b"identity, chunked", b"deflate", b"compress", b"x-custom", b"", b" chunked ",
             b"\tchunked", b"chunked\x00", b"xchunked", b"chunked;q=1", b"ch\xc3\xbcnked", b"chunked\r", b","]
CHUNKED_BODIES = [b"0\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"5;ext=1\r\nhello\r\n0\r\n\r\n",
                  b"5;" + b"e" * 40000 + b"\r\nhello\r\n0\r\n\r\n", b"F" * 40 + b"\r\nx\r\n0\r\n\r\n",
                  b"FFFFFFFFFFFFFFFFF\r\nx", b"1" * 5000 + b"\r\n", b"-5\r\nhello\r\n", b"0x5\r\nhello\r\n0\r\n\r\n",
                  b" 5 \r\nhello\r\n0\r\n\r\n", b"1_0\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n", b"5\nhello\n0\n\n",
                  b"5\rhello\r0\r\r", b"0\r\nTrailer: x\r\nContent-Length: 5\r\n\r\n",
                  b"0\r\nTrailer: x\r\n", b"5\r\nhelloXX0\r\n\r\n", b"zz\r\n", b"", b"\x00" * 100,
                  b"5\r\nhello\r\n0\r\n\r\n" + ATTACK]

KNOWN = {
    "te, every value": [head(b"POST /report", [b"Transfer-Encoding: " + v]) + b"0\r\n\r\n" for v in TE_VALUES],
    "te, every chunked body": [head(b"POST /report", [b"Transfer-Encoding: chunked"]) + body
                               for body in CHUNKED_BODIES],
    "te on every path": [head(w, [b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n" for w in WRITES],
    "te twice, te and length": [
        head(b"POST /report", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Transfer-Encoding: chunked", b"Content-Length: 5"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Content-Length: 5", b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Content-Length: 5", b"Transfer-Encoding: identity"]) + b"hello",
        head(b"POST /report", [b"Transfer-Encoding : chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Transfer_Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"X: y", b" Transfer-Encoding: chunked"]) + b"0\r\n\r\n"],
    "te in http/1.0 and odd versions": [
        head(b"POST /report", [b"Transfer-Encoding: chunked"], version=v) + b"0\r\n\r\n"
        for v in (b"HTTP/1.0", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/1.10", b"http/1.1", b"HTTP/1.1 x", b"")],
    "obs-fold, bare cr and lf, nul": [
        head(b"POST /report", [b"Transfer-Encoding:", b" chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Transfer-Encoding: chunked"], eol=b"\n") + b"0\n\n",
        head(b"POST /report", [b"Transfer-Encoding: chunked"], eol=b"\r") + b"0\r\r",
        head(b"POST /report", [b"X: a\rTransfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"X: a\nTransfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Transfer-Encoding: chu\x00nked"]) + b"0\r\n\r\n",
        head(b"POST /re\x00port", [b"Content-Length: 0"]),
        head(b"POST /report", [b"Content-Length: 0\x00"]),
        b"\r\n\r\n" + head(b"POST /report", [b"Content-Length: 0"]),
        b"\x00" * 64 + b"\r\n\r\n"],
    "lengths": [head(b"POST /report", [b"Content-Length: " + v]) + b"x" * 10
                for v in (b"-1", b"+5", b"5 5", b"0x10", b"1" * 5000, b"9" * 30, b"\xd9\xa5", b"5, 5", b"")]
               + [head(b"POST /report", [b"Content-Length: 5", b"Content-Length: 5"]) + b"hello",
                  head(b"POST /report", [b"Content-Length: 5", b"Content-Length: 6"]) + b"hello!"],
    "huge and many lines, non-ascii": [
        head(b"POST /report", [b"X-Huge: " + b"a" * 40000]),
        head(b"POST /report", [b"X-H%d: v" % n for n in range(3000)]),
        head(b"POST /report", [b"X-H%d: v" % n for n in range(150)] + [b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", ["X-ខ្មែរ: မြန်မာ".encode(), b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /r\xc3\xa9port", [b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST " + b"/x" * 20000, [])],
    "expect and pipelining": [
        head(b"POST /report", [b"Expect: 100-continue", b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
        head(b"POST /report", [b"Expect: 100-continue", b"Content-Length: 5"]) + b"hello",
        head(b"POST /report", [b"Expect: 100-continue", b"Content-Length: " + b"9" * 40]),
        head(b"POST /report", [b"Expect: 100-continue"], version=b"HTTP/1.0") + b"0\r\n\r\n",
        head(b"POST /report", [b"Content-Length: 0"]) + ATTACK + head(b"POST /check", [b"Content-Length: 0"]),
        ATTACK * 5,
        head(b"POST /api/v1/reports", [b"Content-Length: 2"]) + b"{}" + ATTACK],
}


@pytest.mark.parametrize("group", list(KNOWN), ids=list(KNOWN))
def test_hostile_heads_by_hand(live, group: str) -> None:
    """Each hand-written variant: a 4xx or a clean close, with our side ended and with it left open."""
    site, server, pids = live
    for n, sent in enumerate(KNOWN[group]):
        refused_or_closed(sent, server.port, half_close=n % 2 == 0)
    still_serving(site, server, pids)


LINES = st.one_of(
    st.sampled_from([b"Transfer-Encoding: " + v for v in TE_VALUES]),
    st.sampled_from([b"Content-Length: 0", b"Content-Length: 5", b"Content-Length: 70000", b"Content-Length: -3",
                     b"Content-Length: " + b"7" * 4400, b"Expect: 100-continue", b"Expect: 100-Continue",
                     b"Connection: keep-alive", b"Connection: close, Transfer-Encoding", b"Host:", b"Host: a b",
                     b"Content-Type: multipart/form-data; boundary=b", b" folded", b"\tfolded", b":", b"X-Empty:"]),
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1000, 40000).map(lambda n: b"X-Long: " + b"z" * n))


@st.composite
def requests_(draw) -> bytes:
    """A write's head of hostile lines, a body framed or not, and maybe a second request behind it."""
    start = draw(st.sampled_from(WRITES))
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/11"]))
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r"]))
    lines = draw(st.lists(LINES, max_size=8))
    if draw(st.booleans()):
        lines.append(b"Transfer-Encoding: chunked")
    many = draw(st.sampled_from([0, 0, 0, 120, 2000]))
    lines += [b"X-M%d: v" % n for n in range(many)]
    body = draw(st.one_of(st.sampled_from(CHUNKED_BODIES), st.binary(max_size=300)))
    sent = head(start, draw(st.permutations(lines)), eol, version) + body
    if draw(st.booleans()):
        sent += draw(st.sampled_from([ATTACK, head(b"POST /check", [b"Content-Length: 1"]) + b"x", b"GARBAGE\r\n\r\n"]))
    return sent


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(sent=requests_(), half_close=st.booleans())
def test_hostile_heads_fuzzed(live, sent: bytes, half_close: bool) -> None:
    """Any head and framing on any write: a 4xx or a clean close, never a 5xx, a hang or a dead worker."""
    _site, server, pids = live
    refused_or_closed(sent, server.port, half_close)
    assert worker_pids(server.process.pid) == pids, server.log_text()[-3000:]


def test_transfer_encoding_flood_during_an_upload(live) -> None:
    """The reported attack: about 10 chunked requests a second for 8 s while an honest 12 MiB upload is under
    way. Every one is refused (411) or closed, no worker dies, and the upload gets its receipt."""
    site, server, pids = live
    reporter = Reporter(server.url)
    token = reporter.token
    reporter.close()
    data = os.urandom(12 << 20)
    attacks = [ATTACK, head(b"POST /check", [b"Transfer-Encoding: chunked"]) + b"5\r\nhello\r\n0\r\n\r\n",
               head(b"PUT /api/v1/uploads/aa/0/0", [b"Transfer-Encoding: Chunked"]) + b"0\r\n\r\n"]
    with Flood(server.port, attacks, rate=10) as flood:
        status, page = slow_nojs_upload(server.url, token, FIELDS, ("clip.bin", data, "application/octet-stream"), 8)
    assert status == 200, page[-1500:]
    ref = RECEIPT.search(page).group(1)
    assert open_all(site.engine, site.identities)[ref][1] == [("clip.bin", data)]
    assert not flood.errors, flood.errors[:5]
    assert len(flood.exchanges) >= 40
    assert all(e.statuses in ((411,), ()) for e in flood.exchanges), {e.statuses for e in flood.exchanges}
    assert sum(e.statuses == (411,) for e in flood.exchanges) >= len(flood.exchanges) // 2
    still_serving(site, server, pids)


def test_out_of_descriptors_ends_no_worker(tmp_path) -> None:
    """More idle connections than the worker has file descriptors: accept fails with EMFILE, the worker waits
    instead of dying, and once the idle connections are refused an honest report gets its receipt."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    server = Server({**site.env, "INTAKE_POW_BITS": "0", "INTAKE_WORKERS": "1", "INTAKE_HEADER_TIMEOUT": "3"},
                    tmp_path, wrap=("prlimit", "--nofile=96:96")).start()
    try:
        time.sleep(1)
        pids = worker_pids(server.process.pid)
        idle = []
        for _ in range(150):
            try:
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            except OSError:
                break
        time.sleep(2)
        assert worker_pids(server.process.pid) == pids, server.log_text()[-2000:]
        for s in idle:
            s.close()
        time.sleep(4)
        still_serving(site, server, pids)
    finally:
        server.stop()
        site.engine.dispose()
