"""Red team rt-kit on carried files version 2 (format.md §13.1-13.2): a carrier holds the .sealed file, not the
codename. Ed25519 -> X25519 is two-to-one (a key and its negation share the X25519 form; small-order and torsion
keys are refused), so every signer that passes the sealer check is the file's own key or its negation, whose
secret the carrier lacks. Each forgery is refused by /sealed and the API with nothing stored or spent, and the
genuine file is then taken under the reporter's lookup."""

from __future__ import annotations

import io
import os
import struct

import nacl.bindings as sodium
import pytest
from sqlalchemy import select

from intake.crypto.carried import PREFIX, read_carried
from intake.crypto.codename import derive_keys
from intake.crypto.envelope import MAC_BYTES, _mac, header_length, stanza_count
from intake.crypto.errors import CarriedSignatureError
from intake.crypto.keys import Identity
from intake.crypto.kitsign import CarriedSigner, check_sealer
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.keys.keyring import load_keyring
from intake.storage.schema import carried_tombstones, case_lookups
from intake.storage.threads import case_by_lookup, salt, thread
from intake.web.guards import someone_elses
from tests.support.carried import api_begin, api_request, carried_file, counts, post_sealed, sealed_token
from tests.support.catalogs import catalog
from tests.support.nojs import post
from tests.support.threads import SEALED, form_token
from tests.support.web import b64, csrf_token, solve

THEIRS = bytes(range(32))
SMALL_ORDER = {  # Ed25519 encodings of points of order 1, 2, 4 and 8 (libsodium's blocklist), and all zeros
    "all zeros": bytes(32),
    "identity": bytes([1]) + bytes(31),
    "order 8": bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    "order 2": bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    "non-canonical identity": bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
}


def negated(key: bytes) -> bytes:
    """The same point with x negated: another Ed25519 key of the same X25519 form."""
    return key[:31] + bytes([key[31] ^ 0x80])


def with_signer(good: bytes, signer: bytes, signature: bytes, lookup: bytes = THEIRS) -> bytes:
    """The file with the carrier's lookup, signer and signature in its prefix."""
    return good[:17] + lookup + signer + signature + good[PREFIX:]


def signer_forgeries(good: bytes) -> dict[str, bytes]:
    """Signers a carrier can try: the negation (passes the sealer check), small-order and malformed keys."""
    head, _ = read_carried(good)
    out = {f"{name} signer": with_signer(good, key, os.urandom(64)) for name, key in SMALL_ORDER.items()}
    out["negated signer, fresh signature"] = with_signer(good, negated(head.signer), os.urandom(64))
    out["negated signer, the file's signature"] = with_signer(good, negated(head.signer), head.signature,
                                                              head.lookup)
    out["signer with high bit of y flipped"] = with_signer(good, head.signer[:31] + bytes([head.signer[31] ^ 0x40]),
                                                           head.signature, head.lookup)
    return out


def test_ed25519_to_x25519_is_two_to_one_and_the_negation_cannot_sign():
    """The negated key passes the sealer check (same X25519 form) but no signature made without the file's
    secret verifies under it; small-order keys never pass the sealer check."""
    signer = CarriedSigner.generate()
    stanza0 = signer.seal(os.urandom(32), sodium.crypto_box_keypair()[0])
    check_sealer(negated(signer.public), stanza0)
    for key in SMALL_ORDER.values():
        with pytest.raises(CarriedSignatureError):
            check_sealer(key, stanza0)
        with pytest.raises(CarriedSignatureError):
            check_sealer(key, bytes(32) + stanza0[32:])  # an all-zero ephemeral does not match either


def stanza0_span(header: bytes, stanza0: bytes) -> slice:
    at = header.index(stanza0)
    return slice(at, at + len(stanza0))


