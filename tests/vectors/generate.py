"""Make the language-neutral test vectors of docs/format.md in this folder.

Run `python tests/vectors/generate.py` from the repository root (`--new` writes only the vectors
that have no file yet, leaving the committed ones byte for byte; vectors 01-33 predate body version 2
and are kept so, as the version-1 cases that must still open; 92-96 are the reporter's stanza of §4.1; 100-103 the
`original_sha256` of §5.1). Every vector is a file of
`key: value` lines, a blank line, then a sealed report file (format.md §8), as bytes:

    expect: success | no match | header mac | malformed header | unsupported version |
            damaged body | damaged attachment | truncated attachment | malformed envelope
    identity: INTAKE-IDENTITY-1:...      (one or more; the opener tries them all at once)
    body: {...}                          (success only: the body JSON an opener must return)
    comment: what the vector tests

Sealing is random (sealed boxes use fresh ephemeral keys), so a new run writes new bytes
with the same meaning; the committed files are the vectors. Each failure is made from a
valid report the way an attacker or a broken disk would make it; where a failure needs an
authentic but wrong body or stream, it is sealed with the report key the generator holds.
"""

from __future__ import annotations

import io
import json
import struct
import sys
from pathlib import Path

import nacl.bindings as sodium

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from intake.crypto.codename import derive_keys  # noqa: E402
from intake.crypto.container import write_envelope  # noqa: E402
from intake.crypto.envelope import (  # noqa: E402
    BODY_AD,
    BODY_KEY_ID,
    Body,
    attachment_key,
    derive,
    open_body,
    open_header,
    seal_body,
)
from intake.crypto.keys import Identity  # noqa: E402
from intake.crypto.report import SealedReport, seal_report  # noqa: E402
from intake.crypto.stream import CHUNK, SEALED_CHUNK, TAG_FINAL, TAG_MESSAGE, seal_stream  # noqa: E402
from tests.vectors.generate_messages import CANON, grouped  # noqa: E402
from tests.vectors.originals import original_vectors  # noqa: E402
from tests.vectors.reporter import reporter_vectors  # noqa: E402
from tests.vectors.strict import strict_vectors  # noqa: E402

HERE = Path(__file__).resolve().parent
FIELDS = {"incident_type": "drone", "description": "A drone filmed the march at the river.", "location": "Phnom Penh"}
UNICODE = {"incident_type": "face_recognition", "description": "កាមេរ៉ា CCTV នៅផ្លូវ ကင်မရာ မျက်နှာ",
           "device": "white quadcopter \u2014 \U0001F4F7"}


def pattern(size: int) -> bytes:
    """Deterministic file content of `size` bytes."""
    return bytes((i * 31 + 7) % 251 for i in range(size))


def envelope(report: SealedReport, header: bytes | None = None, body: bytes | None = None,
             streams: list[bytes] | None = None) -> bytes:
    """Serialise a sealed report (§8), optionally with a replaced part."""
    out = io.BytesIO()
    chosen = list(report.streams if streams is None else streams)
    write_envelope(out, report.header if header is None else header, report.body if body is None else body,
                   [(len(s), [s]) for s in chosen])
    return out.getvalue()


def write(name: str, expect: str, identities: list[Identity], data: bytes, comment: str, body: Body | None = None) -> None:
    """Write one vector file."""
    lines = [f"expect: {expect}", *(f"identity: {i.text()}" for i in identities)]
    if body is not None:
        lines.append("body: " + json.dumps(json.loads(body.to_json()), ensure_ascii=False, separators=(",", ":")))
    lines.append(f"comment: {comment}")
    if "--new" in sys.argv and (HERE / f"{name}.vec").exists():
        return
    (HERE / f"{name}.vec").write_bytes("\n".join(lines).encode() + b"\n\n" + data)


