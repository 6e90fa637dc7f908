"""Helpers for the proof suites: reporters that talk HTTP to a live `intake serve` (tests.support.web.Server)."""

from __future__ import annotations

import os
import random
import re
import threading
import time

import requests
from sqlalchemy import Engine, func, select

from intake.crypto.keys import Identity, Recipient
from intake.crypto.report import open_report, seal_report
from intake.crypto.stream import PART
from intake.storage.cases import iter_cases, iter_parts
from intake.storage.schema import attachments, cases, parts
from tests.support.web import b64, solve

RECEIPT = re.compile(r'id="receipt">([0-9A-Z-]{14})<')
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def soak_size(ci: int, least: int = 1) -> int:
    """A soak suite's size: CI's `ci` times INTAKE_SOAK_SCALE (default 1: CI's size), never below `least`."""
    scale = os.environ.get("INTAKE_SOAK_SCALE", "1")
    try:
        factor = float(scale)
    except ValueError:
        factor = -1.0
    if not 0 < factor <= 100:
        raise ValueError(f"INTAKE_SOAK_SCALE={scale!r}: give a number above 0 and at most 100 (1 is CI's size)")
    return max(least, round(ci * factor))


class Reporter:
    """One reporter's HTTP session: the CSRF cookie and token, the keyring, and both ways to send."""

    def __init__(self, url: str, timeout: float = 120) -> None:
        self.url, self.timeout = url, timeout
        self.http = requests.Session()
        page = self.http.get(url + "/", timeout=timeout)
        page.raise_for_status()
        self.token = CSRF.search(page.text).group(1)
        keyring = self.http.get(url + "/keyring.json", timeout=timeout).json()
        self.serial = keyring["serial"]
        self.recipients = [Recipient.parse(r["recipient"]) for r in keyring["recipients"]]

    def close(self) -> None:
        """Close the session's connections."""
        self.http.close()

    def begin(self, report, **changes: object) -> requests.Response:
        """POST /api/v1/reports for a sealed report, with a solved proof of work."""
        challenge = self.http.get(self.url + "/api/v1/challenge", timeout=self.timeout).json()
        body = {"keyring_serial": self.serial, "header": b64(report.header), "body": b64(report.body),
                "lengths": [len(s) for s in report.streams], "website": "", "pow_challenge": challenge["challenge"],
                "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
        body.update(changes)
        return self.http.post(self.url + "/api/v1/reports", json=body, headers={"X-CSRFToken": self.token},
                              timeout=self.timeout)

    def put(self, upload: str, idx: int, number: int, data: bytes) -> requests.Response:
        """PUT one sealed part."""
        return self.http.put(f"{self.url}/api/v1/uploads/{upload}/{idx}/{number}", data=data, timeout=self.timeout,
                             headers={"X-CSRFToken": self.token, "Content-Type": "application/octet-stream"})

    def complete(self, upload: str) -> requests.Response:
        """POST .../complete."""
        return self.http.post(f"{self.url}/api/v1/uploads/{upload}/complete", headers={"X-CSRFToken": self.token},
                              timeout=self.timeout)

    def send_api(self, fields: dict[str, str], files: list[tuple[str, str, bytes]] = (),
                 skip_first: bool = False) -> str:
        """Seal a report here and send it through the resumable API; with `skip_first`, resume; return the ref."""
        report = seal_report(self.recipients, fields, [(n, t, [d]) for n, t, d in files])
        r = self.begin(report)
        assert r.status_code == 201, r.text
        if not report.streams:
            return r.json()["ref"]
        upload = r.json()["upload"]
        numbered = [(i, n, s[n * PART:(n + 1) * PART]) for i, s in enumerate(report.streams)
                    for n in range(max(1, -(-len(s) // PART)))]
        for i, n, data in numbered[1:] if skip_first else numbered:
            assert self.put(upload, i, n, data).status_code == 204
        if skip_first and numbered:
            early = self.complete(upload)
            assert early.status_code == 409, early.text
            missing = self.http.get(f"{self.url}/api/v1/uploads/{upload}", timeout=self.timeout).json()["missing"]
            assert missing == {str(i): ([0] if i == 0 else []) for i in range(len(report.streams))}
            assert self.put(upload, *numbered[0]).status_code == 204
        done = self.complete(upload)
        assert done.status_code == 200, done.text
        return done.json()["ref"]

    def form_token(self, url: str | None = None) -> str:
        """The token of a form page fetched now (from `url`, else this reporter's site): a no-JS page posts once
        (web/tokens.py), so each post wants one."""
        page = self.http.get((url or self.url) + "/", timeout=self.timeout)
        page.raise_for_status()
        return CSRF.search(page.text).group(1)

    def post_nojs(self, fields: dict[str, str], files: list[tuple[str, str, bytes]] = (),
                  token: str | None = None) -> requests.Response:
        """POST /report as a browser without JavaScript would, from a form page fetched for it (a page posts once),
        or with the form token given."""
        data = {"csrf_token": token or self.form_token(), "website": "", **fields}
        upload = [("attachments", (n, d, t)) for n, t, d in files] or [("attachments", ("", b"", "application/"
                                                                                         "octet-stream"))]
        return self.http.post(self.url + "/report", data=data, files=upload, timeout=self.timeout)

    def send_nojs(self, fields: dict[str, str], files: list[tuple[str, str, bytes]] = ()) -> str:
        """Send a report without JavaScript and return the ref of its receipt."""
        r = self.post_nojs(fields, files)
        assert r.status_code == 200, r.text[-2000:]
        return RECEIPT.search(r.text).group(1)


def open_all(engine: Engine, identities: list[Identity]) -> dict[str, tuple[dict[str, str], list[tuple[str, bytes]]]]:
    """Open every complete case with its attachments: {ref: (fields, [(name, bytes)])}."""
    opened = {}
    for case in iter_cases(engine):
        report = open_report(case.header, case.body, len(case.lengths), identities)
        files = [(entry.name, b"".join(report.attachment(i, iter_parts(engine, case.id, i), case.lengths[i])))
                 for i, entry in enumerate(report.body.attachments)]
        opened[case.ref] = (report.body.fields, files)
    return opened


def stored_whole(engine: Engine) -> list[str]:
    """Complete cases whose parts disagree with their attachment lengths (should be none)."""
    with engine.connect() as conn:
        sums = conn.execute(select(cases.c.ref, attachments.c.idx, attachments.c.length, func.count(parts.c.part),
                                   func.coalesce(func.sum(func.length(parts.c.data)), 0))
                            .select_from(cases.join(attachments, attachments.c.case_id == cases.c.id)
                                         .outerjoin(parts, (parts.c.case_id == attachments.c.case_id)
                                                    & (parts.c.idx == attachments.c.idx)))
                            .where(cases.c.complete.is_(True))
                            .group_by(cases.c.ref, attachments.c.idx, attachments.c.length)).all()
    return [f"{ref} stream {idx}: {count} parts, {total} of {length} bytes" for ref, idx, length, count, total in sums
            if total != length or count != max(1, -(-length // PART))]


def kill_during(server, clients: list[threading.Thread], rng: random.Random, seed: int, jitter: float = 0.05) -> None:
    """Start the clients and SIGKILL the server while some are under way: once a random number of them, never all,
    has ended, after a random moment of at most `jitter` seconds more; then wait for every client.

    The kill is placed by the clients' progress, not by the clock: a moment of up to 1.5 s after the start fell
    after every upload of most rounds on an idle machine, and before any on a loaded one."""
    for client in clients:
        client.start()
    ended = rng.randrange(len(clients))
    deadline = time.monotonic() + 120
    while sum(not c.is_alive() for c in clients) < ended and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(rng.uniform(0, jitter))
    server.kill()
    for client in clients:
        client.join(timeout=60)
    assert not any(c.is_alive() for c in clients), f"a client hung after the kill (seed {seed})"
