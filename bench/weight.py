"""The form page over Tor on a cheap phone: bytes and seconds until it can seal, in Debian's Chromium.

Run `.venv/bin/python bench/weight.py [--runs 3] [--json]` from the repository root. It starts
`intake demo` on loopback and loads the form under Chromium's network emulation (100,000 B/s down,
50,000 B/s up, 600 ms latency), with JavaScript on until the page marks itself ready to seal
(`<html data-sealing="ready">`), again as a browser without brotli (gzip only), then with
JavaScript off until the page has loaded (the baseline).
Bytes are what Chromium received (headers and bodies, as sent on the wire); seconds run from
the start of the navigation.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = {"offline": False, "latency": 600, "downloadThroughput": 100_000, "uploadThroughput": 50_000}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WATCH_READY = """new MutationObserver((_, observer) => {
  if (document.documentElement.dataset.sealing !== "ready") return;
  window.readyAt = performance.now();
  observer.disconnect();
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-sealing"] });"""


def load(browser, url: str, javascript: bool, encodings: str | None = None) -> dict[str, object]:  # noqa: ANN001
    """One fresh visit under the profile: seconds until ready (or loaded), first paint, bytes by URL.

    `encodings` replaces Chromium's Accept-Encoding (say "gzip, deflate" for a browser without brotli).
    """
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", PROFILE)
    if encodings:
        cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": encodings}})
    urls: dict[str, str] = {}
    received: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.add_init_script(WATCH_READY)
    page.goto(url, wait_until="load", timeout=120_000)
    if javascript:
        page.wait_for_function("() => window.readyAt !== undefined", timeout=120_000, polling=50)
        ms = page.evaluate("window.readyAt")
    else:
        ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    page.wait_for_timeout(1000)  # anything still arriving is counted too
    context.close()
    by_url = {urls.get(rid, rid).removeprefix(url.rstrip("/")): n for rid, n in received.items()}
    return {"seconds": ms / 1000, "paint_s": paint / 1000 if paint is not None else None,
            "bytes": sum(by_url.values()), "by_url": by_url}


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo(root: Path) -> tuple[subprocess.Popen, str]:
    """`intake demo` in its own process group, once it answers."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(root)}
    cmd = [str(Path(sys.executable).parent / "intake"), "demo", "--instance", str(root / "demo"), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=root, env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "keyring.json", timeout=2).close()  # noqa: S310
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("intake demo did not start")


def measure(runs: int) -> dict[str, object]:
    """Median figures of `runs` visits with JavaScript and without, alternated, and the last visits' bytes by URL."""
    from playwright.sync_api import sync_playwright

    visits: dict[str, list[dict]] = {"js": [], "js_gzip": [], "nojs": []}
    with tempfile.TemporaryDirectory(prefix="intake-weight-") as tmp, sync_playwright() as pw:
        proc, url = demo(Path(tmp))
        try:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for _ in range(runs):
                visits["js"].append(load(browser, url, javascript=True))
                visits["js_gzip"].append(load(browser, url, javascript=True, encodings="gzip, deflate"))
                visits["nojs"].append(load(browser, url, javascript=False))
            browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    out: dict[str, object] = {"profile": PROFILE, "runs": runs}
    for name, got in visits.items():
        out[name] = {key: statistics.median(v[key] for v in got) for key in ("seconds", "bytes")}
        paints = [v["paint_s"] for v in got if v["paint_s"] is not None]
        out[name]["paint_s"] = statistics.median(paints) if paints else None
        out[name]["by_url"] = got[-1]["by_url"]
    return out


def main() -> None:
    """Print the figures, or one JSON line with --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    got = measure(opts.runs)
    if opts.json:
        print(json.dumps(got))
        return
    for name in ("js", "js_gzip", "nojs"):
        figures = got[name]
        print(f"{name}: {figures['bytes']:,.0f} bytes, ready in {figures['seconds']:.2f} s, "
              f"first paint {figures['paint_s']} s")
        for path, n in sorted(figures["by_url"].items(), key=lambda x: -x[1]):
            print(f"  {n:>9,} {path}")


if __name__ == "__main__":
    main()
