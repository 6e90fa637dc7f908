"""`python -m bench [--quick] [--only ROW ...]`: one table, each row measured side by side in one run.

Rows: seal (intake.crypto sealing a file vs age), nojs (server-side sealing vs age and gpg), api (a large
browser-sealed upload and small reports a second vs bare endpoints), fsyncs (fsync calls per report on each
way in, a large file vs 1 MiB), review (intake-review list vs bare PyNaCl, list --search vs list), desk
(intake-review desk opened on the cases, its time and peak memory, vs the intake-review list process), digest
(intake-review digest of cases with photos vs list of them, under 60 s and 500 MiB), rewrap (vs bare PyNaCl),
storage (SQLite vs PostgreSQL), layout (the sweep's rebuild of a SQLite file vs copying it), checks (a
browser-sealed report's latency while wrong codenames are posted to the no-JS /check vs quiet), weight (the form
page in Chromium over a Tor-on-a-phone network, with JavaScript vs without). The table is printed and written to
bench/out/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, PeakMemory, Row

ROWS = ("seal", "nojs", "api", "fsyncs", "review", "desk", "digest", "rewrap", "storage", "layout", "checks",
        "weight", "kit")
QUICK = ("quick mode: small sizes and one run. It checks that every row runs, not the goals: the 'met' "
         "column is left empty; run `python -m bench` for figures and goals.")


def script(name: str, *args: str) -> tuple[dict, float]:
    """Run bench/NAME.py with --json; its figures and its peak RSS in MiB."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / f"{name}.py"), *args, "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    with PeakMemory(proc.pid, workers=False) as peak:
        out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"bench/{name}.py failed")
    return json.loads(out.strip().splitlines()[-1]), peak.peaks["master"]


def seal(quick: bool) -> list[Row]:
    """intake.crypto sealing a file in its own process vs age, both to 3 recipients, no HTTP, no fsync."""
    got, _ = script("seal", "--mib", str(16 if quick else 256), "--runs", str(1 if quick else 5))
    mib, seconds, peak = got["mib"], got["seconds"], got["peak_mib"]
    return [Row(f"sealing a {mib} MiB file, 3 recipients", "MiB/s", mib / seconds["intake"], "age, 3 recipients",
                mib / seconds["age"], goal="<= 2x age's time, < 64 MiB",
                met=seconds["intake"] <= 2 * seconds["age"] and peak["intake"] < 64,
                memory_mib={"intake": peak["intake"], "age": peak["age"]})]


def fsyncs(work: Path, quick: bool) -> list[Row]:
    """fsync and fdatasync calls of one report with a large file vs one with a 1 MiB file, on each way in."""
    from bench.fsyncs import measure

    big = 8 if quick else 64
    counts = measure(work, (1, big))
    names = {"nojs": "no-JS", "api": "API"}
    return [Row(f"fsyncs per report, {names[way]}, {big} MiB file", "fsyncs", by_size[big], "same, 1 MiB file",
                by_size[1], higher_is_better=False, goal=f"<= 6 for 1 and {big} MiB",
                met=max(by_size.values()) <= 6, note="strace -f of intake serve; 69 (no-JS) and 115 (API) "
                "for 64 MiB before one durable point")
            for way, by_size in counts.items()]


def review(quick: bool) -> list[Row]:
    """intake-review list over stored cases vs a bare crypto_box_seal_open loop."""
    got, rss = script("review", str(1000 if quick else 10_000))
    return [Row(f"review list, {got['cases']} cases", "cases/s", got["list"], "bare PyNaCl seal_open", got["bare"],
                goal=">= 0.5x bare", met=got["list"] >= 0.5 * got["bare"], memory_mib={"bench process": rss},
                note=f"the whole intake-review process: {got['cli']:.0f} cases/s"),
            Row(f"review list --search, {got['cases']} cases", "cases/s", got["search"], "plain list", got["list"],
                goal=">= 0.4x plain list", met=got["search"] >= 0.4 * got["list"],
                note="notes and threads opened, every case's text searched")]


def desk(quick: bool) -> list[Row]:
    """intake-review desk opened on stored cases (headless) vs the intake-review list process."""
    got, _ = script("desk", str(500 if quick else 10_000), "--runs", str(1 if quick else 3))
    return [Row(f"desk opened, {got['cases']} cases", "s", got["desk_s"], "intake-review list", got["list_s"],
                higher_is_better=False, goal="< 10 s, < 500 MiB",
                met=got["desk_s"] < 10 and got["desk_peak_mib"] < 500, memory_mib={"desk": got["desk_peak_mib"]},
                note=f"processor seconds of each whole process (wall: desk {got['desk_wall_s']:.1f} s, list "
                     f"{got['list_wall_s']:.1f} s); unlock, every case with notes and thread, the list filled")]


