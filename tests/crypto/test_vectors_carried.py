"""The Python reader of carried files passes every carried vector (docs/format.md §13.4), fed whole and byte by byte."""

from __future__ import annotations

import hashlib
import json

import nacl.bindings
import pytest

from intake.crypto.carried import CarriedParser, read_carried
from intake.crypto.codename import derive_keys
from intake.crypto.envelope import open_header, parse_header, rewrap_header
from intake.crypto.errors import CryptoError, by_expect
from intake.crypto.keys import Identity
from intake.crypto.kitsign import EPHEMERAL_BYTES
from intake.crypto.report import open_report
from tests.support import VECTORS
from tests.vectors.generate_messages import CANON, grouped

FILES = sorted(VECTORS.glob("*.carried"))


def load(path):
    """The vector's `key: value` lines and its bytes."""
    head, data = path.read_bytes().split(b"\n\n", 1)
    return dict(line.split(": ", 1) for line in head.decode().splitlines()), data


def test_every_failure_of_13_2_has_a_vector() -> None:
    """Success, and each failure a carried file's reader reports."""
    kinds = {load(p)[0]["expect"] for p in FILES}
    assert kinds == {"success", "malformed envelope", "unsupported version", "truncated attachment",
                     "carried signature"}
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
    assert parse_header(head.header.raw).version == 3
    assert streams == read_carried(data)[1]


def test_a_claim_is_refused_before_its_bytes_arrive() -> None:
    """Ten bytes cannot announce 2 GiB: the parser refuses at the length, with only the head read."""
    data = load(VECTORS / "118-carried-claim-2gib.carried")[1]
    parser = CarriedParser(len(data))
    events = []
    with pytest.raises(CryptoError, match="more than it can hold"):
        events.extend(parser.feed(data[:-10]))
    assert [e[0] for e in events] == ["head"]


def test_13_1_stanza_0_sealed_by_the_signer_opens_for_the_reporter() -> None:
    """§13.1: stanza 0, sealed with the signer's X25519 form as its ephemeral key, is an ordinary sealed box: the
    reporter's reply identity opens the report (as /check does), and its ephemeral key is the signer's."""

    head, streams = read_carried(load(VECTORS / "110-carried-success.carried")[1])
    reporter = derive_keys(grouped(CANON), bytes(16)).identity
    report = open_report(head.header.raw, head.body, len(streams), [reporter])
    assert report.opened.key_id == reporter.key_id == head.header.reporter
    ephemeral = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(head.signer)
    assert head.header.stanzas[0][1][:EPHEMERAL_BYTES] == ephemeral


def test_13_1_rewrap_keeps_the_kit_s_stanza() -> None:
    """A rewrap of a version 3 header keeps its version and stanza 0 byte for byte (§4.1), so the reporter still
    opens it; the file's signature was checked on arrival and is not needed again."""
    values, data = load(VECTORS / "111-carried-success-no-files.carried")
    head, _ = read_carried(data)
    me = Identity.parse(values["identity"])
    new = Identity.generate()
    rewrapped = parse_header(rewrap_header(open_header(head.header.raw, [me]), [me.recipient, new.recipient]))
    assert rewrapped.version == 3
    assert rewrapped.raw[6:102] == head.header.raw[6:102]
    assert open_header(rewrapped.raw, [new]).report_key == open_header(head.header.raw, [me]).report_key

