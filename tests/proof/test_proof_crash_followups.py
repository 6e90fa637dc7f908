"""Crash safety of follow-ups with files: `intake serve` killed with SIGKILL while reporters send them both ways.

After every kill: the database passes its integrity check, every follow-up the server said it took is in its
thread once, with every file whole, and no message has a file missing or a part left over. At the end
`intake expire-uploads --all` leaves no carrier behind.
"""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import open_message, seal_message
from intake.crypto.report import seal_report
from intake.crypto.stream import PART
from intake.storage.cases import iter_parts
from intake.storage.db import integrity_ok
from intake.storage.schema import attachments, cases, message_attachments, message_parts
from intake.storage.threads import case_by_lookup, salt, thread
from tests.support import run_cli
from tests.support.proof import Reporter, kill_during, soak_size
from tests.support.threads import SEALED, check_nojs, form_token
from tests.support.web import Server, b64, make_site, solve

pytestmark = pytest.mark.soak  # the kill is placed by the clients' progress (kill_during), so load does not move it
ROUNDS, PER_ROUND = soak_size(8, least=4), 4  # 8 at CI's size; 4 at least, so that some follow-up gets through


def files_of(uid: str) -> list[tuple[str, str, bytes]]:
    """The files of one follow-up, derived from its id so that they can be checked."""
    rng = random.Random(uid)
    return [(f"{uid}-{i}.bin", "application/octet-stream", rng.randbytes(rng.randrange(1, 3 << 20)))
            for i in range(rng.randrange(1, 3))]


def send_api(reporter: Reporter, keys, uid: str) -> bool:
    """A follow-up sealed here, its files sent through the upload API; True when the server took it."""
    sealed = seal_message(reporter.recipients, keys.identity.recipient, "reporter", uid,
                          [(n, t, [d]) for n, t, d in files_of(uid)])
    work = reporter.http.get(reporter.url + "/api/v1/challenge", timeout=30).json()
    begun = reporter.http.post(reporter.url + "/api/v1/thread/messages", headers={"X-CSRFToken": reporter.token},
                               timeout=30, json={"token": b64(keys.token), "header": b64(sealed.header),
                                                 "body": b64(sealed.body), "lengths": [len(s) for s in sealed.streams],
                                                 "pow_challenge": work["challenge"],
                                                 "pow_nonce": solve(work["challenge"], work["bits"])})
    upload = begun.json()["upload"]
    for idx, stream in enumerate(sealed.streams):
        for number in range(-(-len(stream) // PART)):
            reporter.put(upload, idx, number, stream[number * PART:(number + 1) * PART]).raise_for_status()
    return reporter.complete(upload).json() == {"sent": True}


def send_nojs(url: str, sealed_keys: str, uid: str) -> bool:
    """A follow-up posted as a browser without JavaScript; True when the thread page came back."""
    with requests.Session() as http:
        token = form_token(http.get(url + "/check", timeout=30).text)
        page = http.post(url + "/check", timeout=30, data={"csrf_token": token, "sealed": sealed_keys, "message": uid},
                         files=[("attachments", (n, d, t)) for n, t, d in files_of(uid)])
    return page.status_code == 200 and "sealed and sent" in page.text


def one(url: str, keys, sealed_keys: str, uid: str, taken: list[str], lock: threading.Lock) -> None:
    """Send one follow-up; record it only when the server said it took it."""
    try:
        done = send_nojs(url, sealed_keys, uid) if uid.startswith("nojs") else send_api(Reporter(url, 30), keys, uid)
    except (requests.RequestException, KeyError, ValueError, AttributeError):
        return
    if done:
        with lock:
            taken.append(uid)


def check(site, case_id: int, keys, taken: list[str]) -> None:
    """Integrity; every message's files whole; every follow-up taken in the thread once with its own files."""
    assert integrity_ok(site.engine)
    with site.engine.connect() as conn:
        if site.engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        named = select(message_attachments.c.stream).union(select(attachments.c.stream)
                                                           .where(attachments.c.stream.is_not(None)))
        loose = conn.execute(select(func.count()).select_from(message_parts)
                             .where(message_parts.c.stream.not_in(named))).scalar_one()
    assert loose == 0
    found = {}
    for message in thread(site.engine, case_id):
        opened = open_message(message.header, message.body, len(message.lengths), site.identities[:1],
                              keys.identity.recipient, "reporter")
        files = [(entry.name, b"".join(opened.attachment(i, iter_parts(site.engine, case_id, i, seq=message.seq),
                                                         message.lengths[i])))
                 for i, entry in enumerate(opened.body.attachments)]
        assert opened.body.text not in found, f"{opened.body.text} twice"
        found[opened.body.text] = files
    for uid in taken:
        assert found[uid] == [(n, d) for n, _, d in files_of(uid)], uid


def test_sigkill_during_follow_ups(db_url: str, tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    site = make_site(tmp_path, db_url)
    server = Server({**site.env, "INTAKE_POW_BITS": "0"}, tmp_path).start()
    codename = make_codename()
    keys = derive_keys(codename, salt(site.engine))
    reporter = Reporter(server.url)
    report = seal_report(reporter.recipients, {"incident_type": "cctv"}, reply_key=str(keys.identity.recipient))
    assert reporter.begin(report, lookup=b64(keys.lookup)).status_code == 201
    case_id = case_by_lookup(site.engine, keys.lookup)[0]
    taken: list[str] = []
    lock = threading.Lock()
    for round_ in range(ROUNDS):
        if round_:
            server.start()
        with requests.Session() as http:
            sealed_keys = SEALED.search(check_nojs(http, server.url, codename=codename).text).group(1)
        uids = [f"{rng.choice(('nojs', 'api'))}-{round_}-{i}" for i in range(PER_ROUND)]
        threads = [threading.Thread(target=one, args=(server.url, keys, sealed_keys, uid, taken, lock)) for uid in uids]
        kill_during(server, threads, rng, seed)
        check(site, case_id, keys, taken)
    result = run_cli("intake", "expire-uploads", "--all", cwd=tmp_path, env=site.env)
    assert re.search(r"^expired \d+ abandoned uploads?$", result.stderr, re.M)  # "1 abandoned upload" when one
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(False))).scalar() == 0
    check(site, case_id, keys, taken)
    assert taken, f"no follow-up got through in {ROUNDS} rounds (seed {seed})"
    assert "Traceback" not in server.log_text()
    reporter.close()
    site.engine.dispose()
