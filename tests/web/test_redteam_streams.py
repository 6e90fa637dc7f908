"""Red team rt-streams on a live server: a no-JS follow-up whose carrier the sweep expires while its files still
arrive (an upload begun before yesterday: at the 1 KiB/s the slow-client rules allow, 500 MiB take days) is
refused with a 400, never a 500, and leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage, MultiDict

from intake.clock import today
from intake.storage.cases import CARRIER
from intake.storage.schema import cases, message_parts, messages
from tests.support.followups import api_case, case_with_codename, post_follow_up, sealed_follow_up
from tests.support.keytools import Prepared
from tests.support.threads import SEALED, check_nojs, form_token
from tests.support.web import Server, slow_post

FILE = os.urandom(24 << 20)  # sealed as it arrives, over seconds; slow_post sends a third (8 MiB) before the sweep
# runs, and the server holds up to 2 MiB before it seals (a 1 MiB read, a 1 MiB block) and stores parts four at a
# time: 8 MiB leaves a margin for the first batch, where a third of 15 MiB could fall a few bytes short of it


@pytest.fixture
def live(tmp_path: Path, prepared: Prepared):
    inst, _identities = prepared.setup(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}", "alice")
    server = Server({**inst.env, "INTAKE_WORKERS": "1"}, tmp_path).start()
    yield inst, server
    server.stop()


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.slow
def test_a_follow_up_expired_while_it_arrives_is_refused(live) -> None:
    inst, server = live
    codename = case_with_codename(inst)
    page = check_nojs(requests.Session(), server.url, codename=codename).text
    values = MultiDict([("csrf_token", form_token(page)), ("sealed", SEALED.search(page).group(1)),
                        ("message", "the video"),
                        ("attachments", FileStorage(io.BytesIO(FILE), "clip.mp4", content_type="video/mp4"))])

    seen: list[bool] = []

    def expire() -> None:
        """The sweep's rule for an upload begun before yesterday, run by `intake expire-uploads` as it arrives."""
        for _ in range(400):
            if _count(inst.engine, message_parts):
                seen.append(True)
                break
            time.sleep(0.05)
        with inst.engine.begin() as conn:
            conn.execute(update(cases).where(cases.c.sealed_by == CARRIER)
                         .values(received=today() - dt.timedelta(days=2)))
        inst.run("expire-uploads")

    status, text = slow_post(server, "/check", values, expire)
    log = server.log_text()
    assert seen, "expired before a part was stored"
    assert "unexpected" not in log, log[-3000:]
    assert status == 400, text  # before: a 500 (the batch after the expiry went into `parts`, refused by its key)
    assert "A file arrived incomplete" in text
    assert (_count(inst.engine, messages), _count(inst.engine, message_parts)) == (0, 0)


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_stream_number_no_column_holds_is_a_400(client, site) -> None:
    """PUT /api/v1/uploads/<token>/<idx>/<part> with an idx past a database integer: a 500 before (SQLite cannot bind
    2^63, PostgreSQL's INTEGER refuses 2^31), for a report's upload and a follow-up's carrier alike."""
    keys, _case_id = api_case(client, site)
    upload = post_follow_up(client, keys, sealed_follow_up(site, keys)).get_json()["upload"]
    for idx in (1 << 31, 1 << 63, 10 ** 20):
        answer = client.put(f"/api/v1/uploads/{upload}/{idx}/0", data=b"x" * 10,
                            headers={"Content-Type": "application/octet-stream"})
        assert answer.status_code == 400, (idx, answer.data[:200])
        assert "no upload waits for that attachment" in answer.get_json()["error"]
    assert client.get(f"/api/v1/uploads/{upload}").status_code == 200
