"""Make the carried-file vectors of docs/format.md §13.4 in this folder (`--new`: only missing files).

Version 2 files (§13.1, signed by the key that sealed stanza 0 of their version 3 header); 122 is a version 1 file,
as the kit wrote them before the prefix was signed, which readers refuse.

Run `python tests/vectors/carried.py` from the repository root. Each vector is a file of `key: value`
lines (expect, identity, serial, lookup, body for a success, comment), a blank line, then a carried file.
"""

from __future__ import annotations

import io
import json
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from intake.crypto.carried import carried_prefix, write_carried  # noqa: E402
from intake.crypto.codename import derive_keys  # noqa: E402
from intake.crypto.envelope import open_body, open_header  # noqa: E402
from intake.crypto.keys import Identity  # noqa: E402
from intake.crypto.kitsign import CarriedSigner  # noqa: E402
from intake.crypto.report import seal_report  # noqa: E402
from intake.crypto.stream import CHUNK  # noqa: E402
from tests.vectors.generate_messages import CANON, grouped  # noqa: E402

HERE = Path(__file__).resolve().parent
FIELDS = {"incident_type": "drone", "description": "ដ្រូនថតការដើរក្បួន។", "lang": "km", "province": "KH-12"}
SERIAL = 7


def pattern(size: int) -> bytes:
    """Deterministic file content of `size` bytes."""
    return bytes((i * 31 + 7) % 251 for i in range(size))


def write(name: str, expect: str, me: Identity, lookup: bytes, data: bytes, comment: str, body: object = None) -> None:
    """Write one vector file."""
    path = HERE / f"{name}.carried"
    if "--new" in sys.argv and path.exists():
        return
    lines = [f"expect: {expect}", f"identity: {me.text()}", f"serial: {SERIAL}", f"lookup: {lookup.hex()}"]
    if body is not None:
        lines.append("body: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    lines.append(f"comment: {comment}")
    path.write_bytes("\n".join(lines).encode() + b"\n\n" + data)


def main() -> None:
    """Write every carried vector."""
    team = [Identity.generate() for _ in range(2)]
    keys = derive_keys(grouped(CANON), bytes(16))
    def sealed(size: int) -> tuple:
        signer = CarriedSigner.generate()
        report = seal_report([t.recipient for t in team], FIELDS, [("IMG_0001.jpg", "image/jpeg", [pattern(size)])],
                             reply_key=str(keys.identity.recipient), signer=signer)
        out = io.BytesIO()
        write_carried(out, SERIAL, keys.lookup, signer, report.header, report.body,
                      [(len(s), [s]) for s in report.streams])
        return report, out.getvalue()

    big, data = sealed(CHUNK + 100)
    write("110-carried-success", "success", team[1], keys.lookup, data,
          "a report with the reporter's stanza and one photo of two chunks, carried with its serial and lookup",
          json.loads(open_body(open_header(big.header, [team[0]]).report_key, big.body).to_json()))
    report, good = sealed(1000)
    signer = CarriedSigner.generate()
    empty = seal_report([t.recipient for t in team], FIELDS, reply_key=str(keys.identity.recipient), signer=signer)
    out = io.BytesIO()
    write_carried(out, SERIAL, keys.lookup, signer, empty.header, empty.body, [])
    write("111-carried-success-no-files", "success", team[0], keys.lookup, out.getvalue(), "no attachment (count 0)",
          json.loads(open_body(open_header(empty.header, [team[0]]).report_key, empty.body).to_json()))
    write("112-carried-malformed-magic", "malformed envelope", team[0], keys.lookup, b"INTKFILX" + good[8:],
          "the magic is not INTKFILE")
    write("113-carried-unsupported-version", "unsupported version", team[0], keys.lookup,
          good[:8] + b"\x03" + good[9:], "carried file version 3")
    write("114-carried-cut-lookup", "malformed envelope", team[0], keys.lookup, good[:30],
          "the file ends inside the lookup")
    write("115-carried-trailing-byte", "malformed envelope", team[0], keys.lookup, good + b"\x00",
          "a byte after the last stream")
    prefix = len(carried_prefix(SERIAL, keys.lookup, signer, empty.header, empty.body, []))
    at = prefix + len(report.header) + 4 + len(report.body)
    write("116-carried-count-33", "malformed envelope", team[0], keys.lookup, good[:at] + bytes([33]) + good[at + 1:],
          "a count of 33 attachments")
    write("117-carried-truncated-stream", "truncated attachment", team[0], keys.lookup, good[:-10],
          "the last stream is 10 bytes short")
    claim = good[:at] + b"\x01" + struct.pack(">Q", 2 << 30) + b"0123456789"
    write("118-carried-claim-2gib", "truncated attachment", team[0], keys.lookup, claim,
          "a stream that declares 2 GiB, followed by 10 bytes")
    bad_body = good[:at - len(report.body) - 4] + struct.pack(">I", 1000) + good[at - len(report.body):]
    write("119-carried-body-size", "malformed envelope", team[0], keys.lookup, bad_body,
          "a body length that no padded body has (§5)")
    forgeries(team[0], keys.lookup, report, good, prefix)
    print(f"wrote {len(list(HERE.glob('*.carried')))} carried vectors to {HERE}")


def forgeries(me: Identity, lookup: bytes, report, good: bytes, prefix: int) -> None:
    """A carrier's changes to a good file (§13.2 step 6), and the unsigned version 1 layout."""
    theirs = bytes(range(32))
    write("120-carried-swapped-lookup", "carried signature", me, theirs, good[:17] + theirs + good[49:],
          "the carrier put the lookup of a codename of their own in place of the reporter's")
    resigned = carried_prefix(SERIAL, theirs, CarriedSigner.generate(), report.header, report.body,
                              [len(s) for s in report.streams])
    write("121-carried-resigned", "carried signature", me, theirs, resigned + good[prefix:],
          "the lookup swapped and the prefix signed again by the carrier's own key: not the key that sealed stanza 0")
    write("122-carried-version-1", "unsupported version", me, lookup,
          b"INTKFILE\x01" + struct.pack(">Q", SERIAL) + lookup + good[prefix:],
          "the unsigned 49-byte prefix of the first kit (§13.1 version 1): refused, the reporter gets a new kit")
    downgraded = bytearray(good)
    downgraded[prefix + 4] = 2
    write("123-carried-header-version-2", "carried signature", me, lookup, bytes(downgraded),
          "the header's version byte set to 2, as if the page had sealed it (the file cannot be sent as a page's)")
    write("124-carried-swapped-serial", "carried signature", me, lookup,
          good[:9] + struct.pack(">Q", SERIAL - 1) + good[17:], "another keyring serial than the one signed")
    streams_at = prefix + len(report.header) + 4 + len(report.body)
    write("125-carried-streams-stripped", "carried signature", me, lookup, good[:streams_at] + b"\x00",
          "the attachment count set to 0 and the streams left out (the signature covers count and lengths)")


if __name__ == "__main__":
    main()
