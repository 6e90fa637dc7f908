"""A browser-sealed report's latency while wrong codenames are typed on the no-JS `/check`, vs the same quiet.

Each wrong codename costs the server one Argon2id of 64 MiB. N attackers post `POST /check`, each on
its own connection with a valid form token, at most `--rate` times a second each (a flood of requests
of any kind belongs in front of the app, docs/web.md "What it cannot stop"; this measures what each
one costs); the no-JS budget is set so high that it never refuses. Meanwhile one reporter sends small
reports through the API (`GET /api/v1/challenge`, `POST /api/v1/reports`), sealed before the clock
starts. The figures are the median of the reporter's latencies under attack and the median of the
same reporter's with no attacker (docs/web.md, "Codenames"). Prints JSON with --json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median  # noqa: E402
from bench.sealed_api import FIELDS, Client, begin  # noqa: E402
from bench.site import Server, make_site  # noqa: E402
from intake.crypto.report import seal_report  # noqa: E402

WRONG = "11111 11111 11111 11111 11111"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def attacker(port: int, rate: float, stop: threading.Event, answers: Counter) -> None:
    """Post a wrong codename to /check, at most `rate` times a second, until told to stop; count the answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", "/check")
    token = TOKEN.search(conn.getresponse().read().decode()).group(1)
    body = f"csrf_token={token}&codename={WRONG.replace(' ', '+')}".encode()
    while not stop.wait(1 / rate):
        try:
            conn.request("POST", "/check", body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            answers[response.status] += 1
            if response.getheader("Connection") == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            answers["dropped"] += 1
            conn.close()


def latencies(port: int, site, count: int) -> list[float]:  # noqa: ANN001
    """Send `count` small reports through the API, each from a page just loaded; the seconds each took."""
    spent = []
    for _ in range(count):
        report = seal_report([i.recipient for i in site.identities], FIELDS)
        client = Client(port)
        began = time.monotonic()
        begin(client, report.header, report.body, [])
        spent.append(time.monotonic() - began)
        client.conn.close()
    return spent


def run(attackers: list[int], reports: int, rate: float) -> dict[str, object]:
    """The reporter's latencies quiet and under each number of attackers."""
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        site = make_site(Path(tmp))
        server = Server(site)
        try:
            latencies(server.port, site, 3)  # warm up
            result: dict[str, object] = {"quiet_s": median(latencies(server.port, site, reports))}
            for n in attackers:
                stop, answers = threading.Event(), Counter()
                threads = [threading.Thread(target=attacker, args=(server.port, rate, stop, answers)) for _ in range(n)]
                for t in threads:
                    t.start()
                time.sleep(3)
                under = latencies(server.port, site, reports)
                stop.set()
                for t in threads:
                    t.join(timeout=120)
                result[str(n)] = {"median_s": median(under), "max_s": max(under),
                                  "answers": {str(k): v for k, v in sorted(answers.items(), key=str)}}
                time.sleep(3)
        finally:
            server.stop()
    return result


def main() -> None:
    """Measure, print a summary or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, action="append")
    parser.add_argument("--reports", type=int, default=15)
    parser.add_argument("--rate", type=float, default=4.0, help="posts a second from each attacker, at most")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    got = run(opts.attackers or [16, 48], opts.reports, opts.rate)
    print(json.dumps(got) if opts.json else json.dumps(got, indent=1))


if __name__ == "__main__":
    main()
