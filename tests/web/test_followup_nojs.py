"""Follow-ups with files without JavaScript: sealed as they arrive, refused before a byte is sealed when the
form is forged, and nothing half-stored on any bad post."""

from __future__ import annotations

import base64
import dataclasses
import io

import pytest
import requests
from sqlalchemy import func, select

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import open_message
from intake.storage.cases import iter_parts
from intake.storage.schema import attachments, cases, message_parts, messages, parts
from intake.storage.threads import case_by_lookup, salt, thread
from intake.web.boxes import seal_value
from intake.web.limits import Bucket
from intake.web.thread import PURPOSE
from tests.support.canary import hits, new_canary, temp_entries
from tests.support.nojs import PHOTO, post
from tests.support.proof import Reporter
from tests.support.reviewkit import jpeg_with_gps
from tests.support.threads import CODENAME, SEALED, Team, check_nojs, form_token, texts
from tests.support.web import Server, csrf_token, report_with_lookup

NOTE = "ရပ်ကွက် ၃ camera on the lamp post".encode()


def _rows(site) -> list[int]:
    with site.engine.connect() as conn:
        return [conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (cases, attachments, parts, messages, message_parts)]


def _thread_page(client, site):
    """A case with a codename, and the thread page the reporter gets by typing it."""
    codename = make_codename()
    keys = derive_keys(codename, salt(site.engine))
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client)
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient)[0] == 201
    page = client.post("/check", data={"csrf_token": csrf_token(client), "codename": codename})
    assert page.status_code == 200
    return keys, page.get_data(as_text=True)


def _files(*named):
    return [(io.BytesIO(data), name, kind) for name, kind, data in named]


