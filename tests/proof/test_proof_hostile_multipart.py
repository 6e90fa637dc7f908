"""Hostile multipart bodies posted to /report on a live server: never a 5xx, nothing stored for a refusal.

Missing or wrong boundaries, unterminated bodies, bare LF, huge part headers, thousands of parts and files,
non-UTF-8 names, filenames and values, nested multipart/mixed and transfer encodings.
"""

from __future__ import annotations

import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.hostile_http import HANG, check_answer, measure, start_target
from tests.support.proof import soak_size

pytestmark = [pytest.mark.soak, pytest.mark.serial]  # each answer timed against a baseline (check_answer)
SETTINGS = settings(max_examples=soak_size(400), deadline=None, suppress_health_check=list(HealthCheck))
BOUNDARY = "hostileBoundary7MA4YWxkTrZu0gW"


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A live server, with the baseline of a valid post carrying a 1 MiB file."""
    made = start_target(tmp_path_factory.mktemp("hostile-multipart"))
    photo = [("big.jpg", "image/jpeg", b"\xff" * (1 << 20))]
    fields = {"incident_type": "cctv", "description": "baseline", "location": "", "occurred": "", "device": ""}
    made.baseline = measure(lambda: made.reporter.send_nojs(fields, photo))
    yield made
    made.reporter.close()
    made.server.stop()
    made.site.engine.dispose()


def part(name: bytes, value: bytes, filename: bytes | None = None, headers: list[bytes] = ()) -> list[bytes]:
    """One part: its header lines and its content."""
    disposition = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return [disposition, *headers, b"", value]


NAMES = st.one_of(st.sampled_from([b"description", b"location", b"attachments", b"device", b"x"]),
                  st.binary(max_size=30).filter(lambda b: b'"' not in b and b"\r" not in b and b"\n" not in b),
                  st.sampled_from(["описание".encode("cp1251"), "ဖော်ပြ".encode("utf-16-le"), b"\xff\xfe\x80"]))
VALUES = st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode),
                   st.sampled_from(["ដ្រូន".encode("utf-16-be"), b"\xc3\x28", b"\xed\xa0\x80", b"\x00" * 50]))
EXTRA_HEADERS = st.lists(st.one_of(
    st.sampled_from([b"Content-Type: text/plain; charset=iso-8859-1", b"Content-Transfer-Encoding: base64",
                     b"Content-Transfer-Encoding: quoted-printable", b"Content-Type: application/octet-stream",
                     b"Content-Disposition: attachment", b"Content-Type: multipart/mixed; boundary=inner",
                     b"Content-Type: message/rfc822", b"X-Junk:", b": no name", b"no colon at all"]),
    st.integers(100, 300_000).map(lambda n: b"X-Huge: " + b"a" * n)), max_size=3)


@st.composite
def parts(draw) -> list[list[bytes]]:
    """The form's own fields, then hostile ones and files."""
    chosen = [part(b"incident_type", b"drone"), part(b"description", draw(VALUES) or b"x")]
    for _ in range(draw(st.integers(0, 6))):
        filename = draw(st.one_of(st.none(), st.binary(max_size=40).filter(lambda b: b'"' not in b),
                                  st.just(b"\xe1\x9e\x8a\xff.jpg")))
        chosen.append(part(draw(NAMES), draw(VALUES), filename, draw(EXTRA_HEADERS)))
    many = draw(st.sampled_from([0, 0, 0, 40, 1200, 5000]))
    if many:
        as_files = draw(st.booleans())
        chosen += [part(b"attachments" if as_files else b"f%d" % i, b"v", b"f%d.txt" % i if as_files else None)
                   for i in range(many)]
    if draw(st.booleans()):
        inner = b"\r\n".join([b"--inner", *part(b"attachments", b"nested", b"n.txt"), b"--inner--"])
        chosen.append(part(b"attachments", inner, None, [b"Content-Type: multipart/mixed; boundary=inner"]))
    return draw(st.permutations(chosen))


