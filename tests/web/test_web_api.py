"""The sealed-report API (docs/openapi.yaml) on SQLite and PostgreSQL: a good upload, and every refusal."""

from __future__ import annotations

import itertools

import pytest

from intake.crypto.keys import generichash
from intake.crypto.report import seal_report
from intake.crypto.stream import PART, sealed_length
from intake.storage.budgets import IDLE_SWEEPS
from intake.storage.cases import iter_cases
from intake.storage.lifecycle import expire_uploads
from intake.web.work import DOMAIN, leading_zero_bits
from tests.support.web import BIG, FIELDS, b64, begin, csrf_token, open_stored, rows, sealed, solve, upload_all


def test_upload_resume_and_complete(client, site):
    """Begin, send some parts, ask which are missing, send the rest, complete; the case opens."""
    token = csrf_token(client)
    report = sealed(site)
    r = begin(client, token, report)
    assert r.status_code == 201, r.get_json()
    upload = r.get_json()["upload"]
    assert r.get_json()["missing"] == {"0": [0, 1, 2]}
    upload_all(client, token, upload, report, skip={(0, 1)})
    assert rows(site.engine)["cases"] == 1
    early = client.post(f"/api/v1/uploads/{upload}/complete", headers={"X-CSRFToken": token})
    assert early.status_code == 409
    assert "missing" in early.get_json()["error"]
    assert client.get(f"/api/v1/uploads/{upload}").get_json() == {"missing": {"0": [1]}}
    upload_all(client, token, upload, report)
    done = client.post(f"/api/v1/uploads/{upload}/complete", headers={"X-CSRFToken": token})
    ref = done.get_json()["ref"]
    fields, files, sealed_by = open_stored(site.engine, ref, site.identities[1:])
    assert fields == FIELDS
    assert files == [("clip.mp4", BIG)]
    assert sealed_by == "browser"
    assert client.get(f"/api/v1/uploads/{upload}").status_code == 404


def test_report_without_files_stored_at_once(client, site):
    """A report without attachments is complete in the request that sends it: a ref, and no upload to finish."""
    r = begin(client, csrf_token(client), sealed(site, ()))
    assert r.status_code == 201, r.get_json()
    assert set(r.get_json()) == {"ref"}
    fields, files, sealed_by = open_stored(site.engine, r.get_json()["ref"], site.identities[:1])
    assert (fields, files, sealed_by) == (FIELDS, [], "browser")
    assert rows(site.engine) == {"cases": 1, "attachments": 0, "parts": 0, "case_keys": 2}


def _wrong_header(site):
    return b64(seal_report([site.identities[0].recipient], FIELDS).header)


REFUSALS = [
    ("not json", None, 400, "JSON object"),
    ("honeypot", {"website": "http://spam.example"}, 400, "automated"),
    ("no pow", {"pow_nonce": None}, 400, "proof of work is missing"),
    ("bad pow", {"pow_challenge": "AAAA"}, 400, "proof of work is not valid"),
    ("unsolved pow", {"pow_nonce": "unsolved-nonce-"}, 400, "not solved"),
    ("bad magic", {"header": b64(b"XXXX" + bytes(200))}, 400, "sealed header is not valid"),
    ("version 4", {"header": b64(b"INTK\x04\x01" + bytes(128))}, 400, "format version 4"),
    ("version 2 alone", {"header": b64(b"INTK\x02\x01" + bytes(128))}, 400, "at least one reviewer's"),
    ("header cut", {"header": b64(b"INTK\x01\x02" + bytes(100))}, 400, "must be 230 bytes"),
    ("too few keys", {"header": "WRONG"}, 400, "not sealed to every current key"),
    ("keyring changed", {"header": "WRONG", "keyring_serial": 0}, 409, "load /keyring.json again"),
    ("body size", {"body": b64(bytes(1000))}, 400, "sealed body cannot be 1000 bytes"),
    ("stream length", {"lengths": [30]}, 400, "cannot be a sealed stream of 30 bytes"),
    ("too many streams", {"lengths": [41] * 33}, 400, "at most 32"),
    ("too large", {"lengths": [sealed_length(600 << 20)]}, 413, "larger than this service takes"),
]


