"""Hostile envelopes and parts through the live sealed API: never a 5xx, and nothing stored for a refusal.

Every field's type, length, count and version varied; header bytes flipped, cut, grown; stanzas reordered,
dropped and repeated; parts sent out of order, twice, short, long, flipped or swapped.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.crypto.envelope import BODY_SIZES, STANZA_BYTES
from intake.crypto.errors import CryptoError
from intake.crypto.report import open_report
from intake.crypto.stream import PART, sealed_length
from intake.storage.cases import get_case, iter_parts
from tests.support.hostile_http import HANG, check_answer, measure, start_target
from tests.support.proof import soak_size
from tests.support.web import b64

pytestmark = [pytest.mark.soak, pytest.mark.serial]  # each answer timed against a baseline (check_answer)
SETTINGS = settings(max_examples=soak_size(300), deadline=None, suppress_health_check=list(HealthCheck))
JSONISH = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
                    st.lists(st.integers(), max_size=4),
                    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A live server, with the baseline of a valid begin carrying the largest body."""
    made = start_target(tmp_path_factory.mktemp("hostile-api"))
    big = made.sealed((3 * PART,))
    made.reports = [made.sealed(()), made.sealed((10,)), made.sealed((1, 2, 3)), big]
    made.baseline = measure(lambda: made.reporter.begin(big))
    yield made
    made.reporter.close()
    made.server.stop()
    made.site.engine.dispose()


def header_variants(header: bytes) -> st.SearchStrategy[bytes]:
    """A header kept, flipped, cut, grown, re-versioned, re-counted, or with its stanzas shuffled."""
    stanzas = [header[6 + i * STANZA_BYTES:6 + (i + 1) * STANZA_BYTES] for i in range(header[5])]
    mac = header[-32:]

    def restack(order: list[int]) -> bytes:
        return header[:5] + bytes([len(order) % 256]) + b"".join(stanzas[i] for i in order) + mac

    return st.one_of(
        st.just(header),
        st.tuples(st.integers(0, len(header) - 1), st.integers(1, 255)).map(
            lambda f: header[:f[0]] + bytes([header[f[0]] ^ f[1]]) + header[f[0] + 1:]),
        st.integers(0, len(header) - 1).map(lambda n: header[:n]),
        st.binary(min_size=1, max_size=300).map(lambda extra: header + extra),
        st.integers(0, 255).map(lambda v: header[:4] + bytes([v]) + header[5:]),
        st.integers(0, 255).map(lambda c: header[:5] + bytes([c]) + header[6:]),
        st.lists(st.sampled_from(range(len(stanzas))), max_size=len(stanzas) + 2).map(restack),
        st.permutations(range(len(stanzas))).map(restack),
        st.binary(max_size=2000),
    )


def body_variants(body: bytes) -> st.SearchStrategy[bytes]:
    """A body kept, cut, grown, flipped, or of another size, valid or one off."""
    sizes = sorted(s for s in BODY_SIZES if s <= 1 << 16)
    return st.one_of(
        st.just(body),
        st.integers(0, len(body) - 1).map(lambda n: body[:n]),
        st.binary(min_size=1, max_size=64).map(lambda extra: body + extra),
        st.integers(0, len(body) - 1).map(lambda i: body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]),
        st.sampled_from(sizes).flatmap(lambda s: st.sampled_from([s - 1, s, s + 1])).map(bytes),
    )


def lengths_variants(lengths: list[int]) -> st.SearchStrategy[object]:
    """Stream lengths kept, or lists of any integers, valid-looking lengths, or no list at all."""
    valid = st.integers(0, 600 << 20).map(sealed_length)
    return st.one_of(
        st.just(lengths),
        st.lists(st.integers(-(1 << 70), 1 << 70), max_size=40),
        st.lists(valid, max_size=40),
        st.lists(st.one_of(st.floats(), st.booleans(), st.text(max_size=5), st.none()), min_size=1, max_size=3),
        JSONISH,
    )


