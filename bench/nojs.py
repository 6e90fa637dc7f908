"""Server-side sealing: a no-JavaScript upload through `intake serve` (POST /report) vs age and gpg on the same file.

intake takes the multipart post over loopback, seals it on arrival and stores it durably before it
answers; age and gpg (its default compression, as SecureDrop stores files) each seal the same file,
already in the page cache, to 3 recipients and write it to the page cache; age is also timed with an
fsync of its output (`sync FILE`), which makes it as durable as intake's receipt: the goal's anchor.
Runs alternate between the four.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import MIB, PeakMemory, Row, median, run_tool

BOUNDARY = "intake-bench-boundary-1b6f"


def ensure_tools() -> None:
    """Install age and gpg from Debian when missing."""
    missing = [pkg for pkg, tool in (("age", "age"), ("gnupg", "gpg")) if not shutil.which(tool)]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL)


def age_command(work: Path, src: Path) -> list[str]:
    """age sealing `src` to 3 fresh recipients."""
    recipients = []
    for n in range(3):
        key = work / f"age{n}.txt"
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
        public = next(ln.split(": ")[1] for ln in key.read_text().splitlines() if "public key" in ln)
        recipients += ["-r", public]
    return ["age", *recipients, "-o", str(work / "out.age"), str(src)]


def durable(cmd: list[str], out: Path) -> list[str]:
    """`cmd`, then an fsync of its output (coreutils `sync FILE`): durable as intake's receipt is."""
    return ["sh", "-c", f"{shlex.join(cmd)} && sync {shlex.quote(str(out))}"]


def gpg_command(work: Path, src: Path) -> tuple[list[str], dict[str, str]]:
    """gpg encrypting `src` to 3 fresh keys with its default compression, and its environment."""
    home = work / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    for n in range(3):
        subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"r{n}@bench", "default", "default",
                        "never"], check=True, capture_output=True, env=env)
    recipients = [arg for n in range(3) for arg in ("-r", f"r{n}@bench")]
    return ["gpg", "--batch", "--yes", "--trust-model", "always", "-e", *recipients, "-o", str(work / "out.gpg"),
            str(src)], env


def post_file(port: int, src: Path) -> float:
    """POST the form with `src` as its file, 1 MiB at a time, as a browser without JavaScript; return seconds."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(f"http://127.0.0.1:{port}/").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    jar = next(h for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
    head = "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in
                   [("csrf_token", token), ("incident_type", "drone"), ("description", "bench upload")])
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="big.mp4"\r\n'
             "Content-Type: video/mp4\r\n\r\n")
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.putrequest("POST", "/report")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(len(head.encode()) + src.stat().st_size + len(tail)))
    conn.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in jar))
    conn.endheaders()
    conn.send(head.encode())
    with src.open("rb") as f:
        while block := f.read(MIB):
            conn.send(block)
    conn.send(tail)
    response = conn.getresponse()
    page = response.read().decode()
    elapsed = time.perf_counter() - start
    conn.close()
    if response.status != 200 or 'id="receipt"' not in page:
        raise SystemExit(f"the no-JS upload failed with status {response.status}")
    return elapsed


def run(work: Path, mib: int, runs: int) -> list[Row]:
    """Measure intake, age and gpg `runs` times each, alternating; return the two rows."""
    from bench.site import Server, make_site  # not at the top: bench/seal.py's timed child imports this module

    ensure_tools()
    src = work / "input.bin"
    with src.open("wb") as f:
        for _ in range(mib):
            f.write(os.urandom(MIB))
    age = age_command(work, src)
    age_synced = durable(age, work / "out.age")
    gpg, gpg_env = gpg_command(work, src)
    site = make_site(work / "site", max_mib=mib + 16)
    server = Server(site)
    times: dict[str, list[float]] = {"intake": [], "age": [], "age + fsync": [], "gpg": []}
    memory: dict[str, float] = {"age": 0.0, "age + fsync": 0.0, "gpg": 0.0}
    try:
        with PeakMemory(server.process.pid) as peak:
            for _ in range(runs):
                times["intake"].append(post_file(server.port, src))
                for name, cmd, env in (("age", age, None), ("age + fsync", age_synced, None), ("gpg", gpg, gpg_env)):
                    seconds, rss = run_tool(cmd, env)
                    times[name].append(seconds)
                    memory[name] = max(memory[name], rss)
    finally:
        server.stop()
    rate = {name: mib / median(t) for name, t in times.items()}
    server_mib = {"intake master": peak.peaks["master"], "intake worker": peak.peaks["worker"]}
    under = max(server_mib.values()) < 100
    return [
        Row(f"no-JS upload {mib} MiB sealed by the server", "MiB/s", rate["intake"], "age, 3 recipients, no fsync",
            rate["age"], memory_mib={**server_mib, "age": memory["age"]},
            note="age's output stays in the page cache; intake's receipt means the report is on disk"),
        Row(f"no-JS upload {mib} MiB sealed by the server", "MiB/s", rate["intake"], "age, 3 recipients, then fsync",
            rate["age + fsync"], goal=">= 0.5x age + fsync, server < 100 MiB",
            met=rate["intake"] >= 0.5 * rate["age + fsync"] and under,
            memory_mib={**server_mib, "age": memory["age"]}),
        Row(f"no-JS upload {mib} MiB sealed by the server", "MiB/s", rate["intake"], "gpg -e, 3 keys, compressed",
            rate["gpg"], goal=">= 5x gpg, server < 100 MiB", met=rate["intake"] >= 5 * rate["gpg"] and under,
            memory_mib={**server_mib, "gpg": memory["gpg"]}),
    ]