def digest(quick: bool) -> list[Row]:
    """intake-review digest over cases with photos (previews drawn in the sandbox) vs list on the same cases."""
    got, _ = script("digest", *(("100", "30", "--side", "1600") if quick else ("1000", "300", "--side", "4000")))
    return [Row(f"digest, {got['cases']} cases, {got['photos']} photos of {got['side']} px", "s", got["digest_s"],
                "intake-review list --json, same cases", got["list_s"], higher_is_better=False,
                goal="< 60 s, < 500 MiB", met=got["digest_s"] < 60 and got["digest_mib"] < 500,
                memory_mib={"digest": got["digest_mib"], "preview server": got["preview_server_mib"]},
                note=f"processor time {got['digest_cpu_s']:.1f} s (list {got['list_cpu_s']:.1f} s); "
                     f"{got['previews']} previews; load average {got['load']:.1f}")]


def rewrap(quick: bool) -> list[Row]:
    """intake keys rewrap vs bare PyNaCl doing the same key work."""
    got, rss = script("rewrap", "--cases", str(2000 if quick else 100_000))
    return [Row(f"rewrap, {got['cases']} cases, {got['jobs']} jobs", "s", got["rewrap_s"], "bare PyNaCl, 1 process",
                got["bare_s"], higher_is_better=False, goal="<= 2x bare time, < 60 s",
                met=got["rewrap_s"] <= 2 * got["bare_s"] and got["rewrap_s"] < 60, memory_mib={"bench process": rss})]


def storage(quick: bool) -> list[Row]:
    """The same sealed rows stored on SQLite and on PostgreSQL."""
    got, rss = script("storage", "--cases", str(150 if quick else 2000), "--mib", str(8 if quick else 64))
    sqlite = got["sqlite"]
    mib = got["mib"]
    held = sqlite["follow-up lock wait (s)"]
    return [Row(f"storage: {name}", "/s", got["postgres"][name], "same on SQLite", sqlite[name],
                memory_mib={"bench process": rss}, note="intake column: PostgreSQL")
            for name in sqlite if "lock" not in name] + [
        Row("storage: a follow-up's files uploaded, SQLite", "MiB/s", sqlite["follow-up upload (MiB)/s"],
            "a report's files, same upload", sqlite["report upload (MiB)/s"], goal=">= 0.8x",
            met=sqlite["follow-up upload (MiB)/s"] >= 0.8 * sqlite["report upload (MiB)/s"],
            note="delivery moves no bytes: the parts stay under their stream ids (storage/followups.py)"),
        Row(f"storage: SQLite lock, {mib} MiB follow-up delivered", "s", held,
            f"same, {mib} MiB report completed", sqlite["report lock wait (s)"], higher_is_better=False,
            goal="< 1 s for 500 MiB", met=held * 500 / mib < 1,
            note=f"another writer's longest wait; x{500 / mib:.1f} for 500 MiB: {held * 500 / mib:.1f} s")]


def layout(quick: bool) -> list[Row]:
    """The hourly sweep's rebuild of a SQLite file in random order vs copying the file with fsync."""
    got, rss = script("layout", "--mib", str(64 if quick else 1024), "--runs", str(1 if quick else 3))
    return [Row(f"sweep: rebuild a {got['mib']} MiB SQLite file", "s", got["rebuild_s"], "cp + sync of the file",
                got["copy_s"], higher_is_better=False, goal="< 30 s (writers' busy timeout)", met=got["rebuild_s"] < 30,
                memory_mib={"bench process": rss}, note="writers wait meanwhile (docs/web.md)")]


def checks(quick: bool) -> list[Row]:
    """An API report's median latency under N connections posting wrong codenames to /check vs with none."""
    got, _ = script("checks", "--attackers", "48", "--reports", str(5 if quick else 15))
    under = got["48"]
    return [Row("API report under 48 wrong-codename posters", "s", under["median_s"], "same report, quiet",
                got["quiet_s"], higher_is_better=False, goal="<= 100x quiet",
                met=under["median_s"] <= 100 * got["quiet_s"],
                note=f"max {under['max_s']:.2f} s; answers {under['answers']}")]


