"""Issue 19, finding 5, against a live `intake serve`: one codename's follow-up carriers that declare large files
and never send them cannot hold the pending-bytes cap, keep themselves alive by sending one part again, or drain
the browser path's daily budget once they expire; nor can reports that declare large files and never send them
hold the pending-bytes cap (docs/web.md, "Floods")."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
import requests
from sqlalchemy import select, update

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.crypto.stream import PART
from intake.storage.budgets import IDLE_SWEEPS
from intake.storage.lifecycle import expire_uploads
from intake.storage.schema import cases, stored_bytes
from intake.storage.threads import salt
from tests.support.web import Server, b64, make_site, solve

MIB = 1 << 20
pytestmark = pytest.mark.slow


def framed(plain: int) -> int:
    """The sealed length of a stream of `plain` bytes (format.md §7)."""
    return 24 + plain + 17 * (plain // 65536 + 1)


SIX = framed(6 * MIB)  # each carrier declares 6 MiB; one follow-up may declare 8 MiB (the report limit)


class Api:
    """One client of the API, with the page's form token."""

    def __init__(self, url: str) -> None:
        self.url, self.http = url, requests.Session()
        page = self.http.get(url + "/", timeout=60).text
        self.http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def work(self) -> dict[str, str]:
        """A solved proof of work."""
        got = self.http.get(self.url + "/api/v1/challenge", timeout=60).json()
        return {"pow_challenge": got["challenge"], "pow_nonce": solve(got["challenge"], got["bits"])}

    def report(self, site, lengths=(), lookup=None, reply=None) -> requests.Response:  # noqa: ANN001
        """POST /api/v1/reports: a sealed report declaring stream `lengths`."""
        sealed = seal_report([i.recipient for i in site.identities], {"incident_type": "drone", "description": "x"},
                             reply_key=str(reply) if reply else None)
        data = {"keyring_serial": 1, "header": b64(sealed.header), "body": b64(sealed.body), "lengths": list(lengths),
                "website": "", **self.work()}
        if lookup is not None:
            data["lookup"] = b64(lookup)
        return self.http.post(self.url + "/api/v1/reports", json=data, timeout=60)

    def follow_up(self, site, keys, lengths) -> requests.Response:  # noqa: ANN001
        """POST /api/v1/thread/messages: a follow-up declaring stream `lengths` it never means to send."""
        sealed = seal_message([i.recipient for i in site.identities], keys.identity.recipient, "reporter", "files")
        data = {"token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
                "lengths": list(lengths), **self.work()}
        return self.http.post(self.url + "/api/v1/thread/messages", json=data, timeout=60)

    def put(self, upload: str, part: int, data: bytes) -> int:
        """PUT one part; its status."""
        return self.http.put(f"{self.url}/api/v1/uploads/{upload}/0/{part}", data=data, timeout=60).status_code


@pytest.fixture
def live(tmp_path, db_url):
    """A live server taking reports of 8 MiB, 20 MiB uploading at once and 16 MiB a day on each path."""
    site = make_site(tmp_path, db_url, max_report_bytes=8 * MIB)
    site.env.update(INTAKE_PENDING_BYTES=str(20 * MIB), INTAKE_DAILY_BYTES=str(16 * MIB))
    server = Server(site.env, tmp_path).start()
    api = Api(server.url)
    keys = derive_keys(make_codename(), salt(site.engine))
    assert api.report(site, lookup=keys.lookup, reply=keys.identity.recipient).status_code == 201
    yield site, server, api, keys
    server.stop()
    site.engine.dispose()


def test_one_codename_cannot_hold_the_pending_bytes(live):
    """Carriers of one case are capped at one follow-up's size (and two at once), so an honest report with a
    file is still taken; before, three carriers of 6 MiB held 18 of the 20 MiB and the report got a 503."""
    site, _server, api, keys = live
    assert api.follow_up(site, keys, [SIX]).status_code == 201
    for _ in range(2):
        held = api.follow_up(site, keys, [SIX])
        assert held.status_code == 429, held.text
        assert "still uploading" in held.json()["error"]
    assert api.follow_up(site, keys, [framed(MIB)]).status_code == 201  # within the case's share: a second carrier
    assert api.follow_up(site, keys, [framed(1000)]).status_code == 429  # but never a third at once
    honest = Api(_server.url).report(site, lengths=[SIX])
    assert honest.status_code == 201, honest.text


