"""Which keyrings a carried file may be sealed to (format.md §13.3), with the real `intake keys` commands and a live
server: an older keyring within INTAKE_KIT_DAYS whose keys are all still in use is taken, and the next rewrap
opens it to the new key; a file sealed to a key retired since is refused as out of date; an old keyring copied
back is never used for a kit (class 1); a file still arriving when keys change is refused as it commits (class 9)."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time

import pytest
import requests
from werkzeug.datastructures import FileStorage, MultiDict

from intake.clock import today
from intake.keys.keyring import load_keyring
from intake.storage.keyring_state import kept
from intake.web.carrying import check_kit_keys
from intake.web.checks import ReportRefused
from tests.support.carried import carried_file, carried_for, post_sealed
from tests.support.keytools import Instance, put_back
from tests.support.threads import Team
from tests.support.web import Server, rows, slow_post

RECEIPT = re.compile(r'id="receipt">([^<]+)<')


def carry(url: str, data: bytes) -> requests.Response:
    """Send a carried file through the /sealed form, as a plain HTTP client."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(url + "/sealed", timeout=60).text).group(1)
    return http.post(url + "/sealed", files=[("csrf_token", (None, token)),
                                             ("sealed", ("r.sealed", data, "application/octet-stream"))], timeout=120)


def wait_serial(url: str, serial: int) -> None:
    """Wait until the live server serves keyring `serial`."""
    for _ in range(100):
        if requests.get(url + "/keyring.json", timeout=60).json()["serial"] == serial:
            return
        time.sleep(0.1)
    raise AssertionError(f"the server never served keyring {serial}")


@pytest.mark.slow
def test_grace_rewrap_retire_and_rollback(tmp_path):
    inst = Instance(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    keys = inst.setup("alice", "bob")
    server = Server(inst.env, tmp_path).start()
    try:
        first = inst.keyring()
        wait_serial(server.url, first.serial)
        old, _ = carried_for(first, inst.engine, files=[("a.bin", "application/octet-stream", b"a" * 1000)])
        stale, _ = carried_for(first, inst.engine)
        keys["carol"] = inst.reviewer("carol")  # a key added: the kit's keyring is older, all its keys still in use
        wait_serial(server.url, first.serial + 1)
        taken = carry(server.url, old)
        assert taken.status_code == 200, taken.text
        ref = RECEIPT.search(taken.text).group(1)
        carol = Team(inst, keys["carol"])
        assert carol.review("show", ref, check=False).returncode != 0  # not sealed to carol yet
        inst.run("keys", "rewrap", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw))
        assert "carried in" in carol.review("show", ref).stdout  # the next rewrap covers it

        second = inst.keyring()
        second_file = (tmp_path / "keys" / "keyring.json").read_bytes()
        middle, _ = carried_for(second, inst.engine)
        inst.admin("keys", "retire", "bob")
        wait_serial(server.url, first.serial + 2)
        before = rows(inst.engine)
        for data in (stale, middle):  # both sealed to bob's key, retired since
            refused = carry(server.url, data)
            assert refused.status_code == 409, refused.text
            assert "out of date" in refused.text
            assert "Get a new kit" in refused.text
        assert rows(inst.engine) == before

        saved = (tmp_path / "keys" / "keyring.json").read_bytes()
        put_back(tmp_path / "keys" / "keyring.json", second_file)
        time.sleep(0.2)
        served = requests.get(server.url + "/keyring.json", timeout=60)
        # never the old keyring put back: a worker that held the newest keeps it; one that had not loaded the newest
        # yet (two workers, each reading the file when asked) has none it may serve, and refuses (503)
        assert served.status_code in (200, 503), served.text
        assert served.status_code == 503 or served.json()["serial"] != second.serial
        kit = requests.get(server.url + f"/kit/intake-kit-{second.serial}.html", timeout=60)
        assert kit.status_code != 200  # a validly signed old keyring copied back never makes a kit
        put_back(tmp_path / "keys" / "keyring.json", saved)
    finally:
        server.stop()


def test_the_grace_period_ends(app, site):
    """A keyring replaced on day D is taken until D + INTAKE_KIT_DAYS, refused the day after; a future serial never."""
    with app.test_request_context():
        watch = app.extensions["intake"].keyring
        first = watch.current()
        data, _ = carried_file(site)
        site.add_reviewer()
        second = watch.current()
        assert second.serial == first.serial + 1
        assert kept(site.engine, first.signer, first.serial)[1] == today()
        ids = first.key_ids
        days = site.settings.kit_days
        check_kit_keys(site.engine, second, first.serial, ids, days, today() + dt.timedelta(days=days))
        with pytest.raises(ReportRefused, match="out of date"):
            check_kit_keys(site.engine, second, first.serial, ids, days, today() + dt.timedelta(days=days + 1))
        with pytest.raises(ReportRefused, match="other keys"):
            check_kit_keys(site.engine, second, first.serial, ids[:1], days)
        with pytest.raises(ReportRefused, match="newer than this site"):
            check_kit_keys(site.engine, second, second.serial + 1, second.key_ids, days)
        assert load_keyring(site.settings.keys_dir, site.settings.keyring_signer).serial == second.serial
    assert post_sealed(app.test_client(), data).status_code == 200


@pytest.mark.slow
def test_carried_file_spanning_retire_and_rewrap_is_refused(tmp_path):
    """A carried file still arriving when a key is retired and rewrap runs is refused as it commits (class 9):
    stored, it would stay open to the retired key that rewrap never saw. Sent again, it is out of date."""
    inst = Instance(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    keys = inst.setup("alice", "bob")
    server = Server({**inst.env, "INTAKE_WORKERS": "1"}, tmp_path).start()
    try:
        wait_serial(server.url, inst.keyring().serial)
        data, _ = carried_for(inst.keyring(), inst.engine, files=[("clip.mp4", "video/mp4", os.urandom(6 << 20))])
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          requests.get(server.url + "/sealed", timeout=60).text).group(1)
        values = MultiDict([("csrf_token", token),
                            ("sealed", FileStorage(io.BytesIO(data), "r.sealed", "application/octet-stream"))])
        before = rows(inst.engine)

        def retire() -> None:
            inst.admin("keys", "retire", "alice")
            inst.run("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw),
                     "--jobs", "1")

        status, text = slow_post(server, "/sealed", values, retire)
        assert status == 409, text
        assert "keys changed while this file was arriving" in text
        assert rows(inst.engine) == before
        again = carry(server.url, data)
        assert again.status_code == 409
        assert "out of date" in again.text
        assert rows(inst.engine) == before
    finally:
        server.stop()
