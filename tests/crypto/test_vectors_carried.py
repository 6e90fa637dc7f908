"""The Python reader of carried files passes every carried vector (docs/format.md §13.4), fed whole and byte by byte."""

from __future__ import annotations

import hashlib
import json

import pytest

from intake.crypto.carried import CarriedParser, read_carried
from intake.crypto.envelope import parse_header
from intake.crypto.errors import CryptoError, by_expect
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from tests.support import VECTORS

FILES = sorted(VECTORS.glob("*.carried"))


def load(path):
    """The vector's `key: value` lines and its bytes."""
    head, data = path.read_bytes().split(b"\n\n", 1)
    return dict(line.split(": ", 1) for line in head.decode().splitlines()), data


def test_every_failure_of_13_2_has_a_vector() -> None:
    """Success, and each failure a carried file's reader reports."""
    kinds = {load(p)[0]["expect"] for p in FILES}
    assert kinds == {"success", "malformed envelope", "unsupported version", "truncated attachment"}
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_carried_vector(path) -> None:
    """A success vector reads to its serial and lookup and opens to its body and files; a failure fails as named."""
    values, data = load(path)
    if values["expect"] != "success":
        with pytest.raises(CryptoError) as caught:
            read_carried(data)
        assert type(caught.value) is by_expect(values["expect"]), str(caught.value)
        return
    head, streams = read_carried(data)
    assert (head.serial, head.lookup.hex()) == (int(values["serial"]), values["lookup"])
    report = open_report(head.header.raw, head.body, len(streams), [Identity.parse(values["identity"])])
    body = json.loads(report.body.to_json())
    assert body == json.loads(values["body"])
    files = [b"".join(report.attachment(i, [s], len(s))) for i, s in enumerate(streams)]
    assert [hashlib.sha256(f).hexdigest() for f in files] == [a["sha256"] for a in body["attachments"]]


@pytest.mark.parametrize("path", FILES[:2], ids=[p.stem for p in FILES[:2]])
def test_fed_a_byte_at_a_time(path) -> None:
    """The reader as the server uses it, fed as a slow connection delivers, gives the same streams."""
    data = load(path)[1]
    parser, streams = CarriedParser(len(data)), []
    for i in range(len(data)):
        for event in parser.feed(data[i:i + 1]):
            if event[0] == "stream":
                streams.append(b"")
            elif event[0] == "data":
                streams[event[1]] += event[2]
    head = parser.finish()
    assert parse_header(head.header.raw).version == 2
    assert streams == read_carried(data)[1]


def test_a_claim_is_refused_before_its_bytes_arrive() -> None:
    """Ten bytes cannot announce 2 GiB: the parser refuses at the length, with only the head read."""
    data = load(VECTORS / "118-carried-claim-2gib.carried")[1]
    parser = CarriedParser(len(data))
    events = []
    with pytest.raises(CryptoError, match="more than it can hold"):
        events.extend(parser.feed(data[:-10]))
    assert [e[0] for e in events] == ["head"]
