"""Bad carried files at POST /sealed and at the API with `carried` (issue 23, "Bad input"): each a 4xx that says
what to do, with nothing stored and nothing spent (the same form token, the same proof of work, then take a good
file); a file stored once however often it is sent; a keyring from the future or for other keys refused."""

from __future__ import annotations

import io
import re
import struct

import pytest

from intake.crypto.carried import PREFIX, read_carried
from intake.crypto.keys import Identity
from tests.support.carried import api_begin, api_request, carried_file, counts, post_sealed, sealed_token
from tests.support.web import csrf_token


def bad_files(site) -> dict[str, tuple[bytes, str]]:
    """Each bad file of the issue, with a word its refusal must say."""
    good, _ = carried_file(site, files=[("a.jpg", "image/jpeg", b"x" * 70000)])
    head, streams = read_carried(good)
    at = PREFIX + len(head.header.raw) + 4 + len(head.body)
    serial = head.serial
    other, _ = carried_file(site, recipients=[Identity.generate().recipient])
    future, _ = carried_file(site, serial=serial + 1)
    return {
        "bytes after the last stream": (carried_file(site)[0] + b"\0", "not a whole report file"),
        "count over 32": (good[:at] + bytes([33]) + good[at + 1:], "not a whole report file"),
        "truncated stream": (good[:-100], "not a whole report file"),
        "header for other keys": (other, "other keys"),
        "keyring serial from the future": (future, "newer than this site"),
        "2 GiB claim in 10 bytes": (good[:at] + b"\x01" + struct.pack(">Q", 2 << 30) + b"0123456789",
                                    "not a whole report file"),
        "not a carried file": (b"GIF89a" + bytes(200), "not a whole report file"),
        "empty file": (b"", "not a whole report file"),
    }


def test_every_bad_file_is_refused_and_spends_nothing(client, site):
    """Each refusal is a 400 that says what to do, stores no row and leaves the form token usable."""
    token = sealed_token(client)
    before = counts(site)
    for case, (data, word) in bad_files(site).items():
        answer = post_sealed(client, data, token)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400, (case, text[-500:])
        assert word in text, (case, text[-800:])
        assert counts(site) == before, case
    good, _ = carried_file(site)
    assert post_sealed(client, good, token).status_code == 200  # nothing was spent: the token still works


@pytest.mark.parametrize(("shape", "word"), [("other name", "Choose the report file"),
                                             ("two files", "one report file at a time"),
                                             ("no file", "Choose the report file")])
def test_wrong_body_shapes(client, site, shape, word):
    """A form without the file, with it under another name, or with two files: a 400 that says what to send."""
    from tests.support.nojs import post

    good = carried_file(site)[0]
    file = (io.BytesIO(good), "x.sealed", "application/octet-stream")
    form = {"other name": {"file": [file]}, "no file": {},
            "two files": {"sealed": [file, (io.BytesIO(good), "y.sealed", "application/octet-stream")]}}[shape]
    before = counts(site)
    answer = post(client, {"csrf_token": sealed_token(client), "website": "", **form}, "/sealed")
    assert answer.status_code == 400
    assert word in answer.get_data(as_text=True)
    assert counts(site) == before


def test_no_token_and_urlencoded_bodies_are_refused(client, site):
    """Without the form token, or as a plain form, nothing is read past the head."""
    good, _ = carried_file(site)
    assert post_sealed(client, good, "forged").status_code == 400
    plain = client.post("/sealed", data={"csrf_token": sealed_token(client), "sealed": "INTKFILE"})
    assert plain.status_code == 400
    assert counts(site)["cases"] == 0


def test_the_same_file_is_stored_once_by_either_path(client, site):
    """Posted twice without JavaScript, then sent through the API: one case; each answer says it arrived before."""
    data, _ = carried_file(site)
    first = post_sealed(client, data)
    second = post_sealed(client, data)
    assert first.status_code == second.status_code == 200
    assert "had arrived already" in second.get_data(as_text=True)
    assert "had arrived already" not in first.get_data(as_text=True)
    answer = api_begin(client, data)
    assert answer.status_code == 200
    assert answer.get_json()["new"] is False
    assert counts(site)["cases"] == 1


def test_api_refusals_spend_no_work(client, site):
    """Through the API: a future serial, other keys, no lookup, a lie about the serial: refused, the work unspent."""
    good, _ = carried_file(site)
    request = api_request(client, good)
    other, _ = carried_file(site, recipients=[Identity.generate().recipient])
    token = csrf_token(client)
    before = counts(site)
    for changes, status in [({"keyring_serial": 99}, 400), ({"keyring_serial": -1}, 400),
                            ({"keyring_serial": "1"}, 400), ({"lookup": None}, 400),
                            ({"header": api_request(client, other)["header"]}, 400)]:
        answer = api_begin(client, good, {**request, **changes}, token)
        assert answer.status_code == status, (changes, answer.get_data(as_text=True))
        assert len(answer.get_json()["error"]) > 20
        assert counts(site) == before, changes
    answer = api_begin(client, good, request, token)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["new"] is True


def test_checking_back_before_the_file_arrives_is_a_wrong_codename(client, site):
    """Before the file arrives, its codename gets exactly the answer a wrong codename gets; after, the thread."""
    data, codename = carried_file(site)

    def check(typed: str) -> str:
        page = client.get("/check").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = client.post("/check", data={"csrf_token": token, "codename": typed})
        return re.sub(r'name="(csrf_token|sealed)" value="[^"]+"', "", answer.get_data(as_text=True))

    early, wrong = check(codename), check("12345 12345 12345 12345 12345")
    assert early == wrong
    assert post_sealed(client, data).status_code == 200
    assert check(codename) != wrong
