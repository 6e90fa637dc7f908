"""Shared by the hostile-input suites: a live target, and the checks every refused request must pass."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from intake.crypto.report import SealedReport, seal_report
from tests.support.proof import Reporter
from tests.support.web import Server, Site, make_site, rows

HANG = 60
SLOWER = 25  # a hostile request may take this many times a valid one of the largest size, and no more


@dataclass
class Target:
    """A live server on SQLite, a reporter session on it, and how long valid requests take."""

    site: Site
    server: Server
    reporter: Reporter
    baseline: float = 0.0

    @property
    def limit(self) -> float:
        """The longest a hostile request may take: a multiple of the baseline measured on this server."""
        return SLOWER * self.baseline + 0.5

    def rows(self) -> dict[str, int]:
        """Rows of every case table, complete or not."""
        return rows(self.site.engine)

    def sealed(self, sizes: tuple[int, ...]) -> SealedReport:
        """A report sealed to this server's keyring, with attachments of these plaintext sizes."""
        return seal_report(self.reporter.recipients, {"incident_type": "other", "description": "hostile test"},
                           [(f"f{i}.bin", "application/octet-stream", [bytes([i]) * n]) for i, n in enumerate(sizes)])


def start_target(root: Path) -> Target:
    """Serve a fresh SQLite instance with no proof-of-work cost and an ample budget."""
    root.mkdir(parents=True, exist_ok=True)
    site = make_site(root, f"sqlite:///{root / 'intake.db'}")
    server = Server({**site.env, "INTAKE_POW_BITS": "0", "INTAKE_NOJS_PER_MINUTE": "100000"}, root).start()
    return Target(site, server, Reporter(server.url, timeout=HANG))


def measure(action, times: int = 5) -> float:
    """The median duration of `action()`."""
    spent = []
    for _ in range(times):
        start = time.monotonic()
        action()
        spent.append(time.monotonic() - start)
    return statistics.median(spent)


def check_answer(target: Target, r: requests.Response, elapsed: float, allowed: set[int]) -> None:
    """No 5xx, no traceback, a clear JSON or HTML message for a refusal, and no longer than the limit."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    assert r.status_code in allowed, (r.status_code, r.text[:500])
    assert "Traceback" not in r.text
    assert 'File "' not in r.text
    if r.status_code >= 400:
        if r.headers.get("Content-Type", "").startswith("application/json"):
            message = r.json().get("error")
            assert isinstance(message, str), r.text[:300]
            assert len(message) >= 10, r.text[:300]
        else:
            assert len(r.text) >= 10, r.text
    assert elapsed < target.limit, f"took {elapsed:.2f} s, the limit is {target.limit:.2f} s"
