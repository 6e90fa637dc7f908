"""Vectors 100-103: a manifest entry's `original_sha256` of format.md §5.1 (used by generate.py)."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable

from intake.crypto.envelope import Body, ManifestEntry, open_header, padded_size
from intake.crypto.keys import Identity
from intake.crypto.report import seal_report

Write = Callable[..., None]


def original_vectors(write: Write, envelope: Callable[..., bytes], authentic_body: Callable[[bytes, bytes], bytes],
                     pattern: Callable[[int], bytes], me: Identity, fields: dict[str, str]) -> None:
    """Write vectors 100 to 103: a cleaned photo's two hashes, and an `original_sha256` of the wrong shape."""
    cleaned, original = pattern(100), pattern(180)
    report = seal_report([me.recipient], fields, [("IMG_0001.jpg", "image/jpeg", [cleaned])])
    key = open_header(report.header, [me]).report_key
    entry = ManifestEntry("IMG_0001.jpg", "image/jpeg", len(cleaned), hashlib.sha256(cleaned).hexdigest(),
                          hashlib.sha256(original).hexdigest())

    def raw(name: str, expect: str, original_json: str, comment: str, body: Body | None = None) -> None:
        member = entry.as_json()
        member.pop("original_sha256")
        text = json.dumps({"version": 2, "fields": fields, "attachments": [member], "reply_key": None},
                          ensure_ascii=False, separators=(",", ":"))
        text = text.replace('"}],"reply_key"', f'",{original_json}}}],"reply_key"', 1) if original_json else text
        data = text.encode()
        padded = struct.pack(">I", len(data)) + data + bytes(padded_size(len(data)) - 4 - len(data))
        write(name, expect, [me], envelope(report, body=authentic_body(key, padded)), comment, body)

    raw("100-success-original-sha256", "success", f'"original_sha256":"{entry.original_sha256}"',
        "a cleaned photo: `sha256` of the 100 bytes sealed, `original_sha256` of the 180 bytes the reporter chose",
        Body(fields, [entry]))
    raw("101-damaged-body-original-sha256-upper-case", "damaged body",
        f'"original_sha256":"{entry.original_sha256.upper()}"', "`original_sha256` in upper-case hex digits")
    raw("102-damaged-body-original-sha256-null", "damaged body", '"original_sha256":null',
        "`original_sha256` is null: leave the member out when it is not known")
    raw("103-damaged-body-original-sha256-short", "damaged body",
        f'"original_sha256":"{entry.original_sha256[:63]}"', "`original_sha256` of 63 hex digits")