def mixed(site) -> dict[str, bytes]:
    """Two genuine files' parts combined: stanza 0 swapped, one file's prefix on the other's report."""
    a, b = carried_file(site)[0], carried_file(site)[0]
    ha, hb = read_carried(a)[0], read_carried(b)[0]
    sa, sb = stanza0_span(ha.header.raw, ha.header.stanzas[0][1]), stanza0_span(hb.header.raw, hb.header.stanzas[0][1])
    a_with_b0 = bytearray(ha.header.raw)
    a_with_b0[sa] = hb.header.raw[sb]
    return {
        "stanza 0 of B in A's header, A's prefix": a[:PREFIX] + bytes(a_with_b0) + a[PREFIX + len(ha.header.raw):],
        "stanza 0 of B in A's header, B's prefix": b[:PREFIX] + bytes(a_with_b0) + a[PREFIX + len(ha.header.raw):],
        "B's prefix (signer, signature, lookup) on A's report": b[:PREFIX] + a[PREFIX:],
        "B's signer and signature with A's lookup on A's report": a[:49] + b[49:PREFIX] + a[PREFIX:],
    }


def kit_header_as_version2(site) -> bytes:
    """A carrier's own report whose stanza 0 their signer sealed, its header re-MACed as version 2, signed."""
    keyring = load_keyring(site.settings.keys_dir, site.settings.keyring_signer)
    key, signer = os.urandom(32), CarriedSigner.generate()
    report = seal_report(keyring.recipients(), {"incident_type": "drone", "description": "x", "lang": "km"},
                         reply_key=str(Identity.generate().recipient), report_key=key, signer=signer)
    signed = bytearray(report.header[:-MAC_BYTES])
    signed[4] = 2
    header = bytes(signed) + _mac(key, bytes(signed))
    fields = bytes([2]) + struct.pack(">Q", keyring.serial) + THEIRS + signer.public
    prefix = b"INTKFILE" + fields + signer.sign(fields, header, report.body, [])
    assert len(prefix) == PREFIX
    return prefix + header + struct.pack(">I", len(report.body)) + report.body + b"\x00"


def all_forgeries(site, good: bytes) -> dict[str, bytes]:
    return {**signer_forgeries(good), **mixed(site), "own kit header lowered to 2": kit_header_as_version2(site)}


def test_signer_and_stanza_forgeries_are_refused_by_sealed(client, site):
    """Each: 400 "send the file the kit saved", nothing stored, no tombstone, the form token unspent; the genuine
    file then arrives under the reporter's lookup."""
    good, codename = carried_file(site, files=[("a.jpg", "image/jpeg", b"x" * 3000)])
    token = sealed_token(client)
    before = counts(site)
    for case, data in all_forgeries(site, good).items():
        answer = post_sealed(client, data, token)
        assert answer.status_code == 400, (case, answer.get_data(as_text=True)[-300:])
        assert "Send the file the kit saved, as it is" in answer.get_data(as_text=True), case
        assert counts(site) == before, case
    assert post_sealed(client, good, token).status_code == 200
    with site.engine.connect() as conn:
        assert conn.execute(select(case_lookups.c.lookup)).scalars().all() == [
            derive_keys(codename, salt(site.engine)).lookup]


def as_request(client, good: bytes, data: bytes) -> dict[str, object]:
    """The API begin request of a forged file without attachments, read without checks."""
    size = header_length(stanza_count(data[PREFIX:]))
    (body,) = struct.unpack(">I", data[PREFIX + size:PREFIX + size + 4])
    return api_request(client, good, keyring_serial=struct.unpack(">Q", data[9:17])[0], lookup=b64(data[17:49]),
                       signer=b64(data[49:81]), signature=b64(data[81:PREFIX]),
                       header=b64(data[PREFIX:PREFIX + size]), body=b64(data[PREFIX + size + 4:][:body]))


def test_signer_and_stanza_forgeries_are_refused_by_the_api(client, site):
    """The same forgeries as API carried requests: 400, the proof of work unspent; the genuine one is taken."""
    good, _ = carried_file(site)
    token = csrf_token(client)
    before = counts(site)
    for case, data in all_forgeries(site, good).items():
        answer = api_begin(client, data, as_request(client, good, data), token)
        assert answer.status_code == 400, (case, answer.get_json())
        assert "not a whole report file" in answer.get_data(as_text=True), case
        assert counts(site) == before, case
    assert api_begin(client, good, None, token).status_code == 201


