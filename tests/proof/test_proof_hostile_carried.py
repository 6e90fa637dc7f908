"""Hostile carried files (format.md §13) at a live server, by both ways in: every answer a 200 or a 4xx, never a
5xx or a traceback, in bounded time; a refusal stores no row; an accepted file adds exactly one case, once.

Files derived from valid ones by flipped, cut, grown, spliced or replaced bytes in every part of the framing
(prefix, serial, lookup, header, body length, body, count, stream lengths, streams, tail), or any bytes at all;
and API begin requests with `carried` whose serial, lookup and lengths are anything.
"""

from __future__ import annotations

import io
import json
import re
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.crypto.carried import PREFIX, write_carried
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.kitsign import CarriedSigner
from intake.crypto.report import seal_report
from intake.storage.threads import salt
from tests.support.hostile_http import HANG, check_answer, measure, start_target
from tests.support.proof import soak_size
from tests.support.web import b64

pytestmark = [pytest.mark.soak, pytest.mark.serial]  # each answer timed against a baseline (check_answer)
LENGTHS = [0, 1, 41, 65577, 1 << 31, 1 << 40, (1 << 64) - 1]  # declared lengths: none, tiny, framed, huge
SETTINGS = settings(max_examples=soak_size(200), deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A live server, a few valid carried files and the time a valid one takes."""
    made = start_target(tmp_path_factory.mktemp("hostile-carried"))
    keys = derive_keys(make_codename(), salt(made.site.engine))
    made.files = []
    for sizes in ((), (10,), (1, 70000)):
        signer = CarriedSigner.generate()
        report = seal_report(made.reporter.recipients, {"incident_type": "other", "description": "hostile test"},
                             [(f"f{i}.bin", "application/octet-stream", [bytes([i]) * n]) for i, n in enumerate(sizes)],
                             reply_key=str(keys.identity.recipient), signer=signer)
        out = io.BytesIO()
        write_carried(out, made.reporter.serial, keys.lookup, signer, report.header, report.body,
                      [(len(s), [s]) for s in report.streams])
        made.files.append(out.getvalue())
    made.baseline = measure(lambda: post(made, made.files[2] + b"\0"))  # a refusal after the whole file
    yield made
    made.reporter.close()
    made.server.stop()
    made.site.engine.dispose()


def post(target, data: bytes):
    """POST the file to /sealed with a fresh form token, as the page's form does."""
    http = target.reporter.http
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(target.reporter.url + "/sealed",
                                                                      timeout=HANG).text).group(1)
    return http.post(target.reporter.url + "/sealed", timeout=HANG, headers={"Connection": "close"},
                     files=[("csrf_token", (None, token)), ("sealed", ("r.sealed", data, "application/octet-stream"))])


def marks(data: bytes) -> list[int]:
    """Where each part of the framing starts: prefix fields, header, body length, body, count, the first stream."""
    header = 38 + 96 * data[PREFIX + 5]
    at = PREFIX + header
    body = struct.unpack(">I", data[at:at + 4])[0]
    return [0, 8, 9, 17, 49, 81, PREFIX, PREFIX + 4, PREFIX + 5, at, at + 4, at + 4 + body, at + 5 + body,
            min(at + 13 + body, len(data)), len(data)]


@st.composite
def hostile_files(draw, files: list[bytes]) -> bytes:
    """A valid file changed at one or more places of its framing, or any bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=3000))
    data = bytearray(draw(st.sampled_from(files)))
    places = marks(bytes(data))  # of the valid file: a changed count or length must not move them out of it
    for _ in range(draw(st.integers(1, 3))):
        at = min(draw(st.sampled_from(places)) + draw(st.integers(0, 8)), len(data))
        how = draw(st.sampled_from(["flip", "cut", "grow", "replace", "length"]))
        if how == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del data[at:]
        elif how == "grow":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif how == "replace":
            data[at:at + 8] = draw(st.binary(min_size=8, max_size=8))
        elif at + 8 <= len(data):
            data[at:at + 8] = struct.pack(">Q", draw(st.sampled_from(LENGTHS)))
        if len(data) < PREFIX + 6:
            break
    return bytes(data)


@SETTINGS
@given(data=st.data())
def test_hostile_carried_files(target, data) -> None:
    """Any file: a 200 with at most one new case (none if it arrived before), or a 4xx that stores nothing."""
    sent = data.draw(hostile_files(target.files))
    before = target.rows()
    start = time.monotonic()
    answer = post(target, sent)
    check_answer(target, answer, time.monotonic() - start, {200, 400, 409, 413})
    after = target.rows()
    if answer.status_code == 200:
        assert after["cases"] - before["cases"] in (0, 1)
        assert 'id="receipt">' in answer.text
    else:
        assert after == before


@SETTINGS
@given(data=st.data())
def test_hostile_carried_begins(target, data) -> None:
    """The API with `carried`: any serial, lookup or lengths is a 2xx with at most one case, or a 4xx and no row."""
    from intake.crypto.carried import read_carried

    head, streams = read_carried(data.draw(st.sampled_from(target.files)))
    anything = st.one_of(st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70), st.text(max_size=50),
                         st.binary(max_size=40).map(b64), st.lists(st.integers(0, 1 << 40), max_size=34))
    request = {"carried": True, "keyring_serial": head.serial, "header": b64(head.header.raw),
               "body": b64(head.body), "lengths": [len(s) for s in streams], "lookup": b64(head.lookup),
               "signer": b64(head.signer), "signature": b64(head.signature)}
    for name in data.draw(st.sets(st.sampled_from(sorted(request)))):
        request[name] = data.draw(anything)
    reporter = target.reporter
    challenge = reporter.http.get(reporter.url + "/api/v1/challenge", timeout=HANG).json()["challenge"]
    before = target.rows()
    start = time.monotonic()
    answer = reporter.http.post(reporter.url + "/api/v1/reports", timeout=HANG,
                                data=json.dumps({"pow_challenge": challenge, "pow_nonce": "0", **request}),
                                headers={"X-CSRFToken": reporter.token, "Content-Type": "application/json"})
    check_answer(target, answer, time.monotonic() - start, {200, 201, 400, 409, 413})
    after = target.rows()
    if answer.status_code >= 400:
        assert after == before
    else:
        assert after["cases"] - before["cases"] in (0, 1)
