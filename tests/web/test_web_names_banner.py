"""Against a live `intake serve`: no Server banner on any answer; odd file names never cost a report; the
reviewer's export (real CLI) gives executable or active names an inert extension."""

from __future__ import annotations

import json
import os
import socket

import pytest
import requests

from tests.support.proof import RECEIPT, Reporter
from tests.support.reviewkit import Reviewer
from tests.support.web import Server, open_stored

ACTIVE = ["evil.exe", "page.HTML", "run.desktop", "image.svg", "setup.sh", "x.lnk", "tool.py", "a.hta"]


def raw_answer(port: int, request: bytes) -> bytes:
    """Send raw bytes to the server and return what it answers before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def multipart(token: str, files: list[tuple[bytes, bytes, bytes]]) -> tuple[bytes, str]:
    """A no-JS form post built byte by byte, so file names and types can be anything a client sends."""
    boundary = "intake-test-boundary-7d1c"
    out = b""
    fields = {"csrf_token": token, "incident_type": "drone", "description": "names test", "website": ""}
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for filename, media_type, data in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="'.encode() + filename
                + b'"\r\nContent-Type: ' + media_type + b"\r\n\r\n" + data + b"\r\n")
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def server(site, tmp_path):
    """A live `intake serve` on the site."""
    live = Server(site.env, tmp_path).start()
    yield live
    live.kill()


@pytest.mark.slow
def test_no_server_banner_on_any_answer(server) -> None:
    answers = [requests.get(server.url + path, timeout=30) for path in ("/", "/keyring.json", "/static/style.css",
                                                                         "/no-such-page")]
    answers.append(requests.post(server.url + "/report", data={"x": "y"}, timeout=30))
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 400]
    for answer in answers:
        assert "server" not in {k.lower() for k in answer.headers}, answer.headers
    for raw in (b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
                b"GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
        head = raw_answer(server.port, raw).partition(b"\r\n\r\n")[0]
        assert head.startswith(b"HTTP/1.1 4"), head[:80]
        assert b"\r\nserver:" not in head.lower(), head


@pytest.mark.slow
def test_long_and_odd_names_keep_the_report_and_export_makes_active_names_inert(site, server, tmp_path) -> None:
    reporter = Reporter(server.url)
    long_ones = [(("é" * 30000 + f"{i}.dat").encode(), b"application/octet-stream", os.urandom(1000 + i))
                 for i in range(20)]  # 20 names of 60 KB: their manifest alone would pass the 1 MiB body limit
    odd = [("\x1b[31m\u202e evil\x07.dat".encode(), b"application/octet-stream", b"odd bytes"),
           (b"typed.dat", b"x/" + b"y" * 5000, b"a long media type"),
           *[(name.encode(), b"application/octet-stream", f"content of {name}".encode()) for name in ACTIVE]]
    body, content_type = multipart(reporter.token, long_ones + odd)
    answer = reporter.http.post(server.url + "/report", data=body, headers={"Content-Type": content_type},
                                timeout=120)
    assert answer.status_code == 200, answer.text[-3000:]
    ref = RECEIPT.search(answer.text).group(1)

    _, files, _ = open_stored(site.engine, ref, site.identities)
    assert [data for _, data in files] == [data for _, _, data in long_ones + odd], "every file kept, in order"
    names = [name for name, _ in files]
    assert all(len(n.encode()) <= 255 and n.endswith(".dat") and n.startswith("éé") for n in names[:20])
    assert names[20] == "\x1b[31m\u202e evil\x07.dat"  # kept as sent; the reviewer's tools escape it
    assert names[22:] == ACTIVE

    alice = Reviewer.make(tmp_path / "alice", identity=site.identities[0])
    out = tmp_path / "out"
    alice.run("export", ref, "--out", str(out), where=("--db", site.settings.database_url))
    written = sorted(os.listdir(out))
    for name in ACTIVE:
        assert f"{name}.txt" in written, written
        assert (out / f"{name}.txt").read_bytes() == f"content of {name}".encode()
    assert not [w for w in written if w.rpartition(".")[2].lower() in {n.rpartition(".")[2].lower() for n in ACTIVE}]
    report = json.loads((out / "report.json").read_text())
    recorded = {a["name"]: a["file"] for a in report["attachments"]}
    assert all(recorded[name] == f"{name}.txt" for name in ACTIVE), "report.json keeps the original name"
