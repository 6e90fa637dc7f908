"""The offline kit, end to end (issue 23): saved from a real server, opened from file:// with every request
aborted, filled in Khmer with a phone's portrait photo carrying GPS; the sealed file carried in by a plain HTTP
client; the reviewer opens it with the real CLI and finds the photo cleaned but for its orientation; the reporter
checks back with the kit's codename, with and without JavaScript, and reads the reply."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import requests

from intake.crypto.carried import read_carried
from tests.support.browser import CHROMIUM_ARGS, Watched, open_thread
from tests.support.canary import new_canary
from tests.support.keytools import Instance
from tests.support.photos import CANARIES, STRUCTURES_BUT_EXIF, only_orientation, portrait_photo
from tests.support.threads import Team, check_nojs, texts
from tests.support.web import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RECEIPT = re.compile(r'id="receipt">([^<]+)<')


def save_kit(context, url: str, folder) -> tuple[str, bytes, object]:
    """Save the kit as a reporter does: the kit page's link, downloaded; its SHA-256 is the one the page shows."""
    page = context.new_page()
    page.goto(url + "/kit?lang=km")
    with page.expect_download() as download:
        page.click("#kit-link")
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    shown = page.inner_text("#kit-sha256")
    page.close()
    return shown, path.read_bytes(), path


def carry(url: str, data: bytes) -> requests.Response:
    """A second, separate client (plain HTTP, no browser) sends the file through the /sealed form."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(url + "/sealed", timeout=60).text).group(1)
    return http.post(url + "/sealed", files=[("csrf_token", (None, token)), ("website", (None, "")),
                                             ("sealed", ("report.sealed", data, "application/octet-stream"))],
                     timeout=120)


def test_kit_offline_round_trip(tmp_path):
    from playwright.sync_api import sync_playwright

    inst = Instance(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    keys = inst.setup("alice", "bob")
    description, reply = "ដ្រូនប៉ូលិសថតយើង " + new_canary("kit"), new_canary("reply")
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(portrait_photo())
    server = Server(inst.env, tmp_path).start()
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            online = chromium.new_context(accept_downloads=True)
            shown, kit, path = save_kit(online, server.url, tmp_path)
            assert path.name == f"intake-kit-{inst.keyring().serial}.html"
            assert len(kit) <= 600_000
            assert hashlib.sha256(kit).hexdigest() == shown
            assert requests.get(server.url + "/keyring.json", timeout=60).json()["kit"]["sha256"] == shown

            offline = chromium.new_context(accept_downloads=True)
            seen: list[str] = []
            offline.on("request", lambda r: seen.append(r.url))
            offline.route("**/*", lambda route: route.continue_() if route.request.url == path.as_uri()
                          else route.abort())
            watched = Watched(offline)
            page = watched.page
            page.goto(path.as_uri())
            page.wait_for_selector("html[data-sealing=ready]", timeout=30000)
            page.click("#languages button[data-lang=km]")
            page.wait_for_selector("html[lang=km] #report-form")
            assert page.inner_text("#fingerprint") == inst.keyring().fingerprint
            page.select_option("#incident_type", "drone")
            page.fill("#location", "ភ្នំពេញ")
            page.fill("#description", description)
            page.set_input_files("#attachments", str(photo))
            with page.expect_download() as download:
                page.click("#report-form button[type=submit]")
            sealed = tmp_path / "carried.sealed"
            download.value.save_as(sealed)
            assert download.value.suggested_filename == "report.sealed"
            page.wait_for_selector("#result-box:not([hidden])")
            codename = page.inner_text("#codename")
            assert re.fullmatch(r"\d{5}( \d{5}){4}", codename)
            left = page.evaluate("""async () => ({local: localStorage.length, session: sessionStorage.length,
                cookie: document.cookie, dbs: indexedDB.databases ? (await indexedDB.databases()).length : 0})""")
            assert left == {"local": 0, "session": 0, "cookie": "", "dbs": 0}
            watched.check()
            assert seen == [path.as_uri()]  # the kit itself, opened from the disk: no request of any kind
            offline.close()

            data = sealed.read_bytes()
            head, _ = read_carried(data)
            assert head.serial == inst.keyring().serial
            assert description.encode() not in data
            answer = carry(server.url, data)
            assert answer.status_code == 200, answer.text
            ref = RECEIPT.search(answer.text).group(1)
            again = carry(server.url, data)
            assert again.status_code == 200
            assert RECEIPT.search(again.text).group(1) == ref
            assert "had arrived already" in again.text

            team = Team(inst, keys["bob"])
            shown_case = json.loads(team.review("show", ref, "--json").stdout)
            assert shown_case["fields"]["description"] == description
            assert shown_case["fields"]["lang"] == "km"
            jpeg = shown_case["attachments"][0]
            assert jpeg["name"] == "IMG_0001.jpg"
            assert jpeg["sha256_ok"]
            assert jpeg["metadata"] == {}
            team.review("export", ref, "--out", str(tmp_path / "export"), "--keep-metadata")
            cleaned = (tmp_path / "export" / "IMG_0001.jpg").read_bytes()
            assert [c for c in CANARIES + STRUCTURES_BUT_EXIF if c in cleaned] == []
            assert only_orientation(cleaned) == 6  # cleaned in the kit, still upright
            team.reply(ref, reply)

            check = chromium.new_context()
            checking = Watched(check)
            open_thread(checking.page, server.url, codename)
            assert checking.page.inner_text("#thread .text") == reply
            checking.check()
            check.close()
            assert texts(check_nojs(requests.Session(), server.url, codename=codename).text) == [reply]
            chromium.close()
    finally:
        server.stop()
