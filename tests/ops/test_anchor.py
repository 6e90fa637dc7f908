"""`intake anchor` (issue 25 item 4): a day's cases and messages under one padded Merkle root, stamped by an RFC 3161
TSA (a local `openssl ts`), inclusion proofs that verify, and every way a proof or timestamp can be forged fails."""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, update

from intake.anchor import merkle
from intake.anchor.day import AnchorError, case_proof, check_proof
from intake.anchor.timestamp import TimestampError, request
from intake.clock import today
from intake.storage.anchors import get_anchor
from intake.storage.cases import get_case
from intake.storage.db import upgrade
from intake.storage.schema import cases, messages
from intake.storage.threads import add_message
from tests.support import run_cli
from tests.support.storage import replace_header, store_case
from tests.support.tsa import LocalTSA, local_tsa
from tests.support.web import Site, make_site

YESTERDAY = today() - dt.timedelta(days=1)
STREAM = os.urandom(3000)


@pytest.fixture(scope="module")
def tsa() -> LocalTSA:
    """One local TSA for the module."""
    with local_tsa() as running:
        yield running


OPEN: list[Site] = []


@pytest.fixture(autouse=True)
def _close_sites():
    """Each test's instances release their database connections when it ends (PostgreSQL's included)."""
    yield
    while OPEN:
        OPEN.pop().engine.dispose()


def new_site(tmp_path: Path, db_url: str | None = None) -> Site:
    """A migrated instance (SQLite unless a URL is given), closed when the test ends."""
    site = make_site(tmp_path, db_url or f"sqlite:///{tmp_path / 'intake.db'}")
    OPEN.append(site)
    upgrade(site.engine)
    return site


def store_day(site: Site, reports: int, day: dt.date) -> list[int]:
    """Store `reports` cases (the first with a file and a follow-up message), dated `day`; return their ids."""
    refs = [store_case(site.engine, os.urandom(80), os.urandom(200), "server", ["r0"],
                       [(len(STREAM), [STREAM])] if n == 0 else []) for n in range(reports)]
    ids = [get_case(site.engine, ref).id for ref in refs]
    add_message(site.engine, ids[0], "reporter", os.urandom(80), os.urandom(120))
    with site.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id.in_(ids)).values(received=day))
        conn.execute(update(messages).where(messages.c.case_id.in_(ids)).values(day=day))
    return ids


def anchor(site: Site, *args: str, tsa_url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `intake anchor`."""
    env = {**site.env, "INTAKE_TSA_URL": tsa_url or ""}
    return run_cli("intake", "anchor", *args, cwd=site.settings.instance.parent, env=env, check=check)


def openssl_verify(tmp_path: Path, proof: dict, tsa: LocalTSA) -> subprocess.CompletedProcess[str]:
    """`openssl ts -verify` of a proof's timestamp over its root, against the TSA's CA."""
    (tmp_path / "root.bin").write_bytes(bytes.fromhex(proof["root"]))
    (tmp_path / "stamp.tsr").write_bytes(base64.b64decode(proof["timestamp"]))
    return subprocess.run(["openssl", "ts", "-verify", "-in", "stamp.tsr", "-data", "root.bin", "-CAfile",
                           str(tsa.ca)], cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_a_day_of_three_reports(tmp_path: Path, db_url: str, tsa: LocalTSA) -> None:
    """Yesterday's 3 reports and 1 message: 64 sorted leaves, each proof verifies, openssl accepts the timestamp."""
    site = new_site(tmp_path, db_url)
    ids = store_day(site, 3, YESTERDAY)
    done = anchor(site, tsa_url=tsa.url)
    root = done.stdout.strip()
    assert f"{YESTERDAY}: anchored 4 items in 64 leaves" in done.stderr
    stored = get_anchor(site.engine, YESTERDAY)
    assert stored.root.hex() == root
    assert not stored.partial
    assert stored.timestamp
    assert list(stored.leaves) == sorted(stored.leaves)
    assert len(set(stored.leaves)) == 64
    end_of_day = dt.datetime.combine(YESTERDAY + dt.timedelta(days=1), dt.time(), dt.UTC)
    for case_id, seq in [(i, 0) for i in ids] + [(ids[0], 1)]:
        proof = case_proof(site.engine, case_id, seq)
        assert proof["root"] == root
        assert proof["day"] == YESTERDAY.isoformat()
        assert not proof["partial"]
        assert check_proof(proof, tsa.ca.read_bytes()) >= end_of_day
    assert len(case_proof(site.engine, ids[0])["stream_sha256"]) == 1
    result = openssl_verify(tmp_path, proof, tsa)
    assert result.stdout.strip() == "Verification: OK", result.stderr
    again = anchor(site, tsa_url=tsa.url)
    assert again.stdout.strip() == root
    assert "already anchored" in again.stderr


def test_forged_proofs_fail(tmp_path: Path, tsa: LocalTSA) -> None:
    """A changed hash, index, path, root or timestamp fails the check and says what; a changed case has no proof."""
    site = new_site(tmp_path)
    ids = store_day(site, 3, YESTERDAY)
    anchor(site, tsa_url=tsa.url)
    good = case_proof(site.engine, ids[1])
    flip = {"body_sha256": "0" * 64, "item": "1" * 64, "index": (good["index"] + 1) % 64,
            "path": [good["path"][1], good["path"][0], *good["path"][2:]], "root": "2" * 64, "size": 32,
            "format": "other", "header_sha256": "zz"}
    for key, value in flip.items():
        with pytest.raises(merkle.ProofError):
            check_proof({**good, key: value})
    genuine = base64.b64encode(request(tsa.url, os.urandom(32))).decode()  # the same TSA, over other data
    with pytest.raises(TimestampError, match="other data"):
        check_proof({**good, "timestamp": genuine})
    with pytest.raises(TimestampError, match="not an RFC 3161"):
        check_proof({**good, "timestamp": base64.b64encode(b"junk").decode()})
    later = (today() + dt.timedelta(days=1)).isoformat()  # a proof claiming a later day than its stamp
    with pytest.raises(TimestampError, match=f"not after the end of {later}"):
        check_proof({**good, "day": later})
    with site.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == ids[1]).values(body=os.urandom(200)))
    with pytest.raises(AnchorError, match="not what was anchored"):
        case_proof(site.engine, ids[1])


