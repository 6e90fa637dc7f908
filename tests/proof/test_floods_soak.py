"""The flood soak (issue 11, "Done when"): one attacker floods `intake serve` for 60 s while real reporters send
through Chromium, with JavaScript and without. Every real report gets a receipt; the longest wait, the
attacker's cost per accepted report, the server's memory and disk are recorded and bounded.

The attacker: two processes solving the proof of work natively (tests/support/flood_attacker.py), threads sending
every kind of free POST, and a page of another site making Chromium send cross-site POSTs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from intake.storage.schema import cases, stored_bytes
from tests.support import ROOT
from tests.support.browser import CHROMIUM_ARGS, fill, wait_receipt
from tests.support.other_origin import ATTACK, Attacker
from tests.support.web import Server, default_site

pytestmark = [pytest.mark.soak, pytest.mark.browser, pytest.mark.slow,
              pytest.mark.serial]  # a 60 s flood by two solving processes loads the whole machine
SECONDS = 60
MEMORY_BOUND = 1 << 30
DISK_BOUND = 256 << 20
LOOP = """<script>
async function loop() {{
  const form = new FormData();
  form.append("csrf_token", "{token}");
  form.append("description", "cross-site flood");
  form.append("attachments", new Blob([new Uint8Array(100000)]), "f.bin");
  for (;;) await fetch("{target}/report", {{ method: "POST", mode: "no-cors", body: form }}).catch(() => null);
}}
loop(); loop(); loop();
</script>"""


def free_posts(url: str, token: str, stop: threading.Event, counts: Counter) -> None:
    """Every kind of request that costs its sender nothing, again and again."""
    http = requests.Session()
    multipart = {"files": {"attachments": ("big.bin", b"\0" * 200_000, "application/octet-stream")}}
    kinds = [
        lambda: http.post(url + "/report", timeout=30),
        lambda: http.post(url + "/report", data={"description": "x"}, **multipart, timeout=30),
        lambda: http.post(url + "/report", data={"csrf_token": "forged", "description": "x"}, **multipart, timeout=30),
        lambda: http.post(url + "/report", data={"csrf_token": token, "website": "spam", "description": "x"},
                          **multipart, timeout=30),
        lambda: http.post(url + "/report", data={"csrf_token": token, "description": "x"},
                          headers={"Origin": "http://evil.example"}, timeout=30),
        lambda: http.put(url + "/report", data=b"x", timeout=30),
        lambda: http.post(url + "/report", data=b"x" * 1000, timeout=30,
                          headers={"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "1000"}),
        lambda: http.post(url + "/api/v1/reports", json={}, timeout=30),
        lambda: http.post(url + "/api/v1/reports", json={"pow_challenge": "A" * 50, "pow_nonce": "0"},
                          headers={"X-CSRFToken": token}, timeout=30),
        lambda: http.post(url + "/api/v1/reports", json={"pow_challenge": http.get(
            url + "/api/v1/challenge", timeout=30).json()["challenge"], "pow_nonce": "0"},
            headers={"X-CSRFToken": token}, timeout=30),
    ]
    while not stop.is_set():
        for kind in kinds:
            try:
                counts[kind().status_code] += 1
            except requests.RequestException:
                counts["error"] += 1


def group_rss(pid: int) -> int:
    """Resident memory of a process group (gunicorn's master and workers), in bytes."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pid:
                    rss = (entry / "statm").read_text().split()[1]
                    total += int(rss) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ProcessLookupError, IndexError):
                continue
    return total


def folder_size(folder: Path) -> int:
    """Bytes of every file under `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_flood_soak(tmp_path: Path):
    """60 s of flood while people report: all their reports get receipts, within the bounds."""
    from playwright.sync_api import sync_playwright

    site = default_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server(site.env, tmp_path).start()
    stop = threading.Event()
    free = Counter()
    peaks = {"rss": 0, "disk": 0}
    waits: dict[str, list[float]] = {"javascript": [], "no javascript": []}
    refs = []
    token = requests.get(server.url + "/", timeout=10).text.split('name="csrf-token" content="')[1].split('"')[0]
    page_of_another_site = Attacker(ATTACK.split("<script>")[0] + LOOP.format(target=server.url, token=token))
    solvers = []
    try:
        def watch() -> None:
            while not stop.is_set():
                peaks["rss"] = max(peaks["rss"], group_rss(server.process.pid))
                peaks["disk"] = max(peaks["disk"], folder_size(site.settings.instance))
                time.sleep(1)

        threads = [threading.Thread(target=watch)] + [
            threading.Thread(target=free_posts, args=(server.url, token, stop, free)) for _ in range(3)]
        started = time.monotonic()
        solvers = [subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.support.flood_attacker", "solver", server.url, str(SECONDS),
             str(tmp_path / f"solver{n}.json")], cwd=ROOT) for n in range(2)]
        for t in threads:
            t.start()
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            hostile = chromium.new_context().new_page()
            hostile.goto(f"http://localhost:{page_of_another_site.server_address[1]}/")
            n = 0
            while time.monotonic() - started < SECONDS:
                javascript = n % 2 == 0
                context = chromium.new_context(java_script_enabled=javascript)
                page = context.new_page()
                began = time.monotonic()
                page.goto(server.url + "/", timeout=120000)
                if javascript:
                    page.wait_for_selector("html[data-sealing=ready]", timeout=120000)
                fill(page, f"real report {n} under flood")
                page.click("button[type=submit]")
                if javascript:
                    refs.append(wait_receipt(page))
                else:
                    page.wait_for_selector("text=Your report was received", timeout=120000)
                    refs.append(page.inner_text("#receipt"))
                waits["javascript" if javascript else "no javascript"].append(time.monotonic() - began)
                assert context.cookies() == []
                context.close()
                n += 1
            chromium.close()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert [s.wait(timeout=120) for s in solvers] == [0, 0]
        attack = [json.loads((tmp_path / f"solver{n}.json").read_text()) for n in range(2)]
        accepted = sum(len(a["refs"]) for a in attack)
        cpu = sum(a["cpu_seconds"] for a in attack)
        with site.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(True))).scalar()
            charged = conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))).scalar()
        figures = {"real reports": len(refs), "longest wait": {k: max(v) for k, v in waits.items()},
                   "attacker accepted": accepted, "attacker cpu seconds": round(cpu, 1),
                   "attacker cpu seconds per accepted report": round(cpu / max(accepted, 1), 3),
                   "attacker tries per accepted report": sum(a["tries"] for a in attack) // max(accepted, 1),
                   "attacker statuses": [a["statuses"] for a in attack], "free requests": dict(free),
                   "peak server memory MiB": peaks["rss"] >> 20, "peak instance folder MiB": peaks["disk"] >> 20,
                   "stored cases": stored, "bytes charged": charged}
        print(json.dumps(figures, indent=1))
        (tmp_path / "figures.json").write_text(json.dumps(figures))
        assert len(refs) >= 4
        assert all(waits.values())
        resets = sum(a["statuses"].get("0", 0) for a in attack)  # answers the attacker never read
        assert accepted + len(refs) <= stored <= accepted + len(refs) + resets, \
            "every real report, and only the attacker's paid ones, are stored"
        assert peaks["rss"] < MEMORY_BOUND
        assert peaks["disk"] < DISK_BOUND
        assert free.get(500, 0) == 0
        assert "Traceback" not in server.log_text()
    finally:
        stop.set()
        for s in solvers:
            s.kill()
        page_of_another_site.shutdown()
        page_of_another_site.server_close()
        server.stop()
        site.engine.dispose()