def flip(data: bytes, at: int) -> bytes:
    """Flip the lowest bit of byte `at`."""
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def raw_stream(key: bytes, chunks: list[tuple[bytes, int]]) -> bytes:
    """Seal a stream with exactly the chunks and tags given, even non-canonical ones."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    out = [sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)]
    out += [sodium.crypto_secretstream_xchacha20poly1305_push(state, c, None, t) for c, t in chunks]
    return b"".join(out)


def authentic_body(report_key: bytes, padded: bytes) -> bytes:
    """Encrypt an arbitrary padded plaintext as a body, so that only its content is wrong."""
    nonce = bytes(24)
    return nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, BODY_AD, nonce, derive(report_key, BODY_KEY_ID))


def main() -> None:
    """Write every vector."""
    for old in HERE.glob("*.vec"):
        if "--new" not in sys.argv:
            old.unlink()
    ids = [Identity.generate() for _ in range(5)]
    stranger = Identity.generate()
    r1 = [ids[0].recipient]
    r3 = [i.recipient for i in ids[:3]]

    def ok(name: str, recipients: list, fields: dict, files: list, me: Identity, comment: str, reply: str | None = None) -> SealedReport:
        report = seal_report(recipients, fields, [(n, t, [d]) for n, t, d in files], reply)
        write(name, "success", [me], envelope(report), comment, _body(report, me))
        return report

    base = ok("01-success-one-recipient", r1, FIELDS, [], ids[0], "one recipient, no attachment")
    three = ok("02-success-three-recipients", r3, FIELDS, [], ids[2], "three recipients, opened by the third")
    ok("03-success-five-recipients", [i.recipient for i in ids], FIELDS, [("a.txt", "text/plain", b"x")], ids[4],
       "five recipients, a one-byte attachment")
    ok("04-success-empty-attachment", r1, FIELDS, [("empty.bin", "application/octet-stream", b"")], ids[0],
       "an empty attachment is one empty final chunk")
    multi = ok("05-success-multi-chunk", r3, FIELDS, [("clip.mp4", "video/mp4", pattern(3 * CHUNK + 1000))], ids[1],
               "an attachment of four chunks")
    ok("06-success-exact-chunk", r1, FIELDS, [("b.bin", "application/octet-stream", pattern(CHUNK))], ids[0],
       "65,536 bytes: one full chunk and an empty final chunk")
    ok("07-success-unicode-reply-key", r3, UNICODE, [("ရုပ်ပုံ.jpg", "image/jpeg", pattern(10)),
                                                     ("two.png", "image/png", pattern(CHUNK + 1))], ids[0],
       "Khmer, Burmese and emoji fields, two attachments, a reply key", reply=str(stranger.recipient))
    ok("08-success-large-body", r1, {"description": "d" * 20000 + "ខ្មែរ" * 1000}, [], ids[0],
       "a body padded to 32 KiB")
    write("09-success-two-identities", "success", [stranger, ids[0]], envelope(base), "the opener holds two identities",
          _body(base, ids[0]))

    write("10-no-match", "no match", [stranger], envelope(three), "sealed to three others")
    h = bytearray(base.header); h[0:4] = b"INTX"
    write("11-malformed-header-magic", "malformed header", [ids[0]], envelope(base, bytes(h)), "wrong magic")
    h = bytearray(base.header); h[4] = 4
    write("12-unsupported-version", "unsupported version", [ids[0]], envelope(base, bytes(h)),
          "version 4 (2 is the header with a reporter's stanza, 3 the offline kit's, format.md §4.1)")
    h = bytearray(base.header[:6]); h[5] = 0
    write("13-malformed-header-no-stanza", "malformed header", [ids[0]], envelope(base, bytes(h) + base.header[-32:]),
          "zero stanzas")
    h3 = bytearray(three.header); h3[6 + 96:6 + 96 + 16] = h3[6:6 + 16]
    write("14-malformed-header-duplicate-key-id", "malformed header", [ids[0]], envelope(three, bytes(h3)),
          "two stanzas with the same key id")
    write("15-header-mac-flipped", "header mac", [ids[0]], envelope(base, flip(base.header, len(base.header) - 1)),
          "the last MAC byte flipped")
    dropped = three.header[:5] + bytes([2]) + three.header[6:6 + 96] + three.header[6 + 192:]
    write("16-header-mac-stanza-removed", "header mac", [ids[0]], envelope(three, dropped),
          "the third stanza removed and the count fixed")
    swapped = three.header[:6] + three.header[6 + 96:6 + 192] + three.header[6:6 + 96] + three.header[6 + 192:]
    write("17-header-mac-stanzas-reordered", "header mac", [ids[0]], envelope(three, swapped), "stanzas 1 and 2 swapped")
    write("18-header-mac-stanza-damaged", "header mac", [ids[0]], envelope(base, flip(base.header, 6 + 16 + 40)),
          "the opener's own sealed key damaged")

    key = _key(base, ids[0])
    write("19-damaged-body-flipped", "damaged body", [ids[0]], envelope(base, body=flip(base.body, 100)),
          "a body ciphertext byte flipped")
    write("20-damaged-body-size", "damaged body", [ids[0]], envelope(base, body=base.body[:-1]),
          "a body one byte short of a padded size")
    good = Body(FIELDS).to_json()
    padded = struct.pack(">I", len(good)) + good + b"\x01" + bytes(1024 - 5 - len(good))
    write("21-damaged-body-padding", "damaged body", [ids[0]], envelope(base, body=authentic_body(key, padded)),
          "authentic body with a non-zero padding byte")
    junk = b"not json at all"
    write("22-damaged-body-json", "damaged body", [ids[0]],
          envelope(base, body=authentic_body(key, struct.pack(">I", len(junk)) + junk + bytes(1024 - 4 - len(junk)))),
          "authentic body that is not JSON")
    write("23-damaged-body-manifest-count", "damaged body", [ids[0]], envelope(base, streams=[multi.streams[0]]),
          "the manifest lists no attachment but the report carries one")

    mkey = _key(multi, ids[1])
    stream = multi.streams[0]
    write("24-damaged-attachment-flipped", "damaged attachment", [ids[1]],
          envelope(multi, streams=[flip(stream, 24 + SEALED_CHUNK + 5)]), "a byte of the second chunk flipped")
    c = [stream[24 + i * SEALED_CHUNK:24 + (i + 1) * SEALED_CHUNK] for i in range(3)]
    write("25-damaged-attachment-reordered", "damaged attachment", [ids[1]],
          envelope(multi, streams=[stream[:24] + c[1] + c[0] + c[2] + stream[24 + 3 * SEALED_CHUNK:]]),
          "chunks 1 and 2 swapped")
    write("26-truncated-attachment-no-final", "truncated attachment", [ids[1]],
          envelope(multi, streams=[stream[:24 + 3 * SEALED_CHUNK]]), "the final chunk dropped, length fixed")
    whole = envelope(multi)
    write("27-truncated-attachment-file-cut", "truncated attachment", [ids[1]], whole[:-100],
          "the file cut 100 bytes before its end")
    data = pattern(3 * CHUNK + 1000)
    early = raw_stream(attachment_key(mkey, 0), [(data[:CHUNK], TAG_MESSAGE), (data[CHUNK:2 * CHUNK], TAG_FINAL),
                                                 (data[2 * CHUNK:3 * CHUNK], TAG_MESSAGE), (data[3 * CHUNK:], TAG_FINAL)])
    write("28-damaged-attachment-early-final", "damaged attachment", [ids[1]], envelope(multi, streams=[early]),
          "a full chunk in the middle carries TAG_FINAL")
    other = b"".join(seal_stream(attachment_key(mkey, 0), [pattern(3 * CHUNK + 999) + b"\x00"]))
    write("29-damaged-attachment-sha256", "damaged attachment", [ids[1]], envelope(multi, streams=[other]),
          "an authentic stream whose SHA-256 differs from the manifest")
    write("30-malformed-envelope-trailing", "malformed envelope", [ids[0]], envelope(base) + b"\x00",
          "a byte after the last attachment")
    e = envelope(base)
    write("31-malformed-envelope-count", "malformed envelope", [ids[0]], e[:-1] + bytes([33]), "33 attachments")
    write("32-malformed-envelope-cut-header", "malformed envelope", [ids[0]], e[:50], "the file ends inside the header")
    write("33-damaged-body-reply-key", "damaged body", [ids[0]], envelope(base, body=seal_body(key, Body(
        FIELDS, [], "intake-recipient-1:" + "A" * 43))), "authentic body whose reply key is all zeros")
    strict_vectors(write, envelope, authentic_body, raw_stream, pattern, ids[0], FIELDS)
    reporter_vectors(write, envelope, FIELDS, derive_keys(grouped(CANON), bytes(16)).identity)
    original_vectors(write, envelope, authentic_body, pattern, ids[0], FIELDS)
    print(f"wrote {len(list(HERE.glob('*.vec')))} vectors to {HERE}")


def _key(report: SealedReport, me: Identity) -> bytes:
    """The report key, opened with `me`."""
    return open_header(report.header, [me]).report_key


def _body(report: SealedReport, me: Identity) -> Body:
    """The opened body, for a success vector's `body:` line."""
    return open_body(_key(report, me), report.body)


if __name__ == "__main__":
    main()
