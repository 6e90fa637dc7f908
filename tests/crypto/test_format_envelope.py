"""docs/format.md §3-§5 and §8: derived keys, header, body and sealed report files."""

from __future__ import annotations

import hashlib
import io
import struct

import pytest

from intake.crypto.container import read_envelope, write_envelope
from intake.crypto.envelope import (
    BODY_SIZES,
    Body,
    ManifestEntry,
    derive,
    header_length,
    open_body,
    open_header,
    parse_header,
    rewrap_header,
    seal_body,
    seal_header,
)
from intake.crypto.errors import (
    DamagedBody,
    HeaderMacError,
    MalformedEnvelope,
    MalformedHeader,
    NoMatchingIdentity,
    UnsupportedVersion,
)
from intake.crypto.keys import Identity
from intake.crypto.report import seal_report

KEY = bytes(range(32))


def test_derive_is_libsodium_kdf_blake2b() -> None:
    """KDF(id, K) is BLAKE2b keyed with K, salt = LE64(id), personal = "intake01" (§3)."""
    expected = hashlib.blake2b(b"", digest_size=32, key=KEY, salt=struct.pack("<Q", 7) + bytes(8),
                               person=b"intake01" + bytes(8)).digest()
    assert derive(KEY, 7) == expected
    assert len({derive(KEY, i) for i in (1, 2, 16, 17, 47)}) == 5


def test_header_layout(identities) -> None:
    """magic, version, count, 96-byte stanzas, 32-byte MAC (§4)."""
    recipients = [i.recipient for i in identities]
    header = seal_header(KEY, recipients)
    assert header[:6] == b"INTK\x01\x03"
    assert len(header) == header_length(3) == 38 + 96 * 3
    assert parse_header(header).key_ids == [r.key_id for r in recipients]


@pytest.mark.parametrize("count", [1, 16])
def test_header_stanza_count_limits_accepted(count: int) -> None:
    """1 and 16 stanzas are allowed (§4 step 3)."""
    people = [Identity.generate() for _ in range(count)]
    header = seal_header(KEY, [p.recipient for p in people])
    assert open_header(header, [people[-1]]).report_key == KEY


def test_header_writer_refuses_17_recipients_and_duplicates() -> None:
    """A writer seals to 1..16 distinct recipients (§4)."""
    people = [Identity.generate().recipient for _ in range(17)]
    with pytest.raises(ValueError, match="1 to 16"):
        seal_header(KEY, people)
    with pytest.raises(ValueError, match="twice"):
        seal_header(KEY, [people[0], people[0]])


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda h: h[:5], MalformedHeader),
    (lambda h: b"XNTK" + h[4:], MalformedHeader),
    (lambda h: h[:4] + b"\x04" + h[5:], UnsupportedVersion),  # 2 is the reporter's stanza's header, 3 the kit's (§4.1)
    (lambda h: h[:4] + b"\x02\x01" + h[6:6 + 96] + h[-32:], MalformedHeader),  # version 2 needs a reviewer stanza
    (lambda h: h[:4] + b"\x00" + h[5:], UnsupportedVersion),
    (lambda h: h[:5] + b"\x00" + h[6:], MalformedHeader),
    (lambda h: h[:5] + b"\x11" + h[6:], MalformedHeader),
    (lambda h: h[:5] + b"\x02" + h[6:], MalformedHeader),
    (lambda h: h + b"\x00", MalformedHeader),
    (lambda h: h[:-1], MalformedHeader),
])
def test_header_parser_checks_in_order(identities, mutate, error) -> None:
    """Magic, then version, then count and exact length (§4 steps 1-3)."""
    header = seal_header(KEY, [identities[0].recipient])
    with pytest.raises(error):
        parse_header(mutate(header))


def test_header_duplicate_key_ids_refused(identities) -> None:
    """No two stanzas may carry the same key id (§4 step 4)."""
    header = bytearray(seal_header(KEY, [i.recipient for i in identities[:2]]))
    header[6 + 96:6 + 96 + 16] = header[6:6 + 16]
    with pytest.raises(MalformedHeader, match="same key id"):
        parse_header(bytes(header))


def test_open_header_outcomes(identities) -> None:
    """Steps 5-7: the right identity opens; a stranger gets no match; a bad MAC is caught."""
    header = seal_header(KEY, [i.recipient for i in identities[:2]])
    opened = open_header(header, [Identity.generate(), identities[1]])
    assert opened.report_key == KEY
    assert opened.key_id == identities[1].key_id
    with pytest.raises(NoMatchingIdentity):
        open_header(header, [identities[2]])
    with pytest.raises(HeaderMacError):
        open_header(header[:-1] + bytes([header[-1] ^ 0x80]), [identities[0]])


