"""Browser-sealed reports through the API of `intake serve` vs bare endpoints on the same stack.

Two rows: a 256 MiB upload (POST /api/v1/reports, PUT of every 1 MiB part, POST .../complete)
against the bare app taking the same parts (one row each); and small reports a second from 16
concurrent clients (GET /api/v1/challenge, then POST /api/v1/reports, which stores a report without
attachments at once: the page's own path) against the bare app storing a row of the same size per
request. The clients seal with
intake.crypto as the page does, before the clock starts; the proof of work is set to 4 bits.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import MIB, BareServer, PeakMemory, Row, median
from bench.site import Server, b64, make_site, solve
from intake.crypto.envelope import Sealer
from intake.crypto.report import seal_report
from intake.crypto.stream import PART

CLIENTS = 16
FIELDS = {"incident_type": "cctv", "description": "A camera at the corner turned to follow us.", "location": "",
          "occurred": "", "device": ""}


class Client:
    """One keep-alive connection with the site's CSRF cookie and token."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.conn.request("GET", "/")
        page = self.conn.getresponse()
        self.cookie = (page.getheader("Set-Cookie") or "").split(";", 1)[0]
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode())
        self.token = found.group(1) if found else ""

    def call(self, method: str, path: str, body: bytes = b"", expect: int = 200) -> bytes:
        """One request; its response body, or stop on another status."""
        headers = {"X-CSRFToken": self.token, "Cookie": self.cookie, "Content-Type": "application/json"}
        self.conn.request(method, path, body, headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != expect:
            raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
        return data


def begin(client: Client, header: bytes, body: bytes, lengths: list[int]) -> dict[str, object]:
    """Solve a challenge and send a report; the answer (its upload, or its ref when it has no attachments)."""
    challenge = json.loads(client.call("GET", "/api/v1/challenge"))
    request = {"keyring_serial": 1, "header": b64(header), "body": b64(body), "lengths": lengths, "website": "",
               "pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
    return json.loads(client.call("POST", "/api/v1/reports", json.dumps(request).encode(), 201))


def seal_big(site, mib: int) -> tuple[bytes, bytes, list[bytes]]:  # noqa: ANN001
    """A report with one file of `mib` MiB, sealed as the page does: header, body and 1 MiB parts."""
    sealer = Sealer([i.recipient for i in site.identities])
    stream = sealer.attachment()
    sealed = bytearray(stream.start())
    block = os.urandom(MIB)
    for _ in range(mib):
        for piece in stream.push(block):
            sealed += piece
    sealed += stream.finish()
    sealer.end_attachment("big.mp4", "video/mp4")
    return sealer.header(), sealer.body(FIELDS), [bytes(sealed[i:i + PART]) for i in range(0, len(sealed), PART)]


def upload_intake(port: int, header: bytes, body: bytes, parts: list[bytes]) -> float:
    """Seconds to begin, send every part and complete."""
    client = Client(port)
    start = time.perf_counter()
    token = begin(client, header, body, [sum(map(len, parts))])["upload"]
    for number, part in enumerate(parts):
        client.call("PUT", f"/api/v1/uploads/{token}/0/{number}", part, 204)
    client.call("POST", f"/api/v1/uploads/{token}/complete")
    elapsed = time.perf_counter() - start
    client.conn.close()
    return elapsed


def upload_bare(port: int, parts: list[bytes]) -> float:
    """Seconds to send every part to the bare app."""
    client = Client(port)
    start = time.perf_counter()
    for number, part in enumerate(parts):
        client.call("PUT", f"/part/{number}", part, 204)
    return time.perf_counter() - start


def small_intake(port: int, header: bytes, body: bytes, count: int) -> None:
    """`count` small reports, one after another, on one connection."""
    client = Client(port)
    for _ in range(count):
        if "ref" not in begin(client, header, body, []):
            raise SystemExit("a report without attachments got no ref")


def small_bare(port: int, row: bytes, count: int) -> None:
    """`count` rows, one after another, on one connection."""
    client = Client(port)
    for _ in range(count):
        client.call("POST", "/row", row, 201)


def concurrently(work, count: int) -> float:  # noqa: ANN001
    """Reports a second when CLIENTS clients each run `work(count // CLIENTS)` at once."""
    each = count // CLIENTS
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda _: work(each), range(CLIENTS)))
    return each * CLIENTS / (time.perf_counter() - start)


def run(work: Path, mib: int, reports: int, runs: int) -> list[Row]:
    """Measure both rows, intake and bare alternating, `runs` times each."""
    site = make_site(work / "site", max_mib=mib + 16)
    server = Server(site)
    bare = BareServer(f"sqlite:///{work / 'bare.db'}")
    header, body, parts = seal_big(site, mib)
    small = seal_report([i.recipient for i in site.identities], FIELDS)

    row = json.dumps({"header": b64(small.header), "body": b64(small.body), "lengths": []}).encode()
    up: dict[str, list[float]] = {"intake": [], "bare": []}
    rate: dict[str, list[float]] = {"intake": [], "bare": []}
    try:
        with PeakMemory(server.process.pid) as peak, PeakMemory(bare.process.pid) as bare_peak:
            for _ in range(runs):
                up["intake"].append(upload_intake(server.port, header, body, parts))
                up["bare"].append(upload_bare(bare.port, parts))
                rate["intake"].append(concurrently(lambda n: small_intake(server.port, small.header, small.body, n),
                                                   reports))
                rate["bare"].append(concurrently(lambda n: small_bare(bare.port, row, n), reports))
    finally:
        server.stop()
        bare.stop()
    memory = {"intake master": peak.peaks["master"], "intake worker": peak.peaks["worker"],
              "bare master": bare_peak.peaks["master"], "bare worker": bare_peak.peaks["worker"]}
    under = max(peak.peaks.values()) < 100
    intake_rate, bare_rate = median(rate["intake"]), median(rate["bare"])
    return [
        Row(f"browser-sealed upload {mib} MiB, resumable API", "MiB/s", mib / median(up["intake"]),
            "bare PUT of the same parts", mib / median(up["bare"]), goal=">= 0.7x bare, server < 100 MiB",
            met=median(up["bare"]) / median(up["intake"]) >= 0.7 and under, memory_mib=memory),
        Row(f"small sealed reports, {CLIENTS} clients, 2 workers", "reports/s", intake_rate,
            "bare POST of one row", bare_rate, goal=">= 0.7x bare, > 300/s, server < 100 MiB",
            met=intake_rate >= 0.7 * bare_rate and intake_rate > 300 and under, memory_mib=memory,
            note="API path: challenge + report, 2 requests a report"),
    ]
