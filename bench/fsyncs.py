"""fsync and fdatasync calls per report, on each way in, counted with strace on a live `intake serve`.

The server runs under `strace -f` (its gunicorn master and every worker), tracing only the two calls;
each report adds the lines it caused to the trace, so the count of one report is the trace's growth
while it is sent (the smaller of two reports: a sweep or another worker's first write may fall in one).
A report is durable at one point, its receipt (docs/web.md, "One durable point"): the count must be a
small constant, the same for a file of 1 MiB and of 64 MiB.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.common import MIB, children, wait_until_up
from bench.nojs import post_file
from bench.sealed_api import seal_big, upload_intake
from bench.site import BIN, Site, free_port, make_site

SYNC = re.compile(rb"\b(?:fsync|fdatasync)\(")


class TracedServer:
    """`intake serve` under strace, counting its fsync and fdatasync calls."""

    def __init__(self, site: Site) -> None:
        if shutil.which("strace") is None:
            raise SystemExit("strace is missing: install it (.ci/setup lists it)")
        self.port = free_port()
        self.trace = site.root / "fsyncs.trace"
        self.process = subprocess.Popen(
            ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=fsync,fdatasync", "-e", "signal=none", "-y",
             "-o", str(self.trace), str(BIN / "intake"), "serve", "--port", str(self.port)],
            cwd=site.root, env={**os.environ, **site.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(f"http://127.0.0.1:{self.port}/keyring.json", self.process, "intake serve under strace")

    def count(self) -> int:
        """Every fsync and fdatasync so far (the trace is written as the calls return)."""
        return len(SYNC.findall(self.trace.read_bytes()))

    def during(self, work) -> int:  # noqa: ANN001
        """The calls made while `work()` ran and until the trace is still for a second (the checkpoint that
        follows an upload runs in the background: storage/checkpoints.py)."""
        before = self.count()
        work()
        seen, still = self.count(), time.monotonic()
        while time.monotonic() - still < 1 and time.monotonic() - still < 30:
            time.sleep(0.1)
            if (now := self.count()) != seen:
                seen, still = now, time.monotonic()
        return seen - before

    def stop(self) -> None:
        """Stop strace's child (gunicorn's master) and strace."""
        for child in children(self.process.pid):
            os.kill(child, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def measure(work: Path, sizes: tuple[int, ...] = (1, 64)) -> dict[str, dict[int, int]]:
    """fsyncs of one report with a file of each size in MiB, sent without JavaScript and through the API."""
    site = make_site(work / "site", max_mib=max(sizes) + 16)
    server = TracedServer(site)
    counts: dict[str, dict[int, int]] = {"nojs": {}, "api": {}}
    try:
        for mib in sizes:
            src = work / f"input-{mib}.bin"
            with src.open("wb") as f:
                for _ in range(mib):
                    f.write(os.urandom(MIB))
            post_file(server.port, src)  # the first report of a size warms the WAL
            counts["nojs"][mib] = min(server.during(lambda src=src: post_file(server.port, src)) for _ in range(2))
            header, body, parts = seal_big(site, mib)
            upload_intake(server.port, header, body, parts)
            send = lambda h=header, b=body, p=parts: upload_intake(server.port, h, b, p)  # noqa: E731
            counts["api"][mib] = min(server.during(send) for _ in range(2))
            src.unlink()
    finally:
        server.stop()
    return counts
