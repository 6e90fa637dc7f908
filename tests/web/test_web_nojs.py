"""The no-JavaScript post on SQLite and PostgreSQL: sealed on arrival, and every refusal stores nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest

from intake.crypto.report import open_report
from intake.crypto.stream import PART
from intake.storage.cases import get_case
from intake.web.limits import Bucket
from tests.support.nojs import CANARY, PHOTO, form, post
from tests.support.web import csrf_token, open_stored, rows

EMPTY = {"cases": 0, "attachments": 0, "parts": 0, "case_keys": 0}


def test_post_seals_on_arrival(client, site):
    """A multipart post is sealed as it arrives; the receipt shows the ref; the case opens with every field."""
    r = post(client, form(csrf_token(client)))
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    ref = page.split('id="receipt">', 1)[1].split("<", 1)[0]
    assert len(ref) == 14
    assert "What happens next" in page
    fields, files, sealed_by = open_stored(site.engine, ref, site.identities[:1])
    assert fields["description"] == f"{CANARY} cameras at the junction"
    assert fields["location"] == "Mandalay"
    assert files == [("street.jpg", PHOTO)]
    assert sealed_by == "server"
    assert rows(site.engine)["parts"] == 2


@pytest.mark.parametrize(("given", "expected"), [
    (None, "sealed"), ([""], "sealed"), (["-"], None), (["ab" * 32], "ab" * 32)],
    ids=["no javascript", "sent as chosen", "cleaned, original not hashed", "cleaned"])
def test_original_sha256_of_each_file(client, site, given, expected):
    """format.md §5.1: without JavaScript the original is what was sealed; the page's field says otherwise."""
    r = post(client, form(csrf_token(client), **({"original_sha256": given} if given is not None else {})))
    ref = r.get_data(as_text=True).split('id="receipt">', 1)[1].split("<", 1)[0]
    case = get_case(site.engine, ref)
    entry = open_report(case.header, case.body, len(case.lengths), site.identities[:1]).body.attachments[0]
    assert entry.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert entry.original_sha256 == (entry.sha256 if expected == "sealed" else expected)


def test_no_temp_file(client, site, monkeypatch):
    """Werkzeug's default stream factory (a spooled temp file) is never used."""
    import werkzeug.formparser

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temp file was asked for")

    monkeypatch.setattr(werkzeug.formparser, "default_stream_factory", refuse)
    assert post(client, form(csrf_token(client))).status_code == 200


@pytest.mark.parametrize(("changes", "status", "message"), [
    ({"website": "http://spam.example"}, 400, "looks automated"),
    ({"description": ""}, 400, "Describe what happened"),
    ({"description": "x" * 20001}, 400, "at most 20,000 characters"),
    ({"csrf_token": "forged"}, 400, "The form expired"),
    ({"incident_type": "satellite"}, 400, "Choose what happened from the list"),
    ({"attachments": [(io.BytesIO(b"x"), f"f{i}.jpg", "image/jpeg") for i in range(33)]}, 400, "at most 32 files"),
    ({"original_sha256": ["", ""]}, 400, "did not match the files that arrived"),
    ({"original_sha256": ["A" * 64]}, 400, "did not match the files that arrived"),
], ids=["honeypot", "no description", "long description", "csrf", "bad choice", "33 files",
        "two originals for one file",
        "original in upper case"])
def test_refusals_store_nothing(client, site, changes, status, message):
    """Each bad post gets its status and message, and leaves no row at all, not even half a case."""
    r = post(client, form(csrf_token(client), **changes))
    assert r.status_code == status
    assert message in r.get_data(as_text=True)
    assert rows(site.engine) == EMPTY


def test_file_name_not_in_utf8_is_told_and_stores_nothing(client, site):
    """A file name in another encoding makes the form unreadable past the token read ahead: a 400 that says so
    (not "the form expired"), and nothing stored."""
    token = csrf_token(client).encode()
    body = b"".join(b'--bnd\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % pair for pair in [
        (b"csrf_token", token), (b"website", b""), (b"incident_type", b"drone"), (b"description", b"a drone")])
    body += (b'--bnd\r\nContent-Disposition: form-data; name="attachments"; filename="\xe9t\xe9.jpg"\r\n'
             b"Content-Type: image/jpeg\r\n\r\n" + PHOTO + b"\r\n--bnd--\r\n")
    r = client.post("/report", data=body, content_type="multipart/form-data; boundary=bnd")
    assert r.status_code == 400
    assert "a file name or a field may not be in UTF-8" in r.get_data(as_text=True)
    assert rows(site.engine) == EMPTY


def test_too_large_page(site, tmp_path):
    """Past INTAKE_MAX_REPORT_BYTES: a 413 page a person can read, and nothing stored."""
    from intake.web import create_app

    small = create_app(dataclasses.replace(site.settings, max_report_bytes=PART))
    client = small.test_client()
    big = form(csrf_token(client), attachments=[(io.BytesIO(PHOTO), "big.jpg", "image/jpeg")])
    r = post(client, big)
    assert r.status_code == 413
    page = r.get_data(as_text=True)
    assert "larger than 1 MiB" in page
    assert "Send fewer or smaller files" in page
    assert rows(site.engine) == EMPTY
    small.extensions["intake"].engine.dispose()


def test_rate_budget_nojs(client, site, app):
    """The no-JavaScript post has its own budget (tests/web/test_floods_budgets.py: apart from the API's)."""
    app.extensions["intake"].nojs = Bucket(1)
    assert post(client, form(csrf_token(client))).status_code == 200
    r = post(client, form(csrf_token(client)))
    assert r.status_code == 429
    assert "wait a minute" in r.get_data(as_text=True)
    assert rows(site.engine)["cases"] == 1
