"""Vectors 34-59: the strict body JSON of format.md §5.1 and the Padmé padding of §7.1 (used by generate.py)."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable

from intake.crypto.envelope import Body, ManifestEntry, attachment_key, open_header, padded_size, seal_body
from intake.crypto.keys import Identity
from intake.crypto.report import SealedReport, seal_report
from intake.crypto.stream import CHUNK, TAG_FINAL, padme, seal_stream

Write = Callable[..., None]


def _padded(data: bytes) -> bytes:
    """A body plaintext: json_length, the JSON, zero bytes up to P (§5)."""
    return struct.pack(">I", len(data)) + data + bytes(padded_size(len(data)) - 4 - len(data))


def strict_vectors(write: Write, envelope: Callable[..., bytes], authentic_body: Callable[[bytes, bytes], bytes],
                   raw_stream: Callable[..., bytes], pattern: Callable[[int], bytes], me: Identity,
                   fields: dict[str, str]) -> None:
    """Write vectors 34 to 59."""
    files = [("photo.jpg", "image/jpeg", pattern(100)), ("clip.mp4", "video/mp4", pattern(CHUNK - 1)),
             ("big.bin", "application/octet-stream", pattern(3 * CHUNK + 1000))]
    padded = seal_report([me.recipient], fields, [(n, t, [d]) for n, t, d in files])
    key = open_header(padded.header, [me]).report_key
    write("34-success-padded-attachments", "success", [me], envelope(padded),
          f"body version 2: 100, 65,535 and {3 * CHUNK + 1000} bytes padded to {padme(100)}, {padme(CHUNK - 1)} "
          f"and {padme(3 * CHUNK + 1000)} (§7.1)", Body(fields, _manifest(files)))

    data = pattern(100)
    v1_stream = b"".join(seal_stream(attachment_key(key, 0), [data]))
    v1_body = Body(fields, _manifest(files[:1]), None, 1)
    write("35-success-version-1-unpadded", "success", [me],
          envelope(padded, body=seal_body(key, v1_body), streams=[v1_stream]),
          "body version 1: the stream holds the file exactly, without padding", v1_body)

    one = SealedReport(padded.header, seal_body(key, Body(fields, _manifest(files[:1]))), padded.streams[:1])
    entry = json.dumps(_manifest(files[:1])[0].as_json())[:-1]
    deep = "[" * 14 + "]" * 14

    def raw(name: str, expect: str, text: str, comment: str, streams: list[bytes] | None = None,
            body: Body | None = None) -> None:
        sealed = authentic_body(key, _padded(text.encode()))
        write(name, expect, [me], envelope(one, body=sealed, streams=[padded.streams[0]] if streams is None
                                           else streams), comment, body)

    ok_fields = json.dumps(fields, ensure_ascii=False)
    raw("36-success-unknown-members", "success",
        f'{{"version":2,"fields":{ok_fields},"attachments":[{entry},"x-note":{{"a":[1,2]}}}}],"reply_key":null,'
        f'"x-future":{{"deep":{deep},"max":9007199254740991}}}}',
        "unknown members, one nested exactly 16 deep and one holding 2^53 - 1, are allowed and dropped",
        body=Body(fields, _manifest(files[:1])))
    raw("37-success-escaped-surrogate-pair", "success",
        '{"version":2,"fields":{"device":"camera \\ud83d\\udcf7"},"attachments":[],"reply_key":null}',
        "a surrogate pair written as escapes is one character, not a lone surrogate", [],
        Body({"device": "camera \U0001F4F7"}))

    write("38-damaged-attachment-padding-not-zero", "damaged attachment", [me],
          envelope(one, streams=[raw_stream(attachment_key(key, 0), [(data + b"\0\0\0\1", TAG_FINAL)])]),
          "body version 2, a padding byte of the stream is not zero")
    write("39-damaged-attachment-version-2-unpadded", "damaged attachment", [me],
          envelope(one, streams=[v1_stream]), "body version 2 but the stream holds the file without padding")
    write("40-damaged-attachment-version-1-padded", "damaged attachment", [me],
          envelope(padded, body=seal_body(key, v1_body), streams=[padded.streams[0]]),
          "body version 1 but the stream is padded")

    top = '"version":2,"fields":{"a":"b"},"attachments":[],"reply_key":null'
    none: list[bytes] = []
    raw("41-damaged-body-depth-17", "damaged body", "{" + top + ',"x":' + "[" * 16 + "]" * 16 + "}",
        "an unknown member nested 17 deep (the top object is depth 1)", none)
    raw("42-damaged-body-depth-100000", "damaged body", "{" + top + ',"x":' + "[" * 100000 + "]" * 100000 + "}",
        "100,000 arrays deep: refused without recursion", none)
    raw("43-damaged-body-duplicate-member", "damaged body", "{" + top + ',"fields":{"a":"c"}}',
        "the top object names `fields` twice", none)
    raw("44-damaged-body-duplicate-escaped-name", "damaged body", "{" + top + ',"reply_\\u006bey":null}',
        "`reply_key` twice, once written with an escape", none)
    raw("45-damaged-body-size-too-large", "damaged body",
        f'{{"version":2,"fields":{{}},"attachments":[{entry[:entry.index(""""size":""")]}"size":4294967297,'
        f'"sha256":"{hashlib.sha256(data).hexdigest()}"}}],"reply_key":null}}', "a size above 2^32")
    raw("46-damaged-body-lone-surrogate", "damaged body",
        '{"version":2,"fields":{"description":"x\\ud800y"},"attachments":[],"reply_key":null}',
        "a field value holds a lone high surrogate, as an escape", none)
    raw("47-damaged-body-lone-surrogate-name", "damaged body",
        '{"version":2,"fields":{"\\udc00":"x"},"attachments":[],"reply_key":null}',
        "a field name is a lone low surrogate", none)
    raw("48-damaged-body-reversed-surrogates", "damaged body",
        '{"version":2,"fields":{"a":"\\udc00\\ud800"},"attachments":[],"reply_key":null}',
        "a low then a high surrogate: two lone surrogates", none)
    raw("49-damaged-body-reply-key-number", "damaged body",
        '{"version":2,"fields":{"a":"b"},"attachments":[],"reply_key":1}', "`reply_key` is a number", none)
    raw("50-damaged-body-reply-key-space", "damaged body",
        f'{{"version":2,"fields":{{}},"attachments":[],"reply_key":" {me.recipient}"}}',
        "`reply_key` is a valid recipient with a space before it", none)
    raw("51-damaged-body-version-true", "damaged body",
        '{"version":true,"fields":{},"attachments":[],"reply_key":null}',
        "`version` is true, which some languages take for 1", none)
    raw("52-damaged-body-missing-reply-key", "damaged body", '{"version":2,"fields":{},"attachments":[]}',
        "`reply_key` is missing", none)
    raw("53-damaged-body-version-3", "damaged body", '{"version":3,"fields":{},"attachments":[],"reply_key":null}',
        "body version 3", none)
    for number, (name, value) in enumerate([("size-fraction", "100.0"), ("size-exponent", "1e2"),
                                            ("size-negative-zero", "-0")], 54):
        raw(f"{number}-damaged-body-{name}", "damaged body",
            f'{{"version":2,"fields":{{}},"attachments":[{entry[:entry.index(""""size":""")]}"size":{value},'
            f'"sha256":"{hashlib.sha256(data).hexdigest()}"}}],"reply_key":null}}',
            f"the size is written {value}: the right number, but not in plain digits")
    raw("57-damaged-body-nan", "damaged body", "{" + top + ',"x":NaN}', "an unknown member is NaN", none)
    raw("58-damaged-body-integer-too-large", "damaged body", "{" + top + ',"x":9007199254740992}',
        "an unknown member holds 2^53, which JavaScript cannot hold exactly", none)
    sealed = authentic_body(key, _padded(b"\xef\xbb\xbf{" + top.encode() + b"}"))
    write("59-damaged-body-byte-order-mark", "damaged body", [me], envelope(one, body=sealed, streams=none),
          "valid JSON after a UTF-8 byte order mark")


def _manifest(files: list[tuple[str, str, bytes]]) -> list[ManifestEntry]:
    return [ManifestEntry(n, t, len(d), hashlib.sha256(d).hexdigest()) for n, t, d in files]