def test_genuine_until_the_last_length_then_forged_leaves_nothing(client, site):
    """Without JavaScript: the first stream is genuine and stored as it arrives, the last length is forged (another
    valid sealed length, then that many bytes): 400 at that length, the first stream's parts, the arriving case and
    its carried id gone, no tombstone, the token unspent; the genuine file then arrives with the same token."""
    good, codename = carried_file(site, files=[("a.bin", "application/octet-stream", b"a" * 3000),
                                               ("b.bin", "application/octet-stream", b"b" * 70_000)])
    head, streams = read_carried(good)
    last_at = len(good) - len(streams[1]) - 8
    assert struct.unpack(">Q", good[last_at:last_at + 8])[0] == len(streams[1])
    forged = good[:last_at] + struct.pack(">Q", len(streams[0])) + streams[0]
    token = sealed_token(client)
    before = counts(site)
    answer = post_sealed(client, forged, token)
    assert answer.status_code == 400, answer.get_data(as_text=True)[-300:]
    assert counts(site) == before
    with site.engine.connect() as conn:
        assert conn.execute(select(carried_tombstones)).all() == []
    answer = post_sealed(client, good, token)
    assert answer.status_code == 200
    assert "arrived already" not in answer.get_data(as_text=True)
    with site.engine.connect() as conn:
        assert conn.execute(select(case_lookups.c.lookup)).scalars().all() == [
            derive_keys(codename, salt(site.engine)).lookup]


def test_a_carrier_who_squats_the_lookup_blocks_but_cannot_read_or_write_the_thread(client, site):
    """Two carriers: the hostile one reads the lookup in the file's first bytes and sends a report of their own,
    sealed and signed by their own kit key, under it first. It is stored (the server cannot tell); the genuine copy
    is then refused with a 4xx, nothing more stored; the reporter's codename finds a case it cannot open, and the
    carrier, who holds the lookup but not the codename, has no way into the thread (docs/web.md "What a carrier
    can do": a block, no more than dropping the file). The reporter's no-JS follow-ups were stored in the
    carrier's case (reviewers: WrongThread), though §12.4 refuses them: now a 409, nothing stored, on both paths,
    in words that say what happened and what to do (the API answered a 400 "reload the page and send it again")."""
    good, codename = carried_file(site, fields={"incident_type": "drone", "description": "the genuine one",
                                                "lang": "km"})
    squat, _ = carried_file(site, fields={"incident_type": "drone", "description": "the carrier's", "lang": "km"},
                            lookup=read_carried(good)[0].lookup)
    assert post_sealed(client, squat).status_code == 200
    before = counts(site)
    answer = post_sealed(client, good)
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)[-300:]
    assert counts(site) == before
    page = client.post("/check", data={"csrf_token": csrf_token(client), "codename": codename})
    assert page.status_code < 500
    assert "the carrier's" not in page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    assert "the genuine one" not in text
    before = counts(site)
    with client.application.test_request_context():
        words = {"en": str(someone_elses())}  # not "reload the page": the same codename seals to the same key
    words.update({lang: catalog(lang)[words["en"]] for lang in ("km", "my")})
    for lang, files in (("en", ()), ("km", [("a.txt", b"x" * 10, "text/plain")])):  # text alone, or with a file
        form = {"csrf_token": form_token(text), "sealed": SEALED.search(text).group(1), "message": "for the reviewers"}
        if files:
            form["attachments"] = [(io.BytesIO(d), n, t) for n, d, t in files]
        sent = post(client, form, f"/check?lang={lang}")
        assert sent.status_code == 409, sent.get_data(as_text=True)[-300:]  # broke: stored in the carrier's case
        assert words[lang] in sent.get_data(as_text=True)
        assert counts(site) == before
        assert thread(site.engine, case_by_lookup(site.engine, read_carried(good)[0].lookup)[0]) == []
    keys = derive_keys(codename, salt(site.engine))  # the page with JavaScript seals to the codename's reply key
    sealed = seal_message([i.recipient for i in site.identities], keys.identity.recipient, "reporter", "more")
    work = client.get("/api/v1/challenge").get_json()
    sent = client.post("/api/v1/thread/messages", headers={"X-CSRFToken": csrf_token(client), "Accept-Language": "my"},
                       json={"token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
                             "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"])})
    assert sent.status_code == 409, sent.get_data(as_text=True)  # a 400 was retried by the page, a new proof of work
    assert sent.get_json()["error"] == words["my"]
    assert counts(site) == before
