"""Peak memory of `intake serve` while it takes a 256 MiB no-JavaScript upload, sealed on arrival.

Run from the repository root: `.venv/bin/python bench/web_upload.py [--mib 256]`. It makes a throwaway
instance, starts `intake serve`, posts the form with one file streamed from a generator (the client
holds one 1 MiB block at a time), samples VmRSS of the gunicorn worker and master every 10 ms and prints
the peaks, the time and the throughput. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INTAKE_KDF_PROFILE", "interactive")

from tests.web_support import LiveServer, make_site  # noqa: E402

MIB = 1 << 20
BOUNDARY = "intake-bench-boundary-1b6f"


def rss_kib(pid: int) -> int:
    """VmRSS of one process, in KiB."""
    try:
        match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def body(token: str, mib: int):
    """The multipart form, one 1 MiB block of the file at a time."""
    head = "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in
                   [("csrf_token", token), ("incident_type", "drone"), ("description", "bench upload")])
    yield (head + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="big.mp4"\r\n'
           "Content-Type: video/mp4\r\n\r\n").encode()
    block = os.urandom(MIB)
    for _ in range(mib):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def main() -> None:
    """Serve, upload, sample, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    mib = parser.parse_args().mib
    root = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    site = make_site(root, f"sqlite:///{root / 'instance' / 'intake.db'}")
    object.__setattr__(site.settings, "max_report_bytes", (mib + 16) * MIB)
    site.env["INTAKE_MAX_REPORT_BYTES"] = str((mib + 16) * MIB)
    server = LiveServer(site, root)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(server.url + "/").read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        cookie = next(c for c in opener.handlers if isinstance(c, urllib.request.HTTPCookieProcessor)).cookiejar
        master = server.process.pid
        (worker,) = children(master)
        idle = (rss_kib(worker), rss_kib(master))
        peak = list(idle)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_kib(worker))
                peak[1] = max(peak[1], rss_kib(master))
                time.sleep(0.01)

        threading.Thread(target=sample, daemon=True).start()
        length = sum(len(b) for b in body(token, 0)) + mib * MIB
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        started = time.monotonic()
        conn.putrequest("POST", "/report")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("Content-Length", str(length))
        conn.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in cookie))
        conn.endheaders()
        for block in body(token, mib):
            conn.send(block)
        response = conn.getresponse()
        page = response.read().decode()
        elapsed = time.monotonic() - started
        done.set()
        assert response.status == 200 and 'id="receipt"' in page, page[:500]
        print(f"no-JS upload of {mib} MiB sealed on arrival: {elapsed:.2f} s ({mib / elapsed:.0f} MiB/s)")
        print(f"worker RSS (the process that takes the upload): idle {idle[0] / 1024:.1f} MiB, "
              f"peak {peak[0] / 1024:.1f} MiB (limit 100 MiB)")
        print(f"gunicorn master RSS: idle {idle[1] / 1024:.1f} MiB, peak {peak[1] / 1024:.1f} MiB")
    finally:
        server.stop()
        site.engine.dispose()


if __name__ == "__main__":
    main()