@st.composite
def begin_requests(draw, reports) -> object:
    """A request to begin an upload, derived from a valid one by any number of changes."""
    report = draw(st.sampled_from(reports))
    request: dict[str, object] = {"header": b64(draw(header_variants(report.header))),
                                  "body": b64(draw(body_variants(report.body))),
                                  "lengths": draw(lengths_variants([len(s) for s in report.streams]))}
    if draw(st.booleans()):
        request["header"] = draw(st.one_of(JSONISH, st.text(max_size=400), st.just(
            base64.b64encode(report.header).decode())))
    for name in draw(st.sets(st.sampled_from(["header", "body", "lengths", "keyring_serial", "website"]))):
        request[name] = draw(JSONISH)
    for name in draw(st.sets(st.sampled_from(["header", "body", "lengths", "pow_challenge", "pow_nonce"]),
                             max_size=2)):
        request.pop(name, None)
    request.update(draw(st.dictionaries(st.text(max_size=10), JSONISH, max_size=3)))
    return draw(st.one_of(st.just(request), st.just(request), st.just(request), JSONISH))


def post_begin(target, request: object) -> tuple[object, float]:
    """POST the request with a fresh solved challenge unless the request drops or replaces it."""
    reporter = target.reporter
    challenge = reporter.http.get(reporter.url + "/api/v1/challenge", timeout=HANG).json()["challenge"]
    if isinstance(request, dict):
        request = {"pow_challenge": challenge, "pow_nonce": "0", "keyring_serial": reporter.serial, **request}
    start = time.monotonic()
    r = reporter.http.post(reporter.url + "/api/v1/reports", data=json.dumps(request), timeout=HANG,
                           headers={"X-CSRFToken": reporter.token, "Content-Type": "application/json",
                                    "Connection": "close"})
    return r, time.monotonic() - start


@SETTINGS
@given(request=st.data())
def test_hostile_begin(target, request) -> None:
    """Any begin request: 201 with one case (hidden, or complete without streams), or a 4xx and no row at all."""
    sent = request.draw(begin_requests(target.reports))
    before = target.rows()
    r, elapsed = post_begin(target, sent)
    check_answer(target, r, elapsed, {201, 400, 409, 413})
    after = target.rows()
    if r.status_code == 201:
        assert after["cases"] == before["cases"] + 1
        if sent["lengths"]:
            assert len(r.json()["upload"]) == 64
        else:
            assert get_case(target.site.engine, r.json()["ref"]) is not None
    else:
        assert after == before


OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4),
                         st.sampled_from(["exact", "exact", "short", "long", "flip", "empty", "swap"])), max_size=10)


@SETTINGS
@given(ops=OPS, finish=st.booleans())
def test_hostile_parts(target, ops, finish) -> None:
    """Parts out of order, twice, of the wrong size or bytes: stored exactly when accepted; complete iff whole."""
    report = target.reports[3] if len(ops) % 2 else target.reports[2]
    reporter = target.reporter
    r = reporter.begin(report)
    assert r.status_code == 201, r.text
    upload = r.json()["upload"]
    want = {(i, n): s[n * PART:(n + 1) * PART] for i, s in enumerate(report.streams)
            for n in range(max(1, -(-len(s) // PART)))}
    model: dict[tuple[int, int], bytes] = {}
    if finish:
        ops = ops + [(i, n, "exact") for i, n in want]
    for idx, number, how in ops:
        exact = want.get((idx, number), b"x" * 100)
        data = {"exact": exact, "short": exact[:-1], "long": exact + b"\0", "empty": b"",
                "flip": exact[:-1] + bytes([exact[-1] ^ 1]) if exact else b"",
                "swap": want.get((idx, (number + 1) % 3), exact)}[how]
        start = time.monotonic()
        put = reporter.put(upload, idx, number, data)
        check_answer(target, put, time.monotonic() - start, {204, 400, 413})
        accepted = (idx, number) in want and len(data) == len(want[(idx, number)])
        assert (put.status_code == 204) == accepted, (idx, number, how, put.text)
        if accepted:
            model[(idx, number)] = data
    start = time.monotonic()
    done = reporter.complete(upload)
    check_answer(target, done, time.monotonic() - start, {200, 409})
    assert (done.status_code == 200) == (model.keys() == want.keys())
    if done.status_code == 200:
        case = get_case(target.site.engine, done.json()["ref"])
        stored = {(i, n): p for i in range(len(case.lengths))
                  for n, p in enumerate(iter_parts(target.site.engine, case.id, i))}
        assert stored == model
        opened = open_report(case.header, case.body, len(case.lengths), target.site.identities)
        try:
            files = [b"".join(opened.attachment(i, [model[(i, n)] for n in range(len(stored)) if (i, n) in model]))
                     for i in range(len(case.lengths))]
        except CryptoError:
            assert model != want
        else:
            assert model == want
            assert all(files)