def test_a_part_sent_again_does_not_keep_a_carrier_alive(live):
    """Re-sending the one part stored never resets the idle count: the carrier expires after IDLE_SWEEPS sweeps."""
    site, _server, api, keys = live
    upload = api.follow_up(site, keys, [SIX]).json()["upload"]
    part = os.urandom(PART)
    assert api.put(upload, 0, part) == 204
    expired = 0
    for _ in range(IDLE_SWEEPS):
        assert api.put(upload, 0, part) == 204  # the same part again, each hour
        expired += expire_uploads(site.engine)
    assert expired == 1
    assert api.http.get(f"{api.url}/api/v1/uploads/{upload}", timeout=60).status_code == 404


def test_expired_carriers_give_back_the_bytes_that_never_came(live):
    """Declaring 6 MiB, sending 1 MiB and letting it expire, again and again, does not spend the day's 16 MiB:
    the 5 MiB that never came are never counted (before issue 19, the third declaration got a 503 for the day;
    then they were refunded at expiry)."""
    site, _server, api, keys = live
    for _ in range(4):
        answer = api.follow_up(site, keys, [SIX])
        assert answer.status_code == 201, answer.text
        assert api.put(answer.json()["upload"], 0, os.urandom(PART)) == 204
        assert expire_uploads(site.engine, every=True) == 1
    with site.engine.connect() as conn:
        spent = conn.execute(select(stored_bytes.c.bytes).where(stored_bytes.c.path == "browser")).scalar_one()
    assert 4 * PART <= spent < 4 * PART + 64 * 1024, "what arrived (and the sealed texts) stays counted"


def test_a_new_part_every_few_hours_does_not_keep_a_carrier_alive_for_weeks(live):
    """Sending one new part before each sweep kept a carrier's declared bytes held for as many sweeps as it had
    parts (500 MiB: 500 parts, 3 hours each, about two months per codename). An upload begun before yesterday
    (its `received` day, set back here as two days passing would) expires at the next sweep however it
    progresses, and what never came is given back."""
    site, _server, api, keys = live
    upload = api.follow_up(site, keys, [SIX]).json()["upload"]
    for part in range(IDLE_SWEEPS + 1):
        assert api.put(upload, part, os.urandom(PART)) == 204  # a new part each hour: progress, so it stays
        assert expire_uploads(site.engine) == 0
    with site.engine.begin() as conn:
        began = conn.execute(select(cases.c.received).where(cases.c.upload_token == upload)).scalar_one()
        conn.execute(update(cases).where(cases.c.upload_token == upload).values(received=began - dt.timedelta(days=2)))
    assert api.put(upload, IDLE_SWEEPS + 1, os.urandom(PART)) == 204
    assert expire_uploads(site.engine) == 1, "an upload begun two days ago is over, new parts or not"
    assert api.http.get(f"{api.url}/api/v1/uploads/{upload}", timeout=60).status_code == 404


def test_declarations_that_never_send_do_not_hold_the_cap(tmp_path, db_url) -> None:
    """At the default pending-bytes cap, 17 reports declaring 490 MiB each and sending nothing (8.3 GiB of the 8 GiB
    cap, 17 proofs of work) shut out every upload with files until the idle sweep removed them, two to three hours
    later; now each holds 8 MiB (storage/budgets.AHEAD) and an honest report with a file gets in. Nor do they hold
    the day's 4 GiB here: the browser path counts what arrives (before, the 9th declaration spent the day)."""
    site = make_site(tmp_path, db_url)
    site.env.update(INTAKE_DAILY_BYTES=str(4 << 30))
    server = Server(site.env, tmp_path).start()
    try:
        api = Api(server.url)
        for n in range(17):
            held = api.report(site, lengths=[framed(490 * MIB)])
            assert held.status_code == 201, f"declaration {n}: {held.text}"
        honest = Api(server.url)
        length = framed(MIB)
        begun = honest.report(site, lengths=[length])
        assert begun.status_code == 201, begun.text
        upload, stream = begun.json()["upload"], os.urandom(length)
        for number in range(2):
            assert honest.put(upload, number, stream[number * PART:(number + 1) * PART]) == 204
        done = honest.http.post(f"{server.url}/api/v1/uploads/{upload}/complete", timeout=60)
        assert done.status_code == 200, done.text
        with site.engine.connect() as conn:
            spent = conn.execute(select(stored_bytes.c.bytes).where(stored_bytes.c.path == "browser")).scalar_one()
        assert length <= spent < length + 18 * 64 * 1024, "the day counts what arrived and the sealed texts"
    finally:
        server.stop()
        site.engine.dispose()
