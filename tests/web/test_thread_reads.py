"""Reading a thread is bounded and priced (issue 19 finding 3; docs/web.md "Reading a thread").

The attack: one codename fills its own thread with follow-ups of 1 MiB sealed bodies, then many clients
read it at once, through the API and the no-JS /check, against a live `intake serve`. A thread now
holds at most MAX_THREAD_BYTES (the next follow-up is a 413 that says what to do), each read loads
one page, and the server's memory stays under deploy/intake.service's MemoryMax while every answer is
a 200 or a clean 429/503.
"""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy

from intake.crypto.codename import derive_keys, lookup_of, make_codename
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.storage.threads import MAX_THREAD_BYTES, PAGE_BYTES, salt
from tests.support import ROOT
from tests.support.threads import SEALED, check_nojs, form_token
from tests.support.web import Server, b64, make_site, solve

BIG_BODY = (1 << 20) + 40  # the largest sealed body (format.md §5)
MIB = 1 << 20


def memory_max() -> int:
    """deploy/intake.service's MemoryMax, in bytes."""
    value = re.search(r"^MemoryMax=(\d+)([KMG]?)$", (ROOT / "deploy" / "intake.service").read_text(), re.M)
    return int(value.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[value.group(2)]


def group_rss(pgid: int) -> int:
    """The resident bytes of every process of a process group (gunicorn's master and workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(re.search(r"VmRSS:\s+(\d+)", (entry / "status").read_text()).group(1)) << 10
        except (OSError, AttributeError, IndexError):
            continue
    return total


class Peak:
    """Samples a process group's resident memory every 10 ms in a thread; `peak` is the highest seen."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.peak, self._stop = pgid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_rss(self.pgid))
            self._stop.wait(0.01)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Reporter:
    """One codename's case on a live server, driven through the API as a page (or a script) would."""

    def __init__(self, server: Server, site) -> None:
        self.url, self.http = server.url, requests.Session()
        page = self.http.get(self.url + "/", timeout=30).text
        self.http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.codename = make_codename()
        self.keys = derive_keys(self.codename, salt(site.engine))
        self.recipients = [i.recipient for i in site.identities]
        report = seal_report(self.recipients, {"incident_type": "drone", "description": "x"},
                             reply_key=str(self.keys.identity.recipient))
        answer = self.http.post(self.url + "/api/v1/reports", json={
            "keyring_serial": 1, "header": b64(report.header), "body": b64(report.body), "lengths": [],
            "lookup": b64(lookup_of(self.keys.token)), **self.work()}, timeout=60)
        assert answer.status_code == 201, answer.text

    def work(self) -> dict[str, str]:
        challenge = self.http.get(self.url + "/api/v1/challenge", timeout=30).json()
        return {"pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}

    def follow_up(self, body: bytes | None = None) -> requests.Response:
        """A follow-up whose header is sealed as the page seals it; `body` any sealed-looking bytes of a valid size."""
        sealed = seal_message(self.recipients, self.keys.identity.recipient, "reporter", "more")
        return self.http.post(self.url + "/api/v1/thread/messages", json={
            "token": b64(self.keys.token), "header": b64(sealed.header), "body": b64(body or sealed.body),
            **self.work()}, timeout=60)

    def read(self) -> tuple[list[int], list[dict]]:
        """Read the whole thread a page at a time: every status seen, and the messages."""
        statuses, thread = [], []
        while True:
            after = thread[-1]["seq"] if thread else 0
            answer = self.http.post(self.url + "/api/v1/thread", json={"token": b64(self.keys.token), "after": after},
                                    timeout=120)
            statuses.append(answer.status_code)
            if answer.status_code != 200:
                return statuses, thread
            page = answer.json()
            assert sum(len(m["body"]) * 3 // 4 for m in page["thread"]) <= PAGE_BYTES + BIG_BODY
            thread += page["thread"]
            if not page["more"]:
                return statuses, thread


@pytest.fixture
def server(tmp_path: Path):
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    live = Server({**site.env, "INTAKE_WORKERS": "2"}, tmp_path).start()
    yield live, site
    live.stop()
    assert "Traceback" not in live.log_text()


@pytest.mark.slow
def test_a_full_thread_is_refused_and_its_reads_stay_under_the_memory_limit(server) -> None:
    live, site = server
    reporter = Reporter(live, site)
    stored = 0
    while True:
        answer = reporter.follow_up(os.urandom(BIG_BODY))
        if answer.status_code != 201:
            break
        stored += 1
        assert stored * BIG_BODY <= MAX_THREAD_BYTES, "the thread grows past its cap"
    assert answer.status_code == 413, answer.text
    assert "This conversation is full" in answer.json()["error"]
    assert "send a new report" in answer.json()["error"]
    assert stored == MAX_THREAD_BYTES // (BIG_BODY + 400)
    statuses, thread = reporter.read()
    assert statuses == [200] * len(statuses)
    assert len(statuses) > 1
    assert [m["seq"] for m in thread] == list(range(1, stored + 1))

    nojs = requests.Session()
    sealed = SEALED.search(check_nojs(nojs, live.url, codename=reporter.codename).text).group(1)

    def nojs_read() -> tuple[list[int], None]:
        token = form_token(nojs.get(live.url + "/check", timeout=60).text)
        page = nojs.post(live.url + "/check", data={"csrf_token": token, "sealed": sealed}, timeout=120)
        return [page.status_code], None

    before = group_rss(live.process.pid)
    with Peak(live.process.pid) as peak, ThreadPoolExecutor(24) as pool:
        jobs = [pool.submit(reporter.read) for _ in range(48)] + [pool.submit(nojs_read) for _ in range(16)]
        seen = [status for job in jobs for status in job.result()[0]]
    assert set(seen) <= {200, 429, 503}, sorted(set(seen))
    assert seen.count(200) > 16
    assert 429 in seen, "the day's read allowance of one case was never reached"
    assert peak.peak < memory_max(), f"peak {peak.peak / MIB:.0f} MiB over MemoryMax"
    assert peak.peak - before < 400 * MIB, f"reads raised the server by {(peak.peak - before) / MIB:.0f} MiB"


def test_nojs_check_shows_the_newest_page_and_older_ones_on_request(server) -> None:
    live, site = server
    reporter = Reporter(live, site)
    wide = "\U0001F4F7" * 19_000  # 76,000 bytes of text: a 128 KiB sealed body each
    for n in range(20):
        sealed = seal_message(reporter.recipients, reporter.keys.identity.recipient, "reporter", f"{n:02d} {wide}")
        answer = reporter.http.post(live.url + "/api/v1/thread/messages", json={
            "token": b64(reporter.keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
            **reporter.work()}, timeout=60)
        assert answer.status_code == 201, answer.text
    http = requests.Session()
    page = check_nojs(http, live.url, codename=reporter.codename).text
    newest = re.findall(r'<p class="text">(\d\d) ', page)
    assert newest[-1] == "19"
    assert len(newest) < 20
    assert "Show older messages" in page
    before = re.search(r'name="before" value="(\d+)"', page).group(1)
    assert int(before) == int(newest[0]) + 1
    older = check_nojs(http, live.url, sealed=SEALED.search(page).group(1), before=before).text
    shown = re.findall(r'<p class="text">(\d\d) ', older)
    assert shown
    assert int(shown[-1]) == int(newest[0]) - 1
    assert shown == sorted(shown)
    bad = check_nojs(http, live.url, sealed=SEALED.search(page).group(1), before="\u0663")
    assert bad.status_code == 400


@pytest.mark.slow
def test_nojs_views_of_a_large_report_are_priced(tmp_path: Path) -> None:
    """Red team round 3: each no-JS /check view opens the report (up to ~1 MiB sealed) again; with an empty thread
    nothing was charged, so one codename could make a worker read 1 MiB per view all day without a 429."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    live = Server({**site.env, "INTAKE_WORKERS": "1"}, tmp_path).start()
    try:
        http = requests.Session()
        page = http.get(live.url + "/", timeout=30).text
        http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        codename = make_codename()
        keys = derive_keys(codename, salt(site.engine))
        report = seal_report([i.recipient for i in site.identities], {"incident_type": "drone", "description": "x"},
                             reply_key=str(keys.identity.recipient))
        challenge = http.get(live.url + "/api/v1/challenge", timeout=30).json()
        answer = http.post(live.url + "/api/v1/reports", json={
            "keyring_serial": 1, "header": b64(report.header), "body": b64(os.urandom(BIG_BODY)), "lengths": [],
            "lookup": b64(lookup_of(keys.token)), "pow_challenge": challenge["challenge"],
            "pow_nonce": solve(challenge["challenge"], challenge["bits"])}, timeout=60)
        assert answer.status_code == 201, answer.text
        nojs = requests.Session()
        shown = check_nojs(nojs, live.url, codename=codename)
        assert shown.status_code == 200
        sealed, token = SEALED.search(shown.text).group(1), form_token(shown.text)
        views = (16 * MAX_THREAD_BYTES) // BIG_BODY + 8
        statuses = []
        for _ in range(views):
            page = nojs.post(live.url + "/check", data={"csrf_token": token, "sealed": sealed}, timeout=120)
            statuses.append(page.status_code)
            if page.status_code != 200:
                break
            token = form_token(page.text)
        assert statuses[-1] == 429, f"{len(statuses)} views of a 1 MiB report, none refused"
        assert set(statuses[:-1]) == {200}
        token = form_token(nojs.get(live.url + "/check", timeout=60).text)
        refused = nojs.post(live.url + "/check", data={"csrf_token": token, "sealed": sealed, "message": "more"},
                            timeout=120)
        assert refused.status_code == 429
        with site.engine.connect() as conn:  # a follow-up answered with a refusal was not stored
            assert conn.execute(sqlalchemy.text("SELECT count(*) FROM messages")).scalar_one() == 0
    finally:
        live.stop()
    assert "Traceback" not in live.log_text()