def weight(quick: bool) -> list[Row]:
    """The form page under Chromium's network emulation of Tor on a phone: seconds and bytes until it can seal."""
    got, _ = script("weight", "--runs", str(1 if quick else 3))
    js, gz, nojs = got["js"], got["js_gzip"], got["nojs"]
    return [Row("form page ready to seal, Tor on a phone", "s", js["seconds"], "same page, no JS, loaded",
                nojs["seconds"], higher_is_better=False, goal="<= 8 s", met=js["seconds"] <= 8,
                note=f"first paint {js['paint_s']:.2f} s; gzip only: {gz['seconds']:.2f} s"),
            Row("form page bytes until it can seal", "KB", js["bytes"] / 1000, "same page, no JS", nojs["bytes"] / 1000,
                higher_is_better=False, goal="<= 400 KB (no JS < 30 KiB)",
                met=max(js["bytes"], gz["bytes"]) <= 400_000 and nojs["bytes"] < 30 * 1024,
                note=f"gzip only: {gz['bytes'] / 1000:.1f} KB")]


def kit(quick: bool) -> list[Row]:
    """The offline kit: its weight, how soon it can seal from file:// on a slowed CPU, and sealing a video in it
    against the online form page."""
    got, _ = script("kit", "--mib", str(8 if quick else 50), "--runs", str(1 if quick else 3))
    mib = got["mib"]
    return [Row("offline kit file", "KB", got["bytes"] / 1000, "libsodium.js in it", got["libsodium_bytes"] / 1000,
                higher_is_better=False, goal="<= 600 KB", met=got["bytes"] <= 600_000),
            Row("kit ready to seal from file://, phone (CPU 4x slower)", "s", got["ready_phone"],
                "same kit, CPU not slowed", got["ready"], higher_is_better=False, goal="< 3 s",
                met=got["ready_phone"] < 3, note="every request aborted; 360 px"),
            Row(f"sealing a {mib} MiB video in the kit", "MiB/s", mib / got["kit"], "the online form page",
                mib / got["page"], goal=">= 0.5x the page", met=got["kit"] <= 2 * got["page"],
                note="kit: until its file is saved; page: sealed, proof of work, uploaded, until the receipt")]


def machine() -> dict[str, object]:
    """What the table was measured on."""
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {"nproc": os.cpu_count(), "cpu": cpu.group(1) if cpu else platform.processor(),
            "ram_gib": round(int(mem.group(1)) / (1 << 20), 1) if mem else None,
            "python": platform.python_version(), "date": dt.date.today().isoformat(),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def table(rows: list[Row], quick: bool = False) -> str:
    """The rows as one plain-text table (in quick mode without the 'met' column's verdicts, and saying so)."""
    lines = [QUICK] if quick else []
    lines += [f"{'row':46} {'intake':>9} {'baseline':>9} {'unit':9} {'ratio':>6}  {'baseline is':28} "
             f"{'goal':40} {'met':4} peak RSS MiB"]
    for r in rows:
        memory = ", ".join(f"{k} {v:.0f}" for k, v in r.memory_mib.items())
        met = "" if r.met is None or quick else ("yes" if r.met else "NO")
        lines.append(f"{r.name:46} {r.intake:9.1f} {r.baseline:9.1f} {r.unit:9} {r.ratio:6.2f}  "
                     f"{r.baseline_name:28} {r.goal:40} {met:4} {memory}")
    return "\n".join(lines)


def main() -> None:
    """Measure the rows asked for, print the table, write bench/out/latest.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and one run: checks that every row runs, not the goals")
    parser.add_argument("--only", action="append", choices=ROWS, help="measure only this row (repeatable)")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 3, 1 with --quick)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "latest.json")
    opts = parser.parse_args()
    runs = opts.runs or (1 if opts.quick else 3)
    mib = 16 if opts.quick else 256
    started, before = time.monotonic(), machine()
    rows: list[Row] = []
    for name in opts.only or ROWS:
        print(f"measuring {name} ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
            if name == "nojs":
                from bench.nojs import run as nojs
                rows += nojs(Path(tmp), mib, runs)
            elif name == "api":
                from bench.sealed_api import run as api
                rows += api(Path(tmp), mib, 240 if opts.quick else 3200, runs)
            elif name == "fsyncs":
                rows += fsyncs(Path(tmp), opts.quick)
            else:
                rows += globals()[name](opts.quick)
    print(table(rows, opts.quick))
    print(f"load average (1, 5, 15 min) before: {before['load_average']}, after: {machine()['load_average']} on "
          f"{before['nproc']} cores; ratios move with the load, since each side runs at a different moment")
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    if opts.quick:
        print(QUICK, file=sys.stderr)
    opts.out.write_text(json.dumps({"machine": before, "load_after": machine()["load_average"], "quick": opts.quick,
                                    "runs": runs, "seconds": round(time.monotonic() - started),
                                    "rows": [r.as_json() for r in rows]},
                                   indent=1) + "\n")
    print(f"written to {opts.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
