"""`intake export-sealed` and `intake-review --bundle`: cases read with no database, damage detected."""

from __future__ import annotations

import hashlib
import json

import pytest

from intake.bundle.read import MAGIC, TRAILER
from tests.support import run_cli
from tests.support.reviewkit import FIELDS, Reviewer, store, store_vector

PHOTO = bytes(range(256)) * 5000


@pytest.fixture
def bundle(engine, db_url, tmp_path):
    """A database with two cases and a note, exported by the real `intake export-sealed`."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], [("photo.raw", "image/x-raw", PHOTO), ("empty.txt", "text/plain", b"")])
    browser, identity, body = store_vector(engine, "05-success-multi-chunk.vec")
    out = tmp_path / "cases.bundle"
    (tmp_path / "instance").mkdir(mode=0o700)  # the instance folder holds the import key a bundle carries
    done = run_cli("intake", "export-sealed", "--out", str(out), cwd=tmp_path, env={"INTAKE_DATABASE_URL": db_url})
    assert "2 cases" in done.stderr
    return {"alice": alice, "ref": ref, "browser": browser, "identity": identity, "body": body, "path": out,
            "sha256": done.stdout.strip(), "db_url": db_url}


def test_bundle_is_read_without_a_database(bundle, tmp_path):
    alice, where = bundle["alice"], ("--bundle", str(bundle["path"]))
    assert hashlib.sha256(bundle["path"].read_bytes()).hexdigest() == bundle["sha256"]
    assert bundle["path"].stat().st_mode & 0o777 == 0o600
    rows = {r["id"]: r for r in alice.json("list", where=where, )}
    assert rows[bundle["ref"]]["opened"] is True
    assert rows[bundle["browser"]]["error"] == "no match"
    shown = alice.json("show", bundle["ref"], where=where)
    assert shown["fields"] == FIELDS
    assert [a["sha256_ok"] for a in shown["attachments"]] == [True, True]
    alice.run("export", bundle["ref"], "--out", str(tmp_path / "out"), where=where)
    assert (tmp_path / "out" / "photo.raw").read_bytes() == PHOTO
    assert (tmp_path / "out" / "empty.txt").read_bytes() == b""
    bob = Reviewer.make(tmp_path / "bob", "bob", identity=bundle["identity"])
    seen = bob.json("show", bundle["browser"], where=where)
    assert seen["sealed_by"] == "browser"
    assert seen["fields"] == bundle["body"]["fields"]
    assert alice.run("show", "NOPE-NOPE-NOPE", where=where, check=False).returncode == 5
    refused = alice.run("status", bundle["ref"], "closed", where=where, check=False)
    assert refused.returncode == 1
    assert "a bundle is read-only" in refused.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_export_sealed_never_overwrites_and_filters_by_day(bundle, tmp_path):
    before = bundle["path"].read_bytes()
    again = run_cli("intake", "export-sealed", "--out", str(bundle["path"]), cwd=tmp_path, check=False,
                    env={"INTAKE_DATABASE_URL": bundle["db_url"]})
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert bundle["path"].read_bytes() == before
    later = tmp_path / "later.bundle"
    run_cli("intake", "export-sealed", "--out", str(later), "--since", "2999-01-01", cwd=tmp_path,
            env={"INTAKE_DATABASE_URL": bundle["db_url"]})
    assert bundle["alice"].json("list", where=("--bundle", str(later))) == []


def _cut(data: bytes) -> bytes:
    return data[:len(data) // 2]


def _flip_sealed_byte(data: bytes) -> bytes:
    return data[:len(MAGIC) + 10] + bytes([data[len(MAGIC) + 10] ^ 1]) + data[len(MAGIC) + 11:]


def _flip_manifest(data: bytes) -> bytes:
    at = len(data) - TRAILER.size - 5
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("damage", "message"), [
    (_cut, "the bundle is truncated"),
    (lambda d: d[:-1], "the bundle is truncated"),
    (_flip_sealed_byte, "SHA-256 does not match"),
    (_flip_manifest, "SHA-256 does not match"),
    (lambda d: b"X" + d[1:], "not an intake bundle"),
    (lambda d: b"", "not an intake bundle"),
])
def test_damaged_bundle_has_its_own_exit_code(bundle, tmp_path, damage, message):
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(damage(bundle["path"].read_bytes()))
    result = bundle["alice"].run("list", where=("--bundle", str(bad)), check=False)
    assert result.returncode == 8, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rehashed_but_malformed_manifest_is_refused(bundle, tmp_path):
    data = bundle["path"].read_bytes()
    _, offset, length, _ = TRAILER.unpack(data[-TRAILER.size:])
    manifest = json.loads(data[offset:offset + length])
    manifest["cases"][0]["header"][0] += 1
    raw = json.dumps(manifest).encode()
    content = data[:offset] + raw
    forged = content + TRAILER.pack(b"INTKBNDL", offset, len(raw), hashlib.sha256(content).digest())
    bad = tmp_path / "forged.bundle"
    bad.write_bytes(forged)
    result = bundle["alice"].run("list", where=("--bundle", str(bad)), check=False)
    assert result.returncode == 8
    assert "manifest is malformed" in result.stderr


def test_export_sealed_without_a_schema_leaves_no_file(tmp_path):
    out = tmp_path / "cases.bundle"
    (tmp_path / "instance").mkdir(mode=0o700)
    (tmp_path / "empty.db").touch()  # an empty SQLite database, with no schema
    result = run_cli("intake", "export-sealed", "--out", str(out), cwd=tmp_path, check=False,
                     env={"INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert result.returncode == 1
    assert "cannot export the cases" in result.stderr
    assert "no bundle was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
