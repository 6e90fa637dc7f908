"""A no-JS post that spans `intake keys retire` and `intake keys rewrap` is refused as it commits (issue 19
finding 8): the server sealed it to the keyring of the moment it began, which a rewrap that ran meanwhile
never saw. Real processes: a live `intake serve`, and the admin's CLI run while the file still uploads.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict

from intake.storage.schema import cases, message_parts, messages, parts
from tests.support.followups import case_with_codename
from tests.support.keytools import Instance, Prepared
from tests.support.nojs import form
from tests.support.threads import SEALED, check_nojs, form_token
from tests.support.web import Server, slow_post

FILE = os.urandom(6 << 20)  # 6 MiB of a video: sealed as it arrives, over seconds


def _counts(inst: Instance) -> dict[str, int]:
    with inst.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (cases, parts, messages, message_parts)}


@pytest.fixture
def live(tmp_path: Path, prepared: Prepared):
    inst, identities = prepared.setup(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}", "alice", "bob")
    server = Server({**inst.env, "INTAKE_WORKERS": "1"}, tmp_path).start()
    yield inst, identities, server
    server.stop()
    assert "Traceback" not in server.log_text()


def _retire_and_rewrap(inst: Instance, identities: dict[str, Path]):
    def run() -> None:
        inst.admin("keys", "retire", "alice")
        inst.run("keys", "rewrap", "--identity", str(identities["bob"]), "--passphrase-file", str(inst.reviewer_pw),
                 "--jobs", "1")
    return run


def _opens_nothing(inst: Instance, name: str) -> None:
    """`intake keys list` shows that the retired key opens no stored case and no message."""
    listed = {k["name"]: k for k in json.loads(inst.run("keys", "list", "--json").stdout)["keys"]}
    assert listed[name]["status"] == "retired"
    assert (listed[name]["cases"], listed[name]["messages"]) == (0, 0)


@pytest.mark.slow
def test_nojs_follow_up_spanning_retire_and_rewrap_is_refused(live) -> None:
    inst, identities, server = live
    codename = case_with_codename(inst)
    http_session = requests.Session()
    page = check_nojs(http_session, server.url, codename=codename).text
    values = MultiDict([("csrf_token", form_token(page)), ("sealed", SEALED.search(page).group(1)),
                        ("message", "the full video"),
                        ("attachments", FileStorage(io.BytesIO(FILE), "clip.mp4", content_type="video/mp4"))])
    before = _counts(inst)
    status, text = slow_post(server, "/check", values, _retire_and_rewrap(inst, identities))
    assert status == 409, text
    assert "keys changed while your message was arriving, so nothing was stored" in text
    assert _counts(inst) == before
    _opens_nothing(inst, "alice")


@pytest.mark.slow
def test_nojs_report_spanning_retire_and_rewrap_is_refused(live) -> None:
    inst, identities, server = live
    token = form_token(requests.get(server.url + "/", timeout=60).text)
    fields = form(token, attachments=[(io.BytesIO(FILE), "clip.mp4", "video/mp4")])
    values = MultiDict()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            values.add(key, FileStorage(item[0], item[1], content_type=item[2]) if isinstance(item, tuple) else item)
    status, text = slow_post(server, "/report", values, _retire_and_rewrap(inst, identities))
    assert status == 409, text
    assert "keys changed while your report was arriving, so nothing was stored" in text
    assert _counts(inst) == {"cases": 0, "parts": 0, "messages": 0, "message_parts": 0}
    _opens_nothing(inst, "alice")
