"""Red team (rt-kit) on issue 23: hostile carried files and requests not in the issue's list, each a clear 4xx with
nothing stored (never a 5xx), and the lookup/duplicate answers telling a carrier nothing it did not hold."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import re
import struct

import pytest

from intake.crypto.carried import PREFIX, read_carried
from tests.support.carried import carried_file, post_sealed, sealed_token
from tests.support.web import b64, csrf_token, rows, solve


def hostile_files(site) -> dict[str, bytes]:
    """Framing lies of every kind: stanza counts, body sizes, stream lengths, cut points."""
    good, _ = carried_file(site, files=[("a.jpg", "image/jpeg", b"x" * 70000)])
    head, streams = read_carried(good)
    h = PREFIX
    at = h + len(head.header.raw) + 4 + len(head.body)
    out = {
        "prefix only": good[:PREFIX],
        "prefix and magic": good[:PREFIX + 4],
        "stanza count 0": good[:h + 5] + b"\0" + good[h + 6:],
        "stanza count 255": good[:h + 5] + b"\xff" + good[h + 6:],
        "header version 9": good[:h + 4] + b"\x09" + good[h + 5:],
        "body length 0": good[:at - len(head.body) - 4] + struct.pack(">I", 0) + good[at:],
        "body length 2^32-1": good[:at - len(head.body) - 4] + b"\xff\xff\xff\xff" + good[at:],
        "stream length 0": good[:at] + b"\x01" + struct.pack(">Q", 0),
        "stream length 1": good[:at] + b"\x01" + struct.pack(">Q", 1) + b"x",
        "stream length 2^64-1": good[:at] + b"\x01" + struct.pack(">Q", (1 << 64) - 1) + b"x" * 10,
        "count 2 one stream": good[:at] + b"\x02" + good[at + 1:],
        "count 0 with a stream": good[:at] + b"\x00" + good[at + 1:],
        "cut inside a length": good[:at + 4],
        "serial 2^64-1": good[:9] + b"\xff" * 8 + good[17:],
        "serial 0": good[:9] + b"\0" * 8 + good[17:],
        "version 0": good[:8] + b"\0" + good[9:],
    }
    return out


def test_hostile_framings_are_refused_cleanly(client, site):
    """Every hostile framing: a 4xx that says what to do, no row, and the form token still takes a good file."""
    token = sealed_token(client)
    before = rows(site.engine)
    for case, data in hostile_files(site).items():
        answer = post_sealed(client, data, token)
        assert 400 <= answer.status_code < 500, (case, answer.status_code, answer.get_data(as_text=True)[-400:])
        assert rows(site.engine) == before, case
    good, _ = carried_file(site)
    assert post_sealed(client, good, token).status_code == 200


def test_zero_attachments_and_odd_names(client, site):
    """A report with no attachment and a file named with markup: stored, the name never echoed raw."""
    good, _ = carried_file(site)
    answer = post_sealed(client, good, name='<img src=x onerror=alert(1)>.sealed')
    assert answer.status_code == 200
    assert "<img src=x" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("serial", [1 << 63, (1 << 64) + 5, 2 ** 200, True, 1.0, None, [1]])
def test_api_carried_serial_shapes(client, site, serial):
    """The API's `keyring_serial` of every type and size: a 400, never a database overflow."""
    good, _ = carried_file(site)
    head, streams = read_carried(good)
    challenge = client.get("/api/v1/challenge").get_json()
    request = {"carried": True, "keyring_serial": serial, "header": b64(head.header.raw), "body": b64(head.body),
               "lengths": [], "lookup": b64(head.lookup), "website": "",
               "pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
    answer = client.post("/api/v1/reports", data=json.dumps(request), content_type="application/json",
                         headers={"X-CSRFToken": csrf_token(client)})
    assert answer.status_code == 400, answer.get_data(as_text=True)


def test_fifty_hosts_build_one_kit(site, monkeypatch):
    """Class 3 (issue 23 finding c): anyone chooses a request's Host header, so the kit is built from the configured
    address (INTAKE_PUBLIC_URL) and never from a Host. Fifty Host values, asked three times each for the kit page,
    the kit and /keyring.json (which every page fetches), build the kit once, and every kit names only the
    configured address."""
    from intake.web import create_app, kit

    application = create_app(dataclasses.replace(site.settings, public_url="https://report.example.org"))
    client = application.test_client()
    built = []
    render = kit._render
    monkeypatch.setattr(kit, "_render", lambda keyring: built.append(1) or render(keyring))
    kit._built.clear()
    name = client.get("/keyring.json").get_json()["kit"]["file"]
    kits = set()
    for _ in range(3):
        for n in range(50):
            host = {"Host": f"h{n}.attacker.example"}
            assert client.get("/keyring.json", headers=host).status_code == 200
            assert client.get("/kit", headers=host).status_code == 200
            kits.add(client.get(f"/kit/{name}", headers=host).data)
    assert len(built) == 1
    assert len(kits) == 1
    text = kits.pop().decode()
    packed = json.loads(re.search(r'id="kit-data">(.*?)</script>', text, re.S).group(1))["pages"]
    pages = gzip.decompress(base64.b64decode(packed)).decode()
    assert "https://report.example.org/sealed" in pages
    assert "attacker" not in text + pages
    application.extensions["intake"].engine.dispose()


@pytest.mark.parametrize(("value", "ok"), [("https://report.example.org", True), ("http://10.0.0.5:8000/", True),
                                           ("https://x.org/path", False), ("ftp://x.org", False),
                                           ("https://x.org\n<script>", False), ("x.org", False)])
def test_public_url_setting(value, ok):
    """INTAKE_PUBLIC_URL: scheme and host (and a port), nothing else; a bad value is refused with what to set."""
    from intake.settings import Settings, SettingsError

    env = {"INTAKE_PUBLIC_URL": value}
    if ok:
        assert Settings.from_env(env).site_url == value.rstrip("/")
    else:
        with pytest.raises(SettingsError, match="INTAKE_PUBLIC_URL must be"):
            Settings.from_env(env)
