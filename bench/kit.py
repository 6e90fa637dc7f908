"""The offline kit in Debian's Chromium: its weight, how soon it can seal from file://, and how fast it seals.

Run `.venv/bin/python bench/kit.py [--mib 50] [--runs 3] [--json]` from the repository root. It starts
`intake demo` on loopback and saves the kit it serves. Ready: the kit opened from file:// with every request
aborted, on a 360 px phone whose CPU Chromium slows 4 times (the stand-in for a cheap phone of docs/format.md
§12.3; the network profile of bench/weight.py does not apply to a file), seconds from the navigation until
`<html data-sealing="ready">`, and the same unslowed. Sealing: a video of MIB MiB of random bytes (named as
one that cannot be cleaned, then sent as it is), seconds from the press of the button until the kit has saved
its sealed file, against the form page online (sealed in the page, proof of work,
upload over loopback) until its receipt.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.weight import CHROMIUM_ARGS, demo  # noqa: E402

VENDOR = Path(__file__).resolve().parents[1] / "intake" / "static" / "vendor"
WATCH_READY = """new MutationObserver((_, observer) => {
  if (document.documentElement.dataset.sealing !== "ready") return;
  window.readyAt = performance.now();
  observer.disconnect();
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-sealing"] });"""


def ready(browser, kit: Path, slowdown: int) -> float:  # noqa: ANN001
    """Seconds from navigation until the kit, opened from file:// with no request allowed, can seal."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.route("**/*", lambda route: route.continue_() if route.request.url == kit.as_uri() else route.abort())
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
    page.add_init_script(WATCH_READY)
    page.goto(kit.as_uri(), wait_until="load", timeout=120_000)
    page.wait_for_function("() => window.readyAt !== undefined", timeout=120_000, polling=50)
    seconds = page.evaluate("window.readyAt") / 1000
    context.close()
    return seconds


def send(page) -> float:  # noqa: ANN001
    """Once the page has named the video as one it cannot clean, press the button; when that was."""
    page.wait_for_selector("#files-note:not([hidden])", timeout=120_000)
    start = time.monotonic()
    page.click("#report-form button[type=submit]")
    return start


def seal_in_kit(browser, kit: Path, video: Path) -> float:  # noqa: ANN001
    """Seconds the kit takes to seal the video and save the file."""
    context = browser.new_context(accept_downloads=True)
    context.route("**/*", lambda route: route.continue_() if route.request.url == kit.as_uri() else route.abort())
    page = context.new_page()
    page.goto(kit.as_uri())
    page.wait_for_selector("html[data-sealing=ready]", timeout=120_000)
    page.select_option("#incident_type", "drone")
    page.fill("#description", "bench: a video sealed in the kit")
    page.set_input_files("#attachments", str(video))
    with page.expect_download(timeout=600_000) as download:
        start = send(page)
    download.value.path()  # the whole file, saved
    seconds = time.monotonic() - start
    context.close()
    return seconds


def seal_online(browser, url: str, video: Path) -> float:  # noqa: ANN001
    """Seconds the online form page takes to seal and upload the video until its receipt."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("html[data-sealing=ready]", timeout=120_000)
    page.select_option("#incident_type", "drone")
    page.fill("#description", "bench: a video sealed in the page")
    page.set_input_files("#attachments", str(video))
    start = send(page)
    page.wait_for_selector("#receipt-box:not([hidden])", timeout=600_000)
    seconds = time.monotonic() - start
    context.close()
    return seconds


def measure(mib: int, runs: int) -> dict[str, object]:
    """Median figures of `runs` tries of each, alternated."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="intake-kit-") as tmp, sync_playwright() as pw:
        root = Path(tmp)
        proc, url = demo(root)
        try:
            with urllib.request.urlopen(url + "keyring.json", timeout=30) as answer:  # noqa: S310
                name = json.load(answer)["kit"]["file"]
            kit = root / name
            with urllib.request.urlopen(f"{url}kit/{name}", timeout=30) as answer:  # noqa: S310
                kit.write_bytes(answer.read())
            video = root / "clip.mp4"
            video.write_bytes(os.urandom(mib << 20))
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            got: dict[str, list[float]] = {"ready_phone": [], "ready": [], "kit": [], "page": []}
            for _ in range(runs):
                got["ready_phone"].append(ready(browser, kit, 4))
                got["ready"].append(ready(browser, kit, 1))
                got["kit"].append(seal_in_kit(browser, kit, video))
                got["page"].append(seal_online(browser, url, video))
            browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        vendor = sum((VENDOR / n).stat().st_size for n in ("libsodium-sumo-0.8.4.mjs",
                                                           "libsodium-wrappers-sumo-0.8.4.mjs"))
        return {"mib": mib, "runs": runs, "bytes": kit.stat().st_size, "libsodium_bytes": vendor,
                **{k: statistics.median(v) for k, v in got.items()}}


def main() -> None:
    """Print the figures, or one JSON line with --json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    got = measure(opts.mib, opts.runs)
    if opts.json:
        print(json.dumps(got))
        return
    print(f"kit: {got['bytes']:,} bytes ({got['libsodium_bytes']:,} of libsodium.js); ready from file:// in "
          f"{got['ready_phone']:.2f} s with the CPU slowed 4x, {got['ready']:.2f} s unslowed")
    print(f"sealing {got['mib']} MiB: kit {got['kit']:.2f} s, online page {got['page']:.2f} s")


if __name__ == "__main__":
    main()
