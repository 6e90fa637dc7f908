"""Concurrency: 16 reporters x 200 reports each against `intake serve`, on SQLite and PostgreSQL.

That is CI's size; INTAKE_SOAK_SCALE scales the reports per client (tests/support/proof.py). No reporter
types its codename back, so the server derives codenames at libsodium's least Argon2id cost
(tests/support/cheapcodenames.py): at the format's cost they took about 240 of the parallel step's
1,400 processor seconds.

Every receipt maps to exactly one stored case that opens to its own report: none lost, none duplicated, no 5xx.
"""

from __future__ import annotations

import random
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from intake.crypto import codename
from tests.support.cheapcodenames import CHEAP_CODENAMES
from tests.support.proof import Reporter, open_all, soak_size, stored_whole
from tests.support.web import Server, make_site

pytestmark = pytest.mark.soak
CLIENTS, REPORTS = 16, soak_size(200)


def report(uid: str, n: int) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
    """Report `n` of a client: every third with a small photo, every 50th with a 1.2 MiB video."""
    rng = random.Random(uid)
    files = []
    if n % 3 == 0:
        files.append((f"{uid}.jpg", "image/jpeg", rng.randbytes(rng.randrange(1, 4000))))
    if n % 50 == 7:
        files.append((f"{uid}.mp4", "video/mp4", rng.randbytes(1_200_000 + rng.randrange(1000))))
    return {"incident_type": "face_recognition", "description": uid, "location": "Siem Reap", "occurred": "",
            "device": ""}, files


def client(url: str, number: int, receipts: list[tuple[str, str]], errors: list[str]) -> None:
    """One reporter sending its reports one after another, alternating the no-JS post and the API."""
    reporter = Reporter(url)
    try:
        for n in range(REPORTS):
            uid = f"c{number}-r{n}"
            fields, files = report(uid, n)
            try:
                ref = reporter.send_api(fields, files) if n % 2 else reporter.send_nojs(fields, files)
            except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
                errors.append(f"{uid}: {type(exc).__name__}: {str(exc)[:300]}")
                continue
            receipts.append((ref, uid))
    finally:
        reporter.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sixteen_clients(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """3,200 reports at once (CI's size): each receipt is one case opening to its own report, nothing else stored."""
    db_url = f"sqlite:///{tmp_path / 'intake.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    site = make_site(tmp_path, db_url)
    server = Server({**site.env, "INTAKE_POW_BITS": "0", "INTAKE_NOJS_PER_MINUTE": "100000"}, tmp_path,
                    wrap=CHEAP_CODENAMES).start()
    receipts: list[tuple[str, str]] = []
    errors: list[str] = []
    try:
        threads = [threading.Thread(target=client, args=(server.url, i, receipts, errors)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=1200)
        assert not any(t.is_alive() for t in threads), "a client hung"
    finally:
        server.stop()
    assert errors == []
    assert len(receipts) == CLIENTS * REPORTS
    assert len({ref for ref, _ in receipts}) == len(receipts)
    assert stored_whole(site.engine) == []
    opened = open_all(site.engine, site.identities)
    assert len(opened) == len(receipts)
    assert Counter(fields["description"] for fields, _ in opened.values()).most_common(1)[0][1] == 1
    for ref, uid in receipts:
        fields, files = opened[ref]
        assert fields["description"] == uid
        assert files == [(n, d) for n, _, d in report(uid, int(uid.split("-r")[1]))[1]]
    assert "Traceback" not in server.log_text()
    site.engine.dispose()


def test_cheap_codenames_are_cheap_only_in_the_program_they_run(tmp_path: Path) -> None:
    """The wrapper lowers the codename's Argon2id in the program it runs, and nowhere else."""
    program = tmp_path / "program.py"
    program.write_text("import sys, intake.crypto.codename as c\nprint(c.OPSLIMIT, c.MEMLIMIT, sys.argv[1:])\n")
    out = subprocess.run([*CHEAP_CODENAMES, str(program), "serve"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "8192", "['serve']"]
    assert (codename.OPSLIMIT, codename.MEMLIMIT) == (2, 64 << 20)
