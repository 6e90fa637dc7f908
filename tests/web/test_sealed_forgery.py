"""A carrier's powers over a carried file (red team rt-kit, finding b; format.md §13.1-13.2): the lookup in the
file's first bytes is signed by the key that sealed its header's stanza 0, so a carrier who swaps in the lookup of
a codename of their own, signs again with a key of their own, lowers the header's version to send it as a page's
report, or sends it with an older kit's unsigned layout, is refused (nothing stored, nothing spent) by /sealed and
by the API alike; the genuine file is then taken with the reporter's lookup."""

from __future__ import annotations

import io
import random
import re
import struct

import pytest
from sqlalchemy import select

from intake.crypto.carried import FIELDS, PREFIX, carried_prefix, read_carried
from intake.crypto.codename import derive_keys
from intake.crypto.errors import DamagedAttachment, HeaderMacError
from intake.crypto.kitsign import CarriedSigner
from intake.crypto.message import open_message
from intake.storage.schema import case_lookups
from intake.storage.threads import case_by_lookup, salt, thread
from tests.support.carried import api_begin, api_request, carried_file, counts, post_sealed, sealed_token
from tests.support.nojs import post
from tests.support.threads import SEALED, form_token
from tests.support.web import b64, csrf_token, open_stored

THEIRS = bytes(range(32))  # the lookup of a codename the carrier made


def forgeries(good: bytes) -> dict[str, bytes]:
    """What a carrier can make of a genuine file without its keys."""
    head, _ = read_carried(good)
    lengths = [len(s) for s in read_carried(good)[1]]
    resigned = carried_prefix(head.serial, THEIRS, CarriedSigner.generate(), head.header.raw, head.body, lengths)
    streams_at = PREFIX + len(head.header.raw) + 4 + len(head.body)
    downgraded = bytearray(good)
    downgraded[PREFIX + 4] = 2
    return {
        "lookup swapped": good[:17] + THEIRS + good[49:],
        "lookup swapped and signed again": resigned + good[PREFIX:],
        "signer swapped": good[:49] + bytes(CarriedSigner.generate().public) + good[FIELDS[1]:],
        "signature zeroed": good[:FIELDS[1]] + bytes(64) + good[PREFIX:],
        "header downgraded to version 2": bytes(downgraded),
        "serial changed": good[:9] + struct.pack(">Q", head.serial + 1) + good[17:],
        "streams stripped": good[:streams_at] + b"\x00",
    }


def test_a_changed_prefix_is_refused_by_sealed(client, site):
    """Each forgery: a 400 that says to send the file as the kit saved it (a serial above the site's is refused as
    that first), nothing stored, the token unspent; the genuine file is then taken, under the reporter's lookup."""
    good, codename = carried_file(site, files=[("a.jpg", "image/jpeg", b"x" * 3000)])
    token = sealed_token(client)
    before = counts(site)
    for case, data in forgeries(good).items():
        answer = post_sealed(client, data, token)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400, (case, text[-400:])
        said = "newer than" if case == "serial changed" else "Send the file the kit saved, as it is"
        assert said in text, case
        assert counts(site) == before, case
    assert post_sealed(client, good, token).status_code == 200
    with site.engine.connect() as conn:
        assert conn.execute(select(case_lookups.c.lookup)).scalars().all() == [
            derive_keys(codename, salt(site.engine)).lookup]


def test_a_changed_prefix_is_refused_by_the_api(client, site):
    """The API's carried request: another lookup, serial or signer than the file's signature covers is a 400, the
    proof of work unspent; the genuine request is then taken."""
    good, _ = carried_file(site, files=[("a.bin", "application/octet-stream", b"q" * 1000)])
    request = api_request(client, good)
    token = csrf_token(client)
    other = read_carried(carried_file(site)[0])[0]
    before = counts(site)
    for changes in ({"lookup": b64(THEIRS)}, {"signer": b64(other.signer)}, {"signature": b64(other.signature)},
                    {"signer": b64(other.signer), "signature": b64(other.signature), "lookup": b64(other.lookup)},
                    {"signature": "AAAA"}, {"signer": 5}, {"lengths": []}):
        answer = api_begin(client, good, {**request, **changes}, token)
        assert answer.status_code == 400, (changes, answer.get_data(as_text=True))
        assert counts(site) == before, changes
    answer = api_begin(client, good, request, token)
    assert answer.status_code == 201, answer.get_data(as_text=True)


