"""Cheap refusals spend nothing shared, and no response sets a cookie (docs/web.md, "Floods"; issue 11.1, 11.2)."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from intake.storage.schema import stored_bytes
from intake.web.limits import Bucket
from intake.web.tokens import FormTokens
from tests.support.nojs import form, post
from tests.support.web import begin, csrf_token, rows, sealed

BOUNDARY = "floodboundary"


def multipart_head(fields: dict[str, str], filename: str = "big.bin") -> bytes:
    """The start of a multipart body: text fields, then the head of a file part."""
    out = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                   for k, v in fields.items())
    return out + (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="{filename}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n").encode()


def charged(engine) -> int:
    """Bytes charged against the daily budgets."""
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))).scalar_one()


@pytest.mark.slow
@pytest.mark.parametrize("fields", [{"incident_type": "drone"}, {"csrf_token": "forged"},
                                    {"csrf_token": "VALID", "website": "http://spam.example"}],
                         ids=["no token", "forged token", "honeypot"])
def test_refused_before_the_body_is_read(live, fields):
    """A post of 50 MB without a valid token (or with the honeypot) is refused after its first bytes:
    the answer comes while the body is still unsent, and nothing is stored or charged."""
    made, server = live
    if fields.get("csrf_token") == "VALID":
        page = requests.get(server.url + "/", timeout=10).text
        fields = {**fields, "csrf_token": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}
    head = multipart_head(fields) + b"\0" * 200_000
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
        s.sendall((f"POST /report HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: {50 << 20}\r\n"
                   f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n").encode() + head)
        started = time.monotonic()
        answer = s.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 400"), answer[:200]
    assert time.monotonic() - started < 10
    assert "Set-Cookie" not in answer
    assert rows(made.engine)["cases"] == 0
    assert charged(made.engine) == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refusals_spend_no_budget(client, site, app):
    """Posts without a token, with the honeypot, or from another origin do not spend the no-JS budget."""
    app.extensions["intake"].nojs = Bucket(2)
    token = csrf_token(client)
    for _ in range(5):
        assert post(client, form("forged")).status_code == 400
        assert post(client, form(token, website="x")).status_code == 400
        bad = client.post("/report", data={"csrf_token": token}, headers={"Origin": "http://evil.example"})
        assert bad.status_code == 403
    assert rows(site.engine)["cases"] == 0
    assert charged(site.engine) == 0
    assert post(client, form(csrf_token(client))).status_code == 200
    assert post(client, form(csrf_token(client))).status_code == 200
    busy = post(client, form(csrf_token(client)))
    assert busy.status_code == 429
    assert "wait a minute" in busy.get_data(as_text=True)
    assert rows(site.engine)["cases"] == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("headers", "status"), [
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, 403),
    ({"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Origin": "http://localhost.evil.example"}, 403),
    ({"Sec-Fetch-Site": "same-origin", "Origin": "null"}, 200),
    ({"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, 200),
    ({"Origin": "http://localhost"}, 200),
    ({}, 200),
], ids=["cross-site", "same-site", "cross-site, no origin", "other origin", "null origin", "look-alike origin",
        "same-origin, null origin", "same-origin", "own origin, no fetch metadata", "no browser"])
def test_origin_check(client, site, headers, status):
    """Fetch metadata decides where a browser sends it; Origin where it does not; no header: not a browser."""
    r = post_with(client, form(csrf_token(client)), headers)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert rows(site.engine)["cases"] == (status == 200)


def post_with(client, data, headers):
    """POST /report (multipart, in memory) with extra headers."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            values.add(key, FileStorage(item[0], item[1], content_type=item[2]) if isinstance(item, tuple) else item)
    boundary, body = encode_multipart(values)
    return client.post("/report", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers=headers)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_needs_the_token_header(client, site):
    """The API refuses a write without the page's token in X-CSRFToken, or from another origin."""
    token = csrf_token(client)
    report = sealed(site, ())
    assert begin(client, "", report).status_code == 400
    assert begin(client, FormTokens(b"another instance").issue(), report).status_code == 400
    assert client.post("/api/v1/reports", json={}, headers={"X-CSRFToken": token,
                                                            "Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert rows(site.engine)["cases"] == 0
    assert begin(client, token, report).status_code == 201


def test_token_holds_only_a_day(tmp_path: Path):
    """The form token is a day number, random bytes and a MAC: no second, no one's name."""
    import base64
    import struct

    from intake.web.tokens import day_number

    token = FormTokens(b"secret").issue()
    raw = base64.urlsafe_b64decode(token + "==")
    assert struct.unpack(">I", raw[:4])[0] == day_number()
    assert len(raw) == 36


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_cookie_anywhere(client, site):
    """No response of the site sets a cookie: pages, static files, the API, errors, with and without JS."""
    token = csrf_token(client)
    report = sealed(site)
    started = begin(client, token, report).get_json()
    responses = [
        client.get("/"), client.get("/?lang=km"), client.get("/check"), client.get("/keyring.json"),
        client.get("/static/js/work.js"), client.get("/static/style.css"), client.get("/favicon.ico"),
        client.get("/api/v1/challenge"), client.get(f"/api/v1/uploads/{started['upload']}"),
        client.get("/nothing-here"), client.put("/report"), client.post("/report", data={"csrf_token": token}),
        post(client, form(token)), post(client, form("forged")), begin(client, token, sealed(site, ())),
        client.post("/api/v1/reports", json={}), client.get("/", base_url="https://localhost"),
        post_with(client, form(token), {"Origin": "http://evil.example"}),
    ]
    for r in responses:
        assert not r.headers.get_all("Set-Cookie"), (r.request.path, r.status_code)
        r.close()
    assert client.get_cookie("session") is None
