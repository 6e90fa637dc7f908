"""A native client for the flood tests: solves the API's proof of work in C (hashlib's BLAKE2b) and sends sealed
reports, as an attacker (`solver`: as many as it can for a time) or as reporters (`burst`: N reports).

Run as its own process: python -m tests.support.flood_attacker MODE URL AMOUNT OUT.json [GO]
(AMOUNT: seconds or reports). A burst solves its N challenges first, as pages do while their reporters
write, then creates OUT.json.ready and waits for the file GO, which holds the Unix time at which every
client sends them all at once, solving again any the server finds too cheap by then.
It writes what it did to OUT.json: statuses, receipts, solves, tries and its CPU time.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import requests

from intake.crypto.keys import Recipient
from intake.crypto.report import seal_report

DOMAIN = b"intake-pow-v2"
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')
FIELDS = {"incident_type": "other", "description": "flood", "location": "", "occurred": "", "device": ""}


def solve(challenge: str, bits: int) -> tuple[str, int]:
    """A nonce whose BLAKE2b-256 starts with `bits` zero bits, and how many tries it took."""
    prefix = hashlib.blake2b(DOMAIN + challenge.encode(), digest_size=32)
    shift = 64 - bits
    for n in itertools.count():
        h = prefix.copy()
        nonce = format(n, "x")
        h.update(nonce.encode())
        if int.from_bytes(h.digest()[:8], "big") >> shift == 0:
            return nonce, n + 1
    raise AssertionError("unreachable")


def b64(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Client:
    """One HTTP session with the form token and a sealed report ready to send again and again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.token = TOKEN.search(self.http.get(url + "/", timeout=60).text).group(1)
        keyring = self.http.get(url + "/keyring.json", timeout=60).json()
        self.serial = keyring["serial"]
        self.recipients = [Recipient.parse(r["recipient"]) for r in keyring["recipients"]]
        self.tries = self.solves = 0

    def work(self) -> dict[str, str]:
        """Fetch a challenge and solve it."""
        challenge = self.http.get(self.url + "/api/v1/challenge", timeout=60).json()
        nonce, tries = solve(challenge["challenge"], challenge["bits"])
        self.tries += tries
        self.solves += 1
        return {"pow_challenge": challenge["challenge"], "pow_nonce": nonce}

    def send(self, work: dict[str, str] | None = None) -> requests.Response:
        """Seal a small report and POST it with `work` (or a challenge solved now)."""
        report = seal_report(self.recipients, FIELDS, [])
        body = {"keyring_serial": self.serial, "header": b64(report.header), "body": b64(report.body),
                "lengths": [], "website": "", **(work or self.work())}
        return self.http.post(self.url + "/api/v1/reports", json=body, headers={"X-CSRFToken": self.token},
                              timeout=120)


def start_together(out: str, go: str) -> None:
    """Say this client is ready (OUT.ready), then wait for the file `go` and for the Unix time written in it."""
    Path(out + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.01)
    time.sleep(max(0.0, float(Path(go).read_text()) - time.time()))


def main(mode: str, url: str, amount: float, out: str, go: str = "") -> None:
    """Attack for `amount` seconds (solver) or send a burst of `amount` reports once `go` says; record it in `out`."""
    client = Client(url)
    statuses: Counter[int] = Counter()
    refs, waits = [], []
    solved = [client.work() for _ in range(int(amount))] if mode == "burst" else []
    if mode == "burst":
        start_together(out, go)
    started = time.monotonic()
    while (time.monotonic() - started < amount) if mode == "solver" else len(refs) < amount:
        began = time.monotonic()
        try:
            r = client.send(solved.pop() if solved else None)
        except requests.ConnectionError:
            if mode == "burst":
                raise
            statuses[0] += 1  # the server dropped the attacker's connection: it goes on with another
            continue
        statuses[r.status_code] += 1
        if r.status_code == 201:
            refs.append(r.json()["ref"])
            waits.append(time.monotonic() - began)
        elif mode == "burst" and r.status_code != 429:
            raise SystemExit(f"refused: {r.status_code} {r.text}")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"statuses": statuses, "refs": refs, "waits": waits, "solves": client.solves,
                   "tries": client.tries, "cpu_seconds": time.process_time(), "seconds": time.monotonic() - started},
                  f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], *sys.argv[5:6])
