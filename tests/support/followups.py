"""Helpers for the follow-up tests: a case with a codename, a reporter's follow-up sealed and posted to the API."""

from __future__ import annotations

from intake.crypto.codename import derive_keys, lookup_of, make_codename
from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.db import writing
from intake.storage.lifecycle import insert_case
from intake.storage.threads import case_by_lookup, salt
from tests.support.keytools import Instance
from tests.support.storage import store_case
from tests.support.web import b64, csrf_token, report_with_lookup, solve

FILES = [("street.jpg", "image/jpeg", b"\xff\xd8" + bytes(range(256)) * 6000 + b"\xff\xd9"),
         ("notes.txt", "text/plain", "ផ្លូវ ១២៣ camera on a pole".encode())]


def replyable_case(engine, identities) -> tuple[int, Identity]:
    """A browser-sealed report stored with a fresh reply key and no files: its case id and the reply identity."""
    reply = Identity.generate()
    report = seal_report([i.recipient for i in identities], {"description": "x"}, reply_key=str(reply.recipient))
    ref = store_case(engine, report.header, report.body, "browser", [i.recipient.key_id for i in identities], [])
    return get_case(engine, ref).id, reply


def api_case(client, site):
    """A browser-sealed report with a codename; return its keys and case id, with the API armed."""
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client)
    keys = derive_keys(make_codename(), salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    return keys, case_by_lookup(site.engine, keys.lookup)[0]


def sealed_follow_up(site, keys, text="which street: see the photo", files=FILES):
    """A reporter's follow-up with `files`, sealed to the site's reviewers and the case's reply key."""
    return seal_message([i.recipient for i in site.identities], keys.identity.recipient, "reporter", text,
                        [(n, t, [d]) for n, t, d in files])


def post_follow_up(client, keys, sealed, **changes):
    """POST the sealed follow-up to /api/v1/thread/messages with a solved proof of work; `changes` replace fields."""
    work = client.get("/api/v1/challenge").get_json()
    data = {"token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
            "lengths": [len(s) for s in sealed.streams], "pow_challenge": work["challenge"],
            "pow_nonce": solve(work["challenge"], work["bits"]), **changes}
    return client.post("/api/v1/thread/messages", json=data)


def case_with_codename(inst: Instance) -> str:
    """A complete case sealed to the keyring, with a codename's lookup: the thread the follow-up is for."""
    codename = make_codename()
    keys = derive_keys(codename, salt(inst.engine))
    keyring = inst.keyring()
    report = seal_report(keyring.recipients(), {"incident_type": "drone", "description": "x"},
                         reply_key=str(keys.identity.recipient))
    with writing(inst.engine) as conn:
        insert_case(conn, report.header, report.body, "browser", [r.key_id for r in keyring.recipients()], [],
                    complete=True, lookup=lookup_of(keys.token))
    return codename
