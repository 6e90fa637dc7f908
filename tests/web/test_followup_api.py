"""Follow-ups with files through the API: the same upload path as reports, nothing shown until every file is
stored, and every bad request a clear 4xx that keeps nothing (docs/web.md, "Follow-ups")."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from sqlalchemy import func, select

from intake.crypto.message import open_message
from intake.crypto.stream import PART
from intake.storage.cases import iter_parts
from intake.storage.lifecycle import expire_uploads
from intake.storage.retention import delete_cases
from intake.storage.schema import carriers, cases, message_parts, messages
from intake.storage.threads import thread
from tests.support.followups import FILES, api_case, post_follow_up, sealed_follow_up
from tests.support.web import b64

BIG = 24 + (600 << 20) + 17 * ((600 << 20) // 65536 + 1)  # a well-framed stream of 600 MiB
pytestmark = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


def _count(site, table, *where) -> int:
    with site.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _put_all(client, upload, sealed, skip=()):
    for idx, stream in enumerate(sealed.streams):
        for number in range(-(-len(stream) // PART)):
            if (idx, number) not in skip:
                answer = client.put(f"/api/v1/uploads/{upload}/{idx}/{number}",
                                    data=stream[number * PART:(number + 1) * PART],
                                    headers={"Content-Type": "application/octet-stream"})
                assert answer.status_code == 204, answer.get_json()


def _shown(client, keys) -> list[dict]:
    return client.post("/api/v1/thread", json={"token": b64(keys.token)}).get_json()["thread"]


def test_files_arrive_whole_or_not_at_all(client, site):
    keys, case_id = api_case(client, site)
    sealed = sealed_follow_up(site, keys)
    begun = post_follow_up(client, keys, sealed)
    assert begun.status_code == 201, begun.get_json()
    upload = begun.get_json()["upload"]
    assert begun.get_json()["missing"] == {"0": [0, 1], "1": [0]}
    _put_all(client, upload, sealed, skip={(0, 1)})
    early = client.post(f"/api/v1/uploads/{upload}/complete")
    assert early.status_code == 409
    assert "missing" in early.get_json()["error"]
    assert _shown(client, keys) == []
    assert client.get(f"/api/v1/uploads/{upload}").get_json()["missing"] == {"0": [1], "1": []}
    _put_all(client, upload, sealed)
    done = client.post(f"/api/v1/uploads/{upload}/complete")
    assert done.status_code == 200
    assert done.get_json() == {"sent": True}
    assert client.post(f"/api/v1/uploads/{upload}/complete").status_code == 404
    shown = _shown(client, keys)
    assert [(m["from"], m["lengths"]) for m in shown] == [("reporter", [len(s) for s in sealed.streams])]
    assert _count(site, cases) == 1
    assert _count(site, carriers) == 0
    with site.engine.connect() as conn:
        part_ids = conn.execute(select(message_parts.c.pid)).scalars().all()
        assert len(part_ids) == 3
        assert all(pid > 1 << 32 for pid in part_ids), "message part ids count up"
        if site.engine.dialect.name == "sqlite":
            with pytest.raises(Exception, match="no such column: rowid"):
                conn.exec_driver_sql("SELECT rowid FROM message_attachments")
    stored = thread(site.engine, case_id)[0]
    opened = open_message(stored.header, stored.body, len(stored.lengths), site.identities[1:],
                          keys.identity.recipient, "reporter")
    for idx, (name, _type, data) in enumerate(FILES):
        plain = b"".join(opened.attachment(idx, iter_parts(site.engine, case_id, idx, seq=stored.seq),
                                           stored.lengths[idx]))
        assert (opened.body.attachments[idx].name, plain) == (name, data)
        assert opened.body.attachments[idx].sha256 == hashlib.sha256(data).hexdigest()


def test_a_follow_up_of_files_alone_is_a_message(client, site):
    keys, _case_id = api_case(client, site)
    sealed = sealed_follow_up(site, keys, text="", files=FILES[1:])
    upload = post_follow_up(client, keys, sealed).get_json()["upload"]
    _put_all(client, upload, sealed)
    assert client.post(f"/api/v1/uploads/{upload}/complete").status_code == 200
    assert len(_shown(client, keys)) == 1


@pytest.mark.parametrize(("lengths", "status", "says"), [
    ("3", 400, "`lengths` must list"), ([True], 400, "`lengths` must list"), ([1.5], 400, "`lengths` must list"),
    ([41] * 33, 400, "`lengths` must list"), ([40], 400, "cannot be a sealed stream"),
    ([24 + 65536 + 17], 400, "cannot be a sealed stream"), ([BIG], 413, "larger than this service takes")])
def test_malformed_lengths_keep_nothing(client, site, lengths, status, says):
    keys, _case_id = api_case(client, site)
    answer = post_follow_up(client, keys, sealed_follow_up(site, keys), lengths=lengths)
    assert answer.status_code == status
    assert says in answer.get_json()["error"]
    assert (_count(site, cases), _count(site, messages)) == (1, 0)


def test_a_carrier_is_never_a_case(client, site):
    keys, _case_id = api_case(client, site)
    sealed = sealed_follow_up(site, keys)
    upload = post_follow_up(client, keys, sealed).get_json()["upload"]
    _put_all(client, upload, sealed)
    assert client.get("/api/v1/uploads/" + upload).get_json()["missing"] == {"0": [], "1": []}
    with site.engine.connect() as conn:
        carrier = conn.execute(select(carriers.c.case_id)).scalar_one()
    from intake.storage.lifecycle import complete_case

    with pytest.raises(ValueError, match="no upload waits"):
        complete_case(site.engine, carrier)
    from intake.storage.cases import iter_cases

    assert len(list(iter_cases(site.engine))) == 1
    wrong = client.put(f"/api/v1/uploads/{upload}/0/0", data=b"x" * 10,
                       headers={"Content-Type": "application/octet-stream"})
    assert wrong.status_code == 400


def test_the_case_purged_while_files_upload_takes_them_away(client, site):
    keys, case_id = api_case(client, site)
    sealed = sealed_follow_up(site, keys)
    upload = post_follow_up(client, keys, sealed).get_json()["upload"]
    _put_all(client, upload, sealed, skip={(1, 0)})
    delete_cases(site.engine, [case_id])
    assert client.put(f"/api/v1/uploads/{upload}/1/0", data=sealed.streams[1]).status_code == 404
    assert client.post(f"/api/v1/uploads/{upload}/complete").status_code == 404
    assert [_count(site, t) for t in (cases, carriers, messages, message_parts)] == [0, 0, 0, 0]


def test_keys_changed_while_uploading_refuse_the_follow_up(client, site):
    keys, _case_id = api_case(client, site)
    sealed = sealed_follow_up(site, keys)
    upload = post_follow_up(client, keys, sealed).get_json()["upload"]
    _put_all(client, upload, sealed)
    site.add_reviewer()
    refused = client.post(f"/api/v1/uploads/{upload}/complete")
    assert refused.status_code == 409
    assert "keys changed" in refused.get_json()["error"]
    assert [_count(site, t) for t in (cases, carriers, messages)] == [1, 0, 0]


def test_follow_up_files_count_against_the_pending_bytes(client, site, app):
    keys, _case_id = api_case(client, site)
    intake = app.extensions["intake"]
    intake.settings = dataclasses.replace(intake.settings, pending_bytes=2 * PART)
    sealed = sealed_follow_up(site, keys)
    assert post_follow_up(client, keys, sealed).status_code == 201
    second = post_follow_up(client, keys, sealed)
    assert second.status_code == 503
    assert "under way" in second.get_json()["error"]
    assert _count(site, carriers) == 1
    assert expire_uploads(site.engine, every=True) == 1
    assert [_count(site, t) for t in (cases, carriers, messages)] == [1, 0, 0]
