"""/check, /receipt/confirm and the thread API pass the cheap checks before any Argon2id (docs/web.md, "Floods").

A post from another origin is a 403 and a post without a valid form token a 400, before the no-JS
budget is spent or a codename derived; a spent no-JS budget is a 429 before any derivation; the API's
follow-ups spend their proof of work once and are charged to the browser path's daily bytes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import intake.web.thread as thread_view
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import seal_message
from intake.storage.schema import messages, stored_bytes
from intake.storage.threads import salt
from intake.web.limits import Bucket
from tests.support.web import b64, csrf_token, report_with_lookup, solve

CODENAME = "11111 11111 11111 11111 11111"
ELSEWHERE = ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://elsewhere.example"}, {"Origin": "null"})


@pytest.fixture
def derivations(monkeypatch) -> list[str]:
    """Count the Argon2id derivations the views run (the real function still runs)."""
    calls: list[str] = []
    real = thread_view.derive_keys

    def counted(typed: str, salt_: bytes):
        calls.append(typed)
        return real(typed, salt_)

    monkeypatch.setattr(thread_view, "derive_keys", counted)
    return calls


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_check_without_token_or_from_elsewhere_derives_nothing(app, client, site, derivations):
    budget = app.extensions["intake"].nojs
    level = budget._level
    for form in ({"codename": CODENAME}, {"codename": CODENAME, "csrf_token": "forged"},
                 {"codename": CODENAME, "csrf_token": ""}):
        answer = client.post("/check", data=form)
        assert answer.status_code == 400, form
        assert "The form expired" in answer.get_data(as_text=True)
    token = csrf_token(client)
    for headers in ELSEWHERE:
        answer = client.post("/check", data={"codename": CODENAME, "csrf_token": token}, headers=headers)
        assert answer.status_code == 403, headers
        confirm = client.post("/receipt/confirm", data={"csrf_token": token, "sealed": "x", "typed": "1"},
                              headers=headers)
        assert confirm.status_code == 403, headers
    assert client.post("/receipt/confirm", data={"sealed": "x", "typed": "12345"}).status_code == 400
    assert derivations == []
    assert budget._level == level
    assert client.post("/check", data={"codename": CODENAME, "csrf_token": token}).status_code == 404
    assert derivations == [CODENAME]
    assert "Set-Cookie" not in client.get("/check").headers


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_spent_nojs_budget_refuses_before_deriving(app, client, site, derivations):
    app.extensions["intake"].nojs = Bucket(1)
    token = csrf_token(client)
    assert client.post("/check", data={"codename": CODENAME, "csrf_token": token}).status_code == 404
    spent = client.post("/check", data={"codename": CODENAME, "csrf_token": token})
    assert spent.status_code == 429
    assert "without JavaScript" in spent.get_data(as_text=True)
    assert derivations == [CODENAME]


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_thread_api_wants_token_and_origin_and_spends_work_once(client, site):
    keys = derive_keys(make_codename(), salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    token = csrf_token(client)
    sealed = seal_message([i.recipient for i in site.identities], keys.identity.recipient, "reporter", "more")
    work = client.get("/api/v1/challenge").get_json()
    follow_up = {"token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
                 "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"])}
    for url, data in (("/api/v1/thread", {"token": b64(keys.token)}), ("/api/v1/thread/messages", follow_up)):
        for headers in ({}, {"X-CSRFToken": "forged"}):
            answer = client.post(url, json=data, headers=headers)
            assert answer.status_code == 400, (url, headers)
            assert "The form expired. Copy your text, reload the page" in answer.get_json()["error"]  # issue 20.5
        for headers in ELSEWHERE:
            answer = client.post(url, json=data, headers={"X-CSRFToken": token, **headers})
            assert answer.status_code == 403, (url, headers)
    assert _count(site.engine, messages) == 0
    charged_before = _charged(site.engine)
    stored = client.post("/api/v1/thread/messages", json=follow_up, headers={"X-CSRFToken": token})
    assert stored.status_code == 201
    assert _charged(site.engine) == charged_before + len(sealed.header) + len(sealed.body)
    again = client.post("/api/v1/thread/messages", json=follow_up, headers={"X-CSRFToken": token})
    assert again.status_code == 400
    assert "already used" in again.get_json()["error"]
    assert _count(site.engine, messages) == 1
    read = client.post("/api/v1/thread", json={"token": b64(keys.token)}, headers={"X-CSRFToken": token})
    assert read.status_code == 200
    assert len(read.get_json()["thread"]) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_spent_daily_budget_stores_no_follow_up(tmp_path, db_url):
    """A follow-up over the browser path's daily bytes is a 503 and stores nothing, its work not spent."""
    from intake.web import create_app
    from tests.support.web import make_site

    (tmp_path / "small").mkdir()
    site = make_site(tmp_path / "small", db_url, daily_bytes=3000)
    app = create_app(site.settings)
    client = app.test_client()
    keys = derive_keys(make_codename(), salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    sealed = seal_message([i.recipient for i in site.identities], keys.identity.recipient, "reporter", "x" * 3000)
    work = client.get("/api/v1/challenge").get_json()
    answer = client.post("/api/v1/thread/messages", headers={"X-CSRFToken": csrf_token(client)}, json={
        "token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
        "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"])})
    assert answer.status_code == 503
    assert "all the data it can store today" in answer.get_json()["error"]
    assert _count(site.engine, messages) == 0
    app.extensions["intake"].engine.dispose()
    site.engine.dispose()


def _charged(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))).scalar_one()