def test_a_kit_header_cannot_go_the_page_s_way(client, site):
    """The carrier takes header and body out of the file and sends them as a page's report with their own lookup:
    refused (version 3 is the kit's). Lowered to version 2, the server cannot tell, but the header no longer
    authenticates: the reviewers cannot open it, so the carrier holds a damaged case, not the reporter's thread."""
    good, _ = carried_file(site)
    request = {**api_request(client, good), "carried": False, "lookup": b64(THEIRS)}
    del request["signer"], request["signature"]
    answer = api_begin(client, good, request)
    assert answer.status_code == 400
    assert "offline kit" in answer.get_json()["error"]
    head, _ = read_carried(good)
    lowered = bytearray(head.header.raw)
    lowered[4] = 2
    answer = api_begin(client, good, {**api_request(client, good), "carried": False, "lookup": b64(THEIRS),
                                      "header": b64(bytes(lowered))})
    assert answer.status_code == 201
    with pytest.raises(HeaderMacError):
        open_stored(site.engine, answer.get_json()["ref"], site.identities)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_older_kit_s_file_is_refused_with_what_to_do(client, site):
    """A version 1 file (the unsigned 49-byte prefix of the first kit) and an API request without signer and
    signature: a 400 telling the reporter to get a new kit and seal again, in their language."""
    good, _ = carried_file(site)
    head, _ = read_carried(good)
    old = b"INTKFILE\x01" + struct.pack(">Q", head.serial) + head.lookup + good[PREFIX:]
    before = counts(site)
    answer = post_sealed(client, old)
    assert answer.status_code == 400
    assert "older kit" in answer.get_data(as_text=True)
    assert "Get a new kit" in answer.get_data(as_text=True)
    request = api_request(client, good)
    del request["signer"], request["signature"]
    answer = api_begin(client, good, request)
    assert answer.status_code == 400
    assert "Get a new kit" in answer.get_json()["error"]
    assert counts(site) == before
    form = {"csrf_token": sealed_token(client), "website": "", "sealed": [(io.BytesIO(old), "r.sealed", "x/y")]}
    km = post(client, form, "/sealed?lang=km")
    assert km.status_code == 400
    assert "ឧបករណ៍ចាស់" in km.get_data(as_text=True)  # "an older kit", in Khmer


def test_any_changed_byte_before_the_streams_is_refused(client, site):
    """Class 4: one byte changed anywhere in the prefix, header, body length or body (a seeded sample of 40
    places, the prefix's every field among them) is a 4xx, never a 5xx or a stored case; one changed in a stream
    is not signed and is stored, and the reviewers see that file damaged (a carrier can damage, not forge)."""
    rng = random.Random(23)
    good, _ = carried_file(site, files=[("a.bin", "application/octet-stream", b"s" * 2000)])
    head, _ = read_carried(good)
    streams_at = PREFIX + len(head.header.raw) + 4 + len(head.body) + 1
    places = [0, 8, 9, 16, 17, 48, 49, 80, 81, 144, 145, 149, 150] + rng.sample(range(151, streams_at), 27)
    token = sealed_token(client)
    before = counts(site)
    for at in places:
        changed = bytearray(good)
        changed[at] ^= 1 << rng.randrange(8)
        answer = post_sealed(client, bytes(changed), token)
        assert 400 <= answer.status_code < 500, (at, answer.status_code)
        assert counts(site) == before, at
    changed = bytearray(good)
    changed[streams_at + 8 + 100] ^= 0x40
    answer = post_sealed(client, bytes(changed), token)
    assert answer.status_code == 200
    ref = re.search(r'id="receipt">([^<]+)<', answer.get_data(as_text=True)).group(1)
    with pytest.raises(DamagedAttachment):
        open_stored(site.engine, ref, site.identities)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_reporter_of_a_kit_case_rereads_it_and_writes_to_its_thread(client, site):
    """A case carried in has a version 3 header: the reporter's codename (without JavaScript) reopens the report
    through the kit's stanza 0 and posts a follow-up, which the reviewers open as bound to the thread."""
    good, codename = carried_file(site, fields={"incident_type": "drone", "description": "seen at the bridge",
                                                "lang": "km"})
    assert post_sealed(client, good).status_code == 200
    page = client.post("/check", data={"csrf_token": csrf_token(client), "codename": codename})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "seen at the bridge" in text  # reopened with the reply identity (web/yours.py)
    sent = post(client, {"csrf_token": form_token(text), "sealed": SEALED.search(text).group(1),
                         "message": "the drone came back"}, "/check")
    assert sent.status_code == 200, sent.get_data(as_text=True)[-800:]
    keys = derive_keys(codename, salt(site.engine))
    stored = thread(site.engine, case_by_lookup(site.engine, keys.lookup)[0])
    assert len(stored) == 1
    opened = open_message(stored[0].header, stored[0].body, 0, site.identities[:1], keys.identity.recipient,
                          "reporter")
    assert opened.bound
    assert opened.body.text == "the drone came back"