@st.composite
def bodies(draw, token: str) -> tuple[str, bytes]:
    """A Content-Type and a multipart body, well or badly framed."""
    chosen = [part(b"csrf_token", token.encode()), *draw(parts())]
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    framed = [eol.join([b"--" + BOUNDARY.encode(), *p]) for p in chosen]
    ending = draw(st.sampled_from([b"--" + BOUNDARY.encode() + b"--" + eol, b"", b"--" + BOUNDARY.encode() + eol,
                                   b"--" + BOUNDARY.encode()[:-3]]))
    body = eol.join([*framed, ending])
    content_type = draw(st.sampled_from([
        f"multipart/form-data; boundary={BOUNDARY}", f'multipart/form-data; boundary="{BOUNDARY}"',
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=other",
        f"multipart/mixed; boundary={BOUNDARY}", f"multipart/form-data; boundary={BOUNDARY}; charset=utf-7",
        "application/x-www-form-urlencoded", "text/plain"]))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(body)))
        body = body[:cut]
    return content_type, body


@SETTINGS
@given(data=st.data())
def test_hostile_multipart(target, data) -> None:
    """Any post: a receipt and one complete case, or a 4xx page with a message and no row at all."""
    content_type, body = data.draw(bodies(target.reporter.form_token()))  # a page posts once
    before = target.rows()
    start = time.monotonic()
    try:
        r = target.reporter.http.post(target.reporter.url + "/report", data=body, timeout=HANG,
                                      headers={"Content-Type": content_type, "Connection": "close"})
    except requests.ConnectionError as exc:
        pytest.fail(f"no answer ({exc}) to {content_type}, {len(body)} bytes, {body.count(b'Content-Disp')} parts")
    check_answer(target, r, time.monotonic() - start, {200, 400, 413, 431})
    after = target.rows()
    if r.status_code == 200:
        assert 'id="receipt"' in r.text
        assert after["cases"] == before["cases"] + 1
    else:
        assert after == before, r.text[:300]


@pytest.mark.parametrize("size", [10_000, 100_000])
def test_huge_request_headers(target, size: int) -> None:
    """A request header line far over the limit: refused by gunicorn with a 4xx, and the server stays up."""
    start = time.monotonic()
    try:
        r = requests.post(target.reporter.url + "/report", data=b"x", headers={"X-Huge": "a" * size}, timeout=HANG)
    except requests.ConnectionError:
        r = None
    if r is not None:
        check_answer(target, r, 0.0, {400, 431})  # gunicorn lingers up to 2 s before it closes: a hang check only
    assert time.monotonic() - start < HANG
    assert requests.get(target.reporter.url + "/keyring.json", timeout=HANG).status_code == 200


KNOWN = [
    ("a file in a text field", [part(b"description", b"", b"\x00")], 400, "A file arrived in place of a text field"),
    ("5000 fields", [part(b"f%d" % i, b"v") for i in range(5000)], 413, "too many parts"),
    ("a 300 kB part header", [part(b"x", b"v", None, [b"X-Huge: " + b"a" * 300_000])], 413, "too many parts"),
    ("40 files", [part(b"attachments", b"v", b"f%d.txt" % i) for i in range(40)], 400, "at most 32 files"),
]


@pytest.mark.parametrize(("case", "extra", "status", "message"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_hostile_posts(target, case: str, extra: list[list[bytes]], status: int, message: str) -> None:
    """Posts the fuzzer found or that matter most: their own status and a message that names the problem."""
    chosen = [part(b"csrf_token", target.reporter.form_token().encode()), part(b"incident_type", b"drone"),
              part(b"description", b"x"), *extra]
    body = b"\r\n".join([b"\r\n".join([b"--" + BOUNDARY.encode(), *p]) for p in chosen] + [
        b"--" + BOUNDARY.encode() + b"--\r\n"])
    before = target.rows()
    start = time.monotonic()
    r = target.reporter.http.post(target.reporter.url + "/report", data=body, timeout=HANG, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Connection": "close"})
    check_answer(target, r, time.monotonic() - start, {status})
    assert message in r.text
    assert target.rows() == before
