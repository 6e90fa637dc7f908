"""How long `intake-review digest` takes, and how much memory, on many cases with photos, in one run.

Run `.venv/bin/python bench/digest.py CASES PHOTOS [--side PX] [--json]` from the repository root (the issue's
size is 1,000 cases with 300 photos of 4000x3000). It stores CASES server-sealed cases in a temporary SQLite
database, PHOTOS of them with one JPEG each (a few different pictures, each sealed on its own), then runs the
real `intake-review digest` process (previews drawn by the sandbox) and, as the baseline on the same data, the
real `intake-review list --json`. Wall times and processor times (the process and its children: the fair
figure on a loaded machine); the digest's peak memory is sampled every 5 ms in the process and
in its preview server (a forked child per photo is not sampled: each lives for one photo, under its own limit).
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INTAKE_KDF_PROFILE", "interactive")

from bench.common import PeakMemory  # noqa: E402
from intake.crypto.keyfile import lock_identity, write_private  # noqa: E402
from intake.crypto.keys import Identity  # noqa: E402
from intake.crypto.report import seal_report  # noqa: E402
from intake.crypto.stream import PART  # noqa: E402
from intake.storage.db import connect, upgrade, writing  # noqa: E402
from intake.storage.lifecycle import insert_case  # noqa: E402
from intake.storage.schema import parts  # noqa: E402

TYPES = ("drone", "cctv", "face_recognition", "phone_online", "other")
PLACES = ("KH-12", "KH-17", "KH-3", "MM-06", "MM-04", "MM-01", "KH-25")


def photos(side: int, count: int = 5) -> list[bytes]:
    """A few different JPEGs of side x 3/4 side, as a phone writes them (quality 90)."""
    from PIL import Image

    made = []
    for seed in range(count):
        img = Image.radial_gradient("L").resize((side, side * 3 // 4)).convert("RGB")
        bands = [b.point(lambda v, s=seed + i: (v * (s + 3)) % 256) for i, b in enumerate(img.split())]
        img = Image.merge("RGB", bands)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90)
        made.append(out.getvalue())
    return made


def populate(url: str, identity: Identity, cases: int, with_photo: int, side: int) -> None:
    """Store the cases, every (cases / with_photo)-th with a photo, each in its own transaction."""
    engine = connect(url)
    upgrade(engine)
    pictures = photos(side)
    every = max(cases // max(with_photo, 1), 1)
    for i in range(cases):
        fields = {"incident_type": TYPES[i % 5], "description": f"Report {i}: a camera followed us to the market.",
                  "location": "near the market", "province": PLACES[i % 7], "occurred_year": str(2025 + i % 2),
                  "occurred_month": f"{1 + i % 12:02d}", "lang": ("km", "my", "en")[i % 3]}
        files = [("photo.jpg", "image/jpeg", [pictures[i % len(pictures)]])] if i % every == 0 and i // every < \
            with_photo else []
        sealed = seal_report([identity.recipient], fields, files)
        with writing(engine) as conn:
            case_id, _, _ = insert_case(conn, sealed.header, sealed.body, "server", [identity.key_id],
                                        [len(s) for s in sealed.streams], complete=True)
            for idx, stream in enumerate(sealed.streams):
                conn.execute(parts.insert(), [{"case_id": case_id, "idx": idx, "part": n, "data": stream[o:o + PART]}
                                              for n, o in enumerate(range(0, len(stream), PART))])
    engine.dispose()


def run(command: list[str]) -> tuple[float, float, float, float]:
    """Wall seconds, processor seconds (with its children), peak RSS of the process and of its largest child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with PeakMemory(proc.pid) as peak:
        _, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{command[-3:]} failed: {err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return time.perf_counter() - start, cpu, peak.peaks["master"], peak.peaks["worker"]


def main() -> None:
    """Store, run digest and list, print the figures."""
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    cases, with_photo = (numbers + [1000, 300])[:2] if len(numbers) != 1 else (numbers[0], numbers[0] * 3 // 10)
    side = int(sys.argv[sys.argv.index("--side") + 1]) if "--side" in sys.argv else 4000
    identity = Identity.generate()
    with tempfile.TemporaryDirectory(prefix="intake-bench-digest-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        populate(url, identity, cases, with_photo, side)
        key, secret = Path(tmp) / "bench.key", Path(tmp) / "bench.pass"
        write_private(key, lock_identity(identity, b"bench passphrase", "interactive"))
        secret.write_text("bench passphrase\n")
        review = [str(Path(sys.executable).parent / "intake-review"), "--identity", str(key), "--passphrase-file",
                  str(secret), "--db", url]
        digest_s, digest_cpu, digest_mib, server_mib = run([*review, "digest", "--out", f"{tmp}/digest"])
        list_s, list_cpu, list_mib, _ = run([*review, "list", "--json"])
        previews = len(list(Path(f"{tmp}/digest/cases").glob("*.jpg")))
    got = {"cases": cases, "photos": with_photo, "side": side, "previews": previews, "digest_s": digest_s,
           "digest_cpu_s": digest_cpu, "digest_mib": digest_mib, "preview_server_mib": server_mib, "list_s": list_s,
           "list_cpu_s": list_cpu, "list_mib": list_mib, "load": os.getloadavg()[0]}
    print(json.dumps(got) if "--json" in sys.argv else "\n".join(f"{k}: {v}" for k, v in got.items()))


if __name__ == "__main__":
    main()