def test_open_header_does_not_try_foreign_stanzas(identities) -> None:
    """A stanza whose key id is not ours is never tried, even if it would open (§4 step 5)."""
    header = bytearray(seal_header(KEY, [identities[0].recipient]))
    header[6:22] = bytes(16)
    with pytest.raises(NoMatchingIdentity):
        open_header(bytes(header), [identities[0]])


def test_rewrap_keeps_key_and_changes_recipients(identities) -> None:
    """A rewrapped header carries the same K to exactly the new recipients (§4)."""
    old = seal_header(KEY, [identities[0].recipient])
    new = rewrap_header(open_header(old, [identities[0]]), [i.recipient for i in identities[1:]])
    assert open_header(new, [identities[2]]).report_key == KEY
    with pytest.raises(NoMatchingIdentity):
        open_header(new, [identities[0]])


@pytest.mark.parametrize(("json_length", "padded"), [(0, 1024), (1020, 1024), (1021, 2048), (70000, 131072),
                                                     ((1 << 20) - 4, 1 << 20)])
def test_body_padding_buckets(json_length: int, padded: int) -> None:
    """P is the smallest power of two >= 4 + length and >= 1 KiB (§5)."""
    from intake.crypto.envelope import padded_size
    assert padded_size(json_length) == padded


def test_body_over_one_mebibyte_refused() -> None:
    """A padded body may not exceed 1 MiB (§5)."""
    with pytest.raises(ValueError, match="too long"):
        seal_body(KEY, Body({"description": "x" * (1 << 20)}))


def test_body_sizes_are_the_allowed_set() -> None:
    """Every sealed body is 40 + P bytes (§5)."""
    for text in ("", "a" * 5000, "ខ" * 30000):
        assert len(seal_body(KEY, Body({"description": text}))) in BODY_SIZES


def test_body_round_trip_with_manifest_and_reply_key(identities) -> None:
    """Fields, manifest and reply key survive; unknown members are ignored (§5.1)."""
    entry = ManifestEntry("a.jpg", "image/jpeg", 3, "a" * 64)
    body = Body({"description": "ស្លាប"}, [entry], str(identities[0].recipient))
    assert open_body(KEY, seal_body(KEY, body), attachments=1) == body


@pytest.mark.parametrize("json_text", [
    b'{"version":2,"fields":{},"attachments":[]}',
    b'{"version":1,"fields":{"a":1},"attachments":[]}',
    b'{"version":1,"fields":{},"attachments":{}}',
    b'{"version":1,"fields":{},"attachments":[{"name":"a","type":"t","size":-1,"sha256":"' + b"a" * 64 + b'"}]}',
    b'{"version":1,"fields":{},"attachments":[{"name":"a","type":"t","size":1,"sha256":"xyz"}]}',
    b'{"version":1,"fields":{},"attachments":[{"name":"a","type":"t","size":true,"sha256":"' + b"a" * 64 + b'"}]}',
    b'{"version":1,"fields":{}}',
    b'[1,2]',
    b'\xff\xfe',
])
def test_body_shape_checked(json_text: bytes) -> None:
    """An authentic body of the wrong shape is a damaged body (§5)."""
    import nacl.bindings as sodium
    padded = struct.pack(">I", len(json_text)) + json_text
    padded += bytes(1024 - len(padded))
    nonce = bytes(24)
    sealed = nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, b"INTK\x01", nonce, derive(KEY, 2))
    with pytest.raises(DamagedBody):
        open_body(KEY, sealed)


def test_body_manifest_count_must_match_streams() -> None:
    """The manifest lists exactly the attachments the report carries (§5)."""
    with pytest.raises(DamagedBody, match="manifest"):
        open_body(KEY, seal_body(KEY, Body({})), attachments=1)


def test_body_under_other_key_or_ad_fails() -> None:
    """The body is bound to its key (§5)."""
    with pytest.raises(DamagedBody):
        open_body(bytes(32), seal_body(KEY, Body({})))


def envelope_bytes(report) -> bytes:
    """A sealed report as one file (§8)."""
    out = io.BytesIO()
    write_envelope(out, report.header, report.body, [(len(s), [s]) for s in report.streams])
    return out.getvalue()


def test_envelope_framing(identities) -> None:
    """header, u32 body length, body, u8 count, then u64-framed streams (§8)."""
    report = seal_report([identities[0].recipient], {"d": "x"}, [("a", "t", [b"abc"])])
    data = envelope_bytes(report)
    env = read_envelope(io.BytesIO(data))
    assert env.header == report.header
    assert env.body == report.body
    assert len(env.streams) == 1
    assert env.streams[0][1] == len(report.streams[0])
    with pytest.raises(MalformedEnvelope, match="after its last"):
        read_envelope(io.BytesIO(data + b"\x00"))
    for cut in (3, len(report.header) + 2, len(report.header) + 4 + len(report.body)):
        with pytest.raises(MalformedEnvelope):
            read_envelope(io.BytesIO(data[:cut]))
