"""Carried files made in Python as the offline kit makes them (docs/format.md §13), and their /sealed post."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import func, select

from intake.crypto.carried import read_carried, write_carried
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.kitsign import CarriedSigner
from intake.crypto.report import seal_report
from intake.keys.keyring import load_keyring
from intake.storage.schema import case_carried, case_lookups, spent_work
from intake.storage.threads import salt
from tests.support.nojs import post
from tests.support.web import b64, csrf_token, rows, solve


def carried_file(site, fields=None, files=(), recipients=None, serial=None, lookup=None) -> tuple[bytes, str]:
    """A carried file sealed to the site's keyring (or `recipients`, named as keyring `serial`), and its codename."""
    keyring = load_keyring(site.settings.keys_dir, site.settings.keyring_signer)
    return carried_for(keyring, site.engine, fields, files, recipients, serial, lookup)


def carried_for(keyring, engine, fields=None, files=(), recipients=None, serial=None,
                lookup=None) -> tuple[bytes, str]:
    """A carried file sealed to `keyring` (or `recipients`, named as keyring `serial`) of the instance of `engine`,
    signed as the kit signs it (its own `lookup` instead of the codename's, for a carrier's forgery)."""
    codename = make_codename()
    keys = derive_keys(codename, salt(engine))
    signer = CarriedSigner.generate()
    report = seal_report(keyring.recipients() if recipients is None else recipients,
                         fields or {"incident_type": "drone", "description": "carried in", "lang": "km"},
                         [(n, t, [d]) for n, t, d in files], reply_key=str(keys.identity.recipient), signer=signer)
    out = io.BytesIO()
    write_carried(out, keyring.serial if serial is None else serial, lookup or keys.lookup, signer, report.header,
                  report.body, [(len(s), [s]) for s in report.streams])
    return out.getvalue(), codename


def sealed_token(client) -> str:
    """A fresh form token of the /sealed page (one post per page)."""
    page = client.get("/sealed").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_sealed(client, data: bytes, token: str | None = None, name: str = "report.sealed", **fields):
    """POST a carried file to /sealed as the page's form does: token first, then the file field `sealed`."""
    form = {"csrf_token": token or sealed_token(client), "website": "", **fields,
            "sealed": [(io.BytesIO(data), name, "application/octet-stream")]}
    return post(client, form, "/sealed")


def counts(site) -> dict[str, int]:
    """Rows of every table a carried report writes, and of the spent proofs of work."""
    with site.engine.connect() as conn:
        extra = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (case_carried, case_lookups, spent_work)}
    return {**rows(site.engine), **extra}


def api_request(client, data: bytes, **changes) -> dict[str, object]:
    """The API begin request the /sealed page makes of a carried file, with a solved challenge."""
    head, streams = read_carried(data)
    challenge = client.get("/api/v1/challenge").get_json()
    request = {"carried": True, "keyring_serial": head.serial, "header": b64(head.header.raw), "body": b64(head.body),
               "lengths": [len(s) for s in streams], "lookup": b64(head.lookup), "website": "",
               "signer": b64(head.signer), "signature": b64(head.signature),
               "pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
    return {**request, **changes}


def api_begin(client, data: bytes, request: dict | None = None, token: str | None = None):
    """POST /api/v1/reports with the page's form token."""
    return client.post("/api/v1/reports", data=json.dumps(request or api_request(client, data)),
                       content_type="application/json", headers={"X-CSRFToken": token or csrf_token(client)})
