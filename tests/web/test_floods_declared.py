"""Sizes that are declared but never arrive (issue 19, findings 1, 4 and 12): a chunked write is refused before
it costs anything, and the no-JS daily budget counts only the sealed bytes actually stored."""

from __future__ import annotations

import os
import socket
import time

import pytest
from sqlalchemy import func, select

from intake.crypto.stream import PART
from intake.storage.schema import cases, message_parts, messages, parts, stored_bytes
from tests.support.proof import Reporter
from tests.support.raw_http import exchange
from tests.support.threads import CODENAME, check_nojs, form_token
from tests.support.web import Server, csrf_token, make_site, rows

MIB = 1 << 20
DAILY = 64 * MIB
FIELDS = {"incident_type": "cctv", "description": "an honest report", "location": "", "occurred": "", "device": ""}


def charged(engine) -> int:  # noqa: ANN001
    """The bytes counted today on every path."""
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))).scalar_one()


@pytest.mark.parametrize("path", ["/report", "/check", "/api/v1/reports", "/api/v1/uploads/aa/0/0"])
def test_a_chunked_write_is_refused_before_anything(client, site, path: str) -> None:
    """A write without a declared length (Transfer-Encoding): a 411 that says what to do; nothing stored or
    charged (under `intake serve` the worker's main loop refuses it first: tests/proof/test_proof_hostile_heads.py)."""
    token = csrf_token(client)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() +
            b"\r\n--b--\r\n")
    before = rows(site.engine)
    method = client.put if path.startswith("/api/v1/uploads") else client.post
    r = method(path, data=body, headers={"Transfer-Encoding": "chunked", "X-CSRFToken": token,
                                         "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 411
    assert "length given in advance" in r.get_data(as_text=True)
    assert rows(site.engine) == before
    assert charged(site.engine) == 0


def stored_sizes(engine) -> int:  # noqa: ANN001
    """The sealed bytes stored for complete reports and for messages: headers, bodies and parts."""
    with engine.connect() as conn:
        done = select(cases.c.id).where(cases.c.complete.is_(True))
        return sum(conn.execute(query).scalar_one() for query in (
            select(func.coalesce(func.sum(func.length(cases.c.header) + func.length(cases.c.body)), 0))
            .where(cases.c.complete.is_(True)),
            select(func.coalesce(func.sum(func.length(parts.c.data)), 0)).where(parts.c.case_id.in_(done)),
            select(func.coalesce(func.sum(func.length(messages.c.header) + func.length(messages.c.body)), 0)),
            select(func.coalesce(func.sum(func.length(message_parts.c.data)), 0))))


def server_charged(engine) -> int:  # noqa: ANN001
    """Today's count on the no-JS (server) path."""
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))
                            .where(stored_bytes.c.path == "server")).scalar_one()


def hang_up(port: int, path: str, fields: dict[str, str], declared: int, sent: int) -> None:
    """A no-JS post that declares `declared` bytes, sends its fields and `sent` bytes of a file, and hangs up."""
    head = b"".join(b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v.encode())
                    for k, v in fields.items())
    head += b'--b\r\nContent-Disposition: form-data; name="attachments"; filename="v.mp4"\r\n' \
            b"Content-Type: video/mp4\r\n\r\n"
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
               f"Content-Length: {declared}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            s.sendall(request + head)
            for n in range(0, sent, 64 * 1024):
                s.sendall(os.urandom(min(64 * 1024, sent - n)))
        except OSError:
            pass  # refused before it was all sent (a 503 for a size past what is left)


def settled(engine) -> None:  # noqa: ANN001
    """Wait until the server has discarded every post that hung up."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(False))
                                ).scalar_one():
                return
        time.sleep(0.2)
    raise AssertionError("posts that hung up were not discarded")


@pytest.mark.slow
def test_declared_sizes_that_never_arrive_cost_nothing(tmp_path) -> None:
    """The reported attack on a live server: posts (reports, then follow-ups) that declare all that is left of
    today's bytes and hang up after 70 KiB, and one that hangs up after 6 MiB. Honest no-JS reports and
    follow-ups, with files and without, still get in, and the day's count is exactly what was stored (the
    6 MiB post's four stored parts included: they arrived)."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    server = Server({**site.env, "INTAKE_DAILY_BYTES": str(DAILY)}, tmp_path).start()
    try:
        reporter = Reporter(server.url)
        page = reporter.post_nojs(FIELDS)
        assert page.status_code == 200
        codename = CODENAME.search(page.text).group(1)
        fields = {"csrf_token": reporter.token, "website": "", **FIELDS}
        declared = [DAILY >> n for n in range(1, 16)] + [500 * MIB] * 3
        for size in declared:
            hang_up(server.port, "/report", fields, size, 70 * 1024)
        for size in declared[:8]:
            hang_up(server.port, "/check", {"csrf_token": form_token(reporter.http.get(server.url + "/check").text),
                                            "codename": codename, "message": "x"}, size, 70 * 1024)
        hang_up(server.port, "/report", fields, 20 * MIB, 6 * MIB)
        settled(site.engine)
        assert server_charged(site.engine) == stored_sizes(site.engine) + 4 * PART
        assert reporter.send_nojs(FIELDS)
        assert reporter.send_nojs(FIELDS, [("clip.mp4", "video/mp4", os.urandom(3 * MIB))])
        follow_up = reporter.http.post(server.url + "/check", data={
            "csrf_token": form_token(reporter.http.get(server.url + "/check").text), "codename": codename,
            "message": "and a file"}, files=[("attachments", ("more.jpg", os.urandom(2 * MIB), "image/jpeg"))])
        assert follow_up.status_code == 200, follow_up.text[-1000:]
        assert check_nojs(reporter.http, server.url, codename=codename, message="text alone").status_code == 200
        assert server_charged(site.engine) == stored_sizes(site.engine) + 4 * PART
        reporter.close()
    finally:
        server.stop()
        site.engine.dispose()
    assert "Traceback" not in server.log_text()


@pytest.mark.slow
def test_a_json_post_declaring_too_much_is_refused_before_it_is_read(tmp_path) -> None:
    """An API post that declares 300 MiB of JSON and sends 64 KiB gets a 413 at once, on every JSON endpoint; before,
    the thread API read the whole declared body into memory (only the report endpoint had a limit)."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    server = Server(site.env, tmp_path).start()
    try:
        token = Reporter(server.url)
        for path in ("/api/v1/thread", "/api/v1/thread/messages", "/api/v1/reports"):
            head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"X-CSRFToken: {token.token}\r\nContent-Length: {300 * MIB}\r\n\r\n").encode()
            got = exchange(server.port, head + b'{"token": "' + b"A" * (64 * 1024), half_close=False, wait=10)
            assert got.statuses == (413,), (path, got.raw[:300])
            assert b"must fit in" in got.raw
        token.close()
    finally:
        server.stop()
        site.engine.dispose()
