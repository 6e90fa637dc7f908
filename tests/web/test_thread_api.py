"""The thread endpoints and /check against wrong codenames and malformed requests: clear 4xx, nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.storage.schema import case_lookups, messages
from intake.storage.threads import salt
from tests.support.web import b64, csrf_token, report_with_lookup, solve


def _arm(client) -> str:
    """Load a page's form token and send it in the API's header from now on (no cookie: there is none)."""
    token = csrf_token(client)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return token


def _check(client, form: dict) -> object:
    """POST /check as the page's form does, with its form token."""
    return client.post("/check", data={"csrf_token": csrf_token(client), **form})


def _count(site, table) -> int:
    with site.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _follow_up(client, keys, recipients, **changes) -> tuple[int, dict]:
    sealed = seal_message(recipients, keys.identity.recipient, "reporter", "more details")
    work = client.get("/api/v1/challenge").get_json()
    data = {"token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
            "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"]), **changes}
    answer = client.post("/api/v1/thread/messages", json={k: v for k, v in data.items() if v is not None})
    return answer.status_code, answer.get_json()


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_thread_api_refuses_what_is_malformed(client, site):
    _arm(client)
    keys = derive_keys(make_codename(), salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    status, answer = report_with_lookup(client, site, keys.lookup, keys.identity.recipient)
    assert status == 409
    assert "another report already uses this codename" in answer["error"]
    assert report_with_lookup(client, site, b"short")[0] == 400
    assert _count(site, case_lookups) == 1
    found = client.post("/api/v1/thread", json={"token": b64(keys.token)})
    assert found.status_code == 200
    assert found.get_json()["thread"] == []
    assert found.get_json()["status"].startswith("Received")
    other = derive_keys(make_codename(), salt(site.engine))
    nobody = client.post("/api/v1/thread", json={"token": b64(other.token)})
    assert nobody.status_code == 404
    assert "No report was found for this codename" in nobody.get_json()["error"]
    for bad in ({}, {"token": 5}, {"token": "not base64!"}, {"token": b64(bytes(31))}, {"token": "é" * 43},
                {"token": b64(keys.token), "codename": "x"}, ["token"]):
        answer = client.post("/api/v1/thread", json=bad)
        assert answer.status_code == 400, bad
        assert answer.get_json()["error"]
    assert client.post("/api/v1/thread", data="{", content_type="application/json").status_code == 400
    assert client.get("/api/v1/thread").status_code == 405

    from intake.keys.keyring import load_keyring, read_signer

    recipients = load_keyring(site.settings.keys_dir, read_signer(site.settings.signing_key)).recipients()
    assert _follow_up(client, keys, recipients)[0] == 201
    assert _follow_up(client, other, recipients)[0] == 404
    stranger = [Identity.generate().recipient]
    status, answer = _follow_up(client, keys, stranger)
    assert status == 400
    assert "header is not valid" in answer["error"]
    for changes in ({"header": "!!"}, {"body": b64(b"x" * 100)}, {"pow_nonce": None}, {"pow_challenge": "x"},
                    {"token": None}, {"header": b64(b"INTK\x01\x01" + bytes(96 + 32))}):
        status, answer = _follow_up(client, keys, recipients, **changes)
        assert status == 400, changes
        assert answer["error"]
    assert _count(site, messages) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_check_form_refuses_what_is_malformed(client, site):
    for form, status, words in (({"codename": "1" * 24}, 400, "25 digits in 5 groups"),
                                ({"codename": "1" * 201}, 400, "25 digits in 5 groups"),
                                ({}, 400, "25 digits in 5 groups"),
                                ({"codename": "11111 11111 11111 11111 11111"}, 404, "No report was found"),
                                ({"sealed": "garbage", "message": "hi"}, 400, "type your codename again"),
                                ({"codename": "1" * 25, "message": "x" * 20001}, 400, "20,000 characters")):
        answer = _check(client, form)
        assert answer.status_code == status, form
        assert words in answer.get_data(as_text=True)
    confirm = client.post("/receipt/confirm", data={"csrf_token": csrf_token(client), "sealed": "x", "typed": "12345"})
    assert confirm.status_code == 400
    assert _count(site, messages) == 0
    page = client.get("/check")
    assert page.status_code == 200
    assert 'name="codename"' in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_thread_page_expires(app, client, site, monkeypatch):
    """A thread page's box opens for INTAKE_PAGE_BOX_SECONDS, then never again (issue 19.2)."""
    import base64

    from intake.web import boxes
    from intake.web.thread import PURPOSE

    keys = derive_keys(make_codename(), salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    lifetime = site.settings.page_box_seconds
    with app.test_request_context():
        box = boxes.seal_value(PURPOSE, {"token": base64.b64encode(keys.token).decode(),
                                         "reply": base64.b64encode(keys.identity.secret_key).decode()})
    made = boxes.now()
    monkeypatch.setattr(boxes, "now", lambda: made + lifetime + 1)
    expired = _check(client, {"sealed": box, "message": "late"})
    assert expired.status_code == 400
    assert "This page has expired" in expired.get_data(as_text=True)
    assert _count(site, messages) == 0
    monkeypatch.setattr(boxes, "now", lambda: made + lifetime - 1)
    sent = _check(client, {"sealed": box, "message": "in time"})
    assert sent.status_code == 200
    assert "in time" in sent.get_data(as_text=True)
    assert _count(site, messages) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_checks_spend_the_budget(tmp_path, db_url):
    """Each check without JavaScript costs an Argon2id: it spends the no-JS budget, and a spent budget is a 429."""
    from intake.web import create_app
    from tests.support.web import make_site

    (tmp_path / "small").mkdir()
    site = make_site(tmp_path / "small", db_url, nojs_per_minute=2)
    app = create_app(site.settings)
    client = app.test_client()
    codename = "11111 11111 11111 11111 11111"
    assert [_check(client, {"codename": codename}).status_code for _ in range(2)] == [404, 404]
    spent = _check(client, {"codename": codename})
    assert spent.status_code == 429
    assert spent.get_data(as_text=True)
    app.extensions["intake"].engine.dispose()
    site.engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_damaged_message_does_not_hide_the_others(client, site):
    import os

    from intake.storage.threads import add_message, case_by_lookup

    codename = make_codename()
    keys = derive_keys(codename, salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    case_id = case_by_lookup(site.engine, keys.lookup)[0]
    good = seal_message([site.identities[0].recipient], keys.identity.recipient, "reviewer", "still readable")
    add_message(site.engine, case_id, "reviewer", os.urandom(400), os.urandom(1064))
    add_message(site.engine, case_id, "reviewer", good.header, good.body)
    page = _check(client, {"codename": codename})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "could not be opened: it is damaged" in text
    assert "still readable" in text
    _arm(client)
    sealed = client.post("/api/v1/thread", json={"token": b64(keys.token)})
    assert len(sealed.get_json()["thread"]) == 2