@pytest.mark.parametrize(("case", "changes", "status", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_begin_refusals(client, site, case, changes, status, message):
    """Every check of the envelope: a clear status and message, and nothing stored."""
    token = csrf_token(client)
    report = sealed(site)
    if changes is None:
        r = client.post("/api/v1/reports", data="nope", headers={"X-CSRFToken": token})
    else:
        if changes.get("header") == "WRONG":
            changes = {**changes, "header": _wrong_header(site)}
        if case == "unsolved pow":
            challenge = client.get("/api/v1/challenge").get_json()["challenge"]
            changes = {"pow_challenge": challenge,
                       "pow_nonce": next(str(n) for n in itertools.count() if not _solves(challenge, str(n), 4))}
        r = begin(client, token, report, **changes)
    assert r.status_code == status
    assert message in r.get_json()["error"]
    assert rows(site.engine) == {"cases": 0, "attachments": 0, "parts": 0, "case_keys": 0}


def _solves(challenge: str, nonce: str, bits: int) -> bool:
    return leading_zero_bits(generichash(32, DOMAIN + challenge.encode() + nonce.encode())) >= bits


def test_pow_spent_once_and_csrf_needed(client, site):
    """A proof of work is accepted once; a post without the CSRF header is refused."""
    token = csrf_token(client)
    report = sealed(site, ())
    challenge = client.get("/api/v1/challenge").get_json()["challenge"]
    nonce = solve(challenge, 4)
    assert begin(client, token, report, pow_challenge=challenge, pow_nonce=nonce).status_code == 201
    again = begin(client, token, report, pow_challenge=challenge, pow_nonce=nonce)
    assert again.status_code == 400
    assert "already used" in again.get_json()["error"]
    no_csrf = client.post("/api/v1/reports", json={})
    assert no_csrf.status_code == 400
    assert "The form expired" in no_csrf.get_json()["error"]  # the page's own wording (issue 20 item 5)
    assert rows(site.engine)["cases"] == 1


def test_bad_parts_refused(client, site):
    """A part of the wrong size, of an unknown stream or upload, is refused and not stored."""
    token = csrf_token(client)
    report = sealed(site)
    upload = begin(client, token, report).get_json()["upload"]
    headers = {"X-CSRFToken": token, "Content-Type": "application/octet-stream"}
    short = client.put(f"/api/v1/uploads/{upload}/0/0", data=b"x" * 1000, headers=headers)
    assert short.status_code == 400
    assert f"must be {PART} bytes" in short.get_json()["error"]
    assert client.put(f"/api/v1/uploads/{upload}/5/0", data=b"x", headers=headers).status_code == 400
    unknown = client.put(f"/api/v1/uploads/{'0' * 64}/0/0", data=b"x", headers=headers)
    assert unknown.status_code == 404
    assert "send the report again" in unknown.get_json()["error"]
    huge = client.put(f"/api/v1/uploads/{upload}/0/0", data=b"x" * (PART + 1), headers=headers)
    assert huge.status_code == 413, huge.get_json()
    assert rows(site.engine)["parts"] == 0


def test_broken_off_upload_leaves_no_case_and_expires(client, site):
    """An upload that stops half way is invisible, and expiry deletes it and its parts."""
    token = csrf_token(client)
    report = sealed(site)
    upload = begin(client, token, report).get_json()["upload"]
    upload_all(client, token, upload, report, skip={(0, 2)})
    assert open_count(site) == 0
    for _ in range(IDLE_SWEEPS - 1):
        assert expire_uploads(site.engine) == 0
    assert expire_uploads(site.engine) == 1, "idle for IDLE_SWEEPS sweeps"
    assert rows(site.engine) == {"cases": 0, "attachments": 0, "parts": 0, "case_keys": 0}


def open_count(site) -> int:
    """How many complete cases a reviewer would see."""
    return len(list(iter_cases(site.engine)))


def test_keyring_follows_changes(client, site):
    """A key added while the server runs is in /keyring.json at once, and old envelopes get a 409."""
    token = csrf_token(client)
    old = sealed(site, ())
    site.add_reviewer()
    keyring = client.get("/keyring.json").get_json()
    assert keyring["serial"] == 2
    assert len(keyring["recipients"]) == 3
    r = begin(client, token, old)
    assert r.status_code == 409
    assert "keys changed" in r.get_json()["error"]
    assert begin(client, token, sealed(site, ()), keyring_serial=2).status_code == 201