def test_rewrap_keeps_the_proof(tmp_path: Path) -> None:
    """A header rewrapped to new keys after the anchor still proves: the anchored header hash is kept."""
    site = new_site(tmp_path)
    ids = store_day(site, 1, YESTERDAY)
    anchor(site)
    with site.engine.connect() as conn:
        old = conn.execute(select(cases.c.header).where(cases.c.id == ids[0])).scalar_one()
    assert replace_header(site.engine, ids[0], old, os.urandom(90), ["r1"])
    assert check_proof(case_proof(site.engine, ids[0])) is None  # no TSA set: a root, no timestamp


def test_running_day_is_partial_and_never_stamped(tmp_path: Path, tsa: LocalTSA) -> None:
    """Today: partial, no timestamp even with a TSA (it would date what had arrived by then); no audit line."""
    site = new_site(tmp_path)
    ids = store_day(site, 2, today())
    first = anchor(site, "--day", today().isoformat(), tsa_url=tsa.url)
    assert "partial" in first.stderr
    stored = get_anchor(site.engine, today())
    assert stored.partial
    assert stored.timestamp is None
    assert len(stored.leaves) == 64
    store_day(site, 1, today())
    second = anchor(site, "--day", today().isoformat(), tsa_url=tsa.url)
    assert second.stdout != first.stdout
    assert "anchored 5 items" in second.stderr
    assert case_proof(site.engine, ids[0])["partial"] is True
    audit = run_cli("intake", "audit", "list", cwd=tmp_path, env=site.env, check=False)
    assert "anchor" not in audit.stdout
    future = anchor(site, "--day", (today() + dt.timedelta(days=1)).isoformat(), check=False)
    assert future.returncode != 0
    assert "has not begun" in future.stderr


def test_tsa_down_then_stamped_later(tmp_path: Path, tsa: LocalTSA) -> None:
    """The TSA unreachable: the root is stored, the command fails and says so; the next run stamps that same root."""
    site = new_site(tmp_path)
    store_day(site, 1, YESTERDAY)
    down = anchor(site, tsa_url="http://127.0.0.1:9/tsa", check=False)
    assert down.returncode != 0
    assert "did not answer" in down.stderr
    assert "Traceback" not in down.stderr
    stored = get_anchor(site.engine, YESTERDAY)
    assert stored.timestamp is None
    anchor(site, tsa_url=tsa.url)
    assert get_anchor(site.engine, YESTERDAY).timestamp
    assert get_anchor(site.engine, YESTERDAY).root == stored.root


def test_padding_hides_small_counts() -> None:
    """Up to 64 items, 64 leaves; every index's proof checks; a short or long path is refused."""
    for count in (0, 1, 3, 64):
        assert len(merkle.padded([os.urandom(32) for _ in range(count)])) == 64
    assert len(merkle.padded([os.urandom(32) for _ in range(65)])) == 128
    leaves = merkle.padded([os.urandom(32) for _ in range(5)])
    top = merkle.root(leaves)
    for index, leaf in enumerate(leaves):
        merkle.check(leaf, index, 64, merkle.proof(leaves, index), top)
    with pytest.raises(merkle.ProofError):
        merkle.check(leaves[0], 0, 64, merkle.proof(leaves, 0)[:-1], top)