def _send(client, page, **fields):
    data = {"csrf_token": form_token(page), "sealed": SEALED.search(page).group(1), "message": "", **fields}
    return post(client, data, "/check")


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_files_sealed_on_arrival_into_the_thread(client, site):
    keys, page = _thread_page(client, site)
    sent = _send(client, page, message="the camera, and where it is",
                 attachments=_files(("pole.jpg", "image/jpeg", PHOTO), ("where.txt", "text/plain", NOTE)))
    assert sent.status_code == 200, sent.get_data(as_text=True)[-1500:]
    shown = sent.get_data(as_text=True)
    assert texts(shown) == ["the camera, and where it is"]
    assert '<ul class="files"><li>pole.jpg</li><li>where.txt</li></ul>' in shown
    case_id = case_by_lookup(site.engine, keys.lookup)[0]
    stored = thread(site.engine, case_id)[0]
    opened = open_message(stored.header, stored.body, len(stored.lengths), site.identities[:1],
                          keys.identity.recipient, "reporter")
    got = [b"".join(opened.attachment(i, iter_parts(site.engine, case_id, i, seq=stored.seq), stored.lengths[i]))
           for i in range(2)]
    assert got == [PHOTO, NOTE]
    assert stored.lengths[1] == 24 + len(NOTE) + 17, "message files are not padded (format.md §12.4)"
    assert _rows(site) == [1, 0, 0, 1, 3], "two parts of the photo, one of the note; no carrier left"
    only_files = _send(client, shown, attachments=_files(("second.txt", "text/plain", b"more")))  # the page it gave
    assert only_files.status_code == 200
    assert len(thread(site.engine, case_id)) == 2
    empty = _send(client, only_files.get_data(as_text=True), attachments=_files(("", "application/octet-stream", b"")))
    assert empty.status_code == 200
    assert "sealed and sent" not in empty.get_data(as_text=True)
    assert len(thread(site.engine, case_id)) == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_posts_keep_nothing(client, site, app):
    keys, page = _thread_page(client, site)
    before = _rows(site)
    photo = ("pole.jpg", "image/jpeg", PHOTO)
    with app.app_context():
        forged = seal_value(PURPOSE, {"token": "AAAA", "reply": "AAAA"})
        app.extensions["intake"].settings = dataclasses.replace(site.settings, page_box_seconds=-1)
        expired = seal_value(PURPOSE, {"token": base64.b64encode(keys.token).decode(),
                                       "reply": base64.b64encode(keys.identity.secret_key).decode()})
        app.extensions["intake"].settings = site.settings
    cases_ = [
        ({"sealed": "not sealed by this service"}, 400, "not made by this service"),
        ({"sealed": forged}, 400, "not made by this service"),
        ({"sealed": expired}, 400, "This page has expired"),
        ({"sealed": expired[:-2]}, 400, "not made by this service"),
        ({"csrf_token": "forged"}, 400, "form"),
        ({"message": "x" * 20001}, 400, "20,000 characters"),
        ({"picture": _files(photo)}, 400, "A file arrived in place of a text field"),
        ({"attachments": _files(*[("f.txt", "text/plain", b"x")] * 33)}, 400, "at most 32 files"),
    ]
    for fields, status, says in cases_:
        answer = _send(client, page, **({"attachments": _files(photo)} | fields))
        assert answer.status_code == status, (fields.keys(), answer.status_code)
        assert says in answer.get_data(as_text=True)
        assert _rows(site) == before, fields.keys()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_flood_of_posts_with_files_is_refused_before_sealing(client, site, app):
    """Each post with files spends a place in the worker's no-JS budget before a byte is sealed; past it, a 429."""
    _keys, page = _thread_page(client, site)
    app.extensions["intake"].nojs = Bucket(1)
    photo = ("pole.jpg", "image/jpeg", PHOTO)
    first = _send(client, page, attachments=_files(photo))
    assert first.status_code == 200
    before = _rows(site)
    flooded = _send(client, first.get_data(as_text=True), attachments=_files(photo))  # from the page it gave
    assert flooded.status_code == 429
    assert _rows(site) == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_cut_upload_keeps_nothing(client, site):
    _keys, page = _thread_page(client, site)
    before = _rows(site)
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict({"csrf_token": form_token(page), "sealed": SEALED.search(page).group(1), "message": "cut"})
    values.add("attachments", FileStorage(io.BytesIO(PHOTO), "pole.jpg", content_type="image/jpeg"))
    boundary, body = encode_multipart(values)
    cut = client.post("/check", data=body[:len(body) // 2], content_type=f"multipart/form-data; boundary={boundary}")
    assert cut.status_code == 400
    assert _rows(site) == before


@pytest.mark.slow
def test_nojs_follow_up_with_files_leaves_no_plaintext(tmp_path, prepared):
    """A real server: a follow-up with a GPS photo and a text file, read by a reviewer with the real CLI; neither
    the codename, the message nor the file's text is anywhere on disk, in the logs or in temp files."""
    before = temp_entries()
    root = tmp_path / "site"
    root.mkdir()
    inst, keys = prepared.setup(root, f"sqlite:///{root / 'instance' / 'intake.db'}", "alice")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    answer, inside = new_canary("answer"), new_canary("file")
    photo = jpeg_with_gps()
    server = Server(inst.env, root).start()
    try:
        reporter = Reporter(server.url)
        receipt = reporter.post_nojs({"incident_type": "cctv", "description": "cameras at the junction"})
        codename = CODENAME.search(receipt.text).group(1)
        ref = receipt.text.split('id="receipt">')[1][:14]
        http = requests.Session()
        page = check_nojs(http, server.url, codename=codename)
        sent = http.post(server.url + "/check", timeout=120,
                         data={"csrf_token": form_token(page.text), "sealed": SEALED.search(page.text).group(1),
                               "message": answer},
                         files=[("attachments", ("pole.jpg", photo, "image/jpeg")),
                                ("attachments", ("where.txt", (inside + " ") * 40000, "text/plain"))])
        assert sent.status_code == 200, sent.text[-1500:]
        assert texts(sent.text) == [answer]
        team = Team(inst, keys["alice"])
        shown = team.thread(ref)
        assert [(m["text"], [a["name"] for a in m["attachments"]]) for m in shown] == [(answer, ["pole.jpg",
                                                                                                   "where.txt"])]
        out = root / "out"
        team.review("export", ref, "--out", str(out))
        exported = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        text_file = next(data for name, data in exported.items() if name.endswith("where.txt"))
        assert text_file == ((inside + " ") * 40000).encode()
        cleaned = next(data for name, data in exported.items() if name.endswith("pole.jpg"))
        assert b"Canon" not in cleaned
        assert b"Sok Dara" not in cleaned
        assert cleaned.startswith(b"\xff\xd8")
        reporter.close()
        http.close()
        for path in out.rglob("*"):
            if path.is_file():
                path.unlink()
    finally:
        server.kill()
    inst.engine.dispose()
    canaries = [codename.replace(" ", ""), codename, answer, inside]
    logs = {path.name: path.read_bytes() for path in server.logs}
    assert hits([root, *sorted(temp_entries() - before)], canaries, {**team.outputs, **logs}) == []
