"""Carried files on a live `intake serve`: the same file ten times at once, by each path, is stored once and
every answer is a 200 or a 409 that says what to do (issue 23, "Bad input"); carried rows keep no time finer than
the day and no order of arrival (class 6)."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, text

from intake.crypto.carried import read_carried
from intake.storage.schema import case_carried, cases
from tests.support.carried import carried_file
from tests.support.time_traces import scan_bytes, scan_rows, windows
from tests.support.web import b64, make_site, rows, solve

pytestmark = pytest.mark.slow


def nojs(url: str, data: bytes) -> requests.Response:
    """A plain HTTP client sends the file through the /sealed form."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(url + "/sealed", timeout=60).text).group(1)
    return http.post(url + "/sealed", files=[("csrf_token", (None, token)),
                                             ("sealed", ("r.sealed", data, "application/octet-stream"))], timeout=120)


def api(url: str, data: bytes) -> requests.Response:
    """A client of the API sends the file as the /sealed page does (the parts too, when the upload opens)."""
    http = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"', http.get(url + "/sealed", timeout=60).text).group(1)
    head, streams = read_carried(data)
    challenge = http.get(url + "/api/v1/challenge", timeout=60).json()
    request = {"carried": True, "keyring_serial": head.serial, "header": b64(head.header.raw), "body": b64(head.body),
               "lengths": [len(s) for s in streams], "lookup": b64(head.lookup),
               "signer": b64(head.signer), "signature": b64(head.signature),
               "pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}
    begun = http.post(url + "/api/v1/reports", data=json.dumps(request), headers=headers, timeout=60)
    if begun.status_code != 201 or "upload" not in begun.json():
        return begun
    upload = begun.json()["upload"]
    for i, stream in enumerate(streams):
        for n in range(0, max(len(stream), 1), 1 << 20):
            http.put(f"{url}/api/v1/uploads/{upload}/{i}/{n >> 20}", data=stream[n:n + (1 << 20)], headers=headers,
                     timeout=60)
    return http.post(f"{url}/api/v1/uploads/{upload}/complete", headers=headers, timeout=60)


@pytest.mark.serial
def test_ten_at_once_by_each_path(live):
    """Ten senders of one file at the same moment: one case; each answer a 200 or a 409 saying to wait; no 5xx."""
    site, server = live
    for send in (nojs, api):
        data, _ = carried_file(site, files=[("clip.mp4", "video/mp4", bytes(range(256)) * 12000)])
        before = rows(site.engine)
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(send, [server.url] * 10, [data] * 10))
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {200, 201, 409}, [a.text[-300:] for a in answers]
        assert any(s in (200, 201) for s in statuses)
        for answer in answers:
            if answer.status_code == 409:
                assert "arriving already" in answer.text or "arrived" in answer.text, answer.text[-300:]
        after = rows(site.engine)
        assert after["cases"] == before["cases"] + 1, (send.__name__, statuses)
        with site.engine.connect() as conn:
            assert conn.execute(select(cases.c.id).where(cases.c.complete.is_(False))).first() is None
        again = send(server.url, data)
        assert again.status_code == 200
        assert "had arrived already" in again.text or again.json().get("new") is False
    assert "Traceback" not in server.log_text()


def test_carried_rows_keep_no_time_and_no_order(tmp_path: Path, db_url: str):
    """Carried files sent a second apart leave no time finer than the day in any row or file, and the rows of
    their carried ids are not in the order they arrived (class 6)."""
    from intake.web import create_app

    site = make_site(tmp_path, db_url)
    client = create_app(site.settings).test_client()
    from tests.support.carried import post_sealed

    started, order = time.time(), []
    for n in range(8):
        time.sleep(1)
        answer = post_sealed(client, carried_file(site, files=[("a.bin", "application/octet-stream", b"x" * n)])[0])
        order.append(re.search(r'id="receipt">([^<]+)<', answer.get_data(as_text=True)).group(1))
    spans = windows(started, time.time(), slack=120)
    found = scan_rows(site.engine, spans)
    if db_url.startswith("sqlite"):
        database = Path(db_url.removeprefix("sqlite:///"))
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                found += [f"{path.name}: {f}" for f in scan_bytes(path.read_bytes(), spans)]
    assert found == []
    with site.engine.connect() as conn:
        natural = conn.execute(select(cases.c.ref).join(case_carried, case_carried.c.case_id == cases.c.id)
                               .order_by(text("case_carried.case_id"))).scalars().all()
        assert sorted(natural) == sorted(order)
        assert natural != order
    site.engine.dispose()
