"""`intake-review evidence` and `verify` as real processes: a package whose evidentiary copies are the files as
sealed, cleaned working copies, a manifest signed by the stock ssh-keygen; one changed byte anywhere is named."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from intake.evidence.verify import verify_package
from intake.review.errors import ReviewError
from tests.support import photos, run_cli
from tests.support.reviewkit import Reviewer, org_key, signed_keyring, store

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOSTILE = [("../../etc/passwd.jpg", "image/jpeg", photos.thumbnail_photo()),
           ("c2pa-photo.jpg", "image/jpeg", photos.c2pa_photo()),
           ("lying-c2pa.jpg", "image/jpeg", photos.c2pa_photo(declared=99999)),
           ("bomb\u202egpj.png", "image/png", photos.pixel_bomb()),
           ("cut.jpg", "image/jpeg", photos.truncated_jpeg())]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def package(tmp_path, engine, db_url):
    """An evidence package of a case with a GPS photo, a C2PA photo, a lying C2PA box, a bomb and a cut JPEG."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], HOSTILE)
    where = ("--db", db_url, "--keys-dir", keys_dir, "--signer", signer)
    key = org_key(tmp_path / "org")
    out = tmp_path / "package"
    done = alice.run("evidence", ref, "--out", str(out), "--sign-with", str(key), where=where)
    return alice, ref, where, key, out, done


def stock_verify(out: Path) -> subprocess.CompletedProcess:
    """What VERIFY.txt tells a lawyer's expert to run: ssh-keygen -Y verify, then sha256sum -c."""
    with (out / "manifest.json").open("rb") as manifest:
        return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", "allowed_signers", "-I", "intake-evidence", "-n",
                               "intake-evidence", "-s", "manifest.json.sig"], stdin=manifest, cwd=out,
                              capture_output=True, text=True, check=False)


@SQLITE_ONLY
def test_package_holds_the_files_as_sealed_and_verifies(package):
    """Each evidentiary copy is byte for byte the file, its original_sha256 that of the file as chosen; hostile
    files are "could not be processed" and the rest is written; names cannot escape; the stock tools agree."""
    alice, ref, where, key, out, done = package
    manifest = json.loads((out / "manifest.json").read_text())
    files = manifest["files"]
    assert [f["original_sha256"] for f in files] == [sha(d) for _, _, d in HOSTILE]
    for f, (_, _, data) in zip(files, HOSTILE, strict=True):
        assert (out / f["evidentiary_copy"]["path"]).read_bytes() == data
        assert f["sealed_sha256"] == sha(data)
    assert sorted(p.name for p in (out / "evidence").iterdir()) == sorted(
        Path(f["evidentiary_copy"]["path"]).name for f in files)
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    assert not any("\u202e" in str(p) or ".." in p.name for p in out.rglob("*"))
    gps = files[0]
    assert gps["capture_metadata"]["status"] == "supplied by the reporter, not verified"
    assert "11.5" in gps["capture_metadata"]["gps"]
    assert "CanaryCam X-77" in gps["capture_metadata"]["device"]
    working = (out / gps["working_copy"]["path"]).read_bytes()
    assert sha(working) == gps["working_copy"]["sha256"]
    assert b"canary-gps-7f3e" not in working
    assert "c2pa" in files[1]["provenance"]
    assert files[1]["provenance"]["c2pa"].startswith("a C2PA manifest store")
    assert files[2]["provenance"]["c2pa"].startswith("refused: a JUMBF box declares 99999 bytes")
    assert files[3]["working_copy"] is None
    assert "could not be processed" in files[3]["working_copy_problem"]
    assert files[4]["working_copy"] is None
    assert "could not be processed" in files[4]["working_copy_problem"]
    assert "could not be processed" in done.stderr
    assert manifest["custody"]["entries"][-1]["action"] == "evidence"
    assert manifest["custody"]["intact"]
    assert manifest["anchor"]["items"] == []
    assert "not anchored yet" in manifest["anchor"]["note"]
    stock = stock_verify(out)
    assert stock.returncode == 0
    assert 'Good "intake-evidence" signature for intake-evidence' in stock.stdout
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, check=False).returncode == 0
    assert subprocess.run(["sha256sum", "SHA256SUMS"], cwd=out, capture_output=True, text=True,
                          check=True).stdout.split()[0] == manifest["package_files"]["SHA256SUMS"]
    checked = run_cli("intake-review", "verify", str(out), "--key", str(key) + ".pub", cwd=out.parent)
    assert "verified: signed by SHA256:" in checked.stderr
    text = (out / "VERIFY.txt").read_text()
    assert "ssh-keygen -Y verify -f allowed_signers -I intake-evidence -n intake-evidence" in text
    assert "sha256sum -c SHA256SUMS" in text
    assert "ភាសាខ្មែរ" in text
    assert "မြန်မာဘာသာ" in text
    html = (out / "summary.html").read_text()
    assert "<script" not in html.lower()
    assert "\u202e" not in html
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy == f"default-src 'none'; style-src 'sha256-{digest}'"  # its own style only, nothing inline else
    assert "supplied by the reporter, not verified" in html


@SQLITE_ONLY
def test_one_changed_byte_anywhere_is_named(package):
    """Flipping one byte of any file, the manifest or the signature fails verify, naming it; the stock tools fail
    too (ssh-keygen for the manifest and signature, sha256sum -c for the files)."""
    alice, ref, where, key, out, done = package
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(names) >= 12
    for name in names:
        path = out / name
        data = path.read_bytes()
        at = len(data) // 2
        path.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
        try:
            with pytest.raises(ReviewError) as failed:
                verify_package(out, (out.parent / "org" / "org.pub").read_text().strip())
            assert name.rsplit("/", 1)[-1] in failed.value.message, (name, failed.value.message)
            if name in ("manifest.json", "manifest.json.sig"):
                assert stock_verify(out).returncode != 0, name
            elif name != "allowed_signers":
                assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                                      check=False).returncode != 0, name
        finally:
            path.write_bytes(data)
    for name in ("manifest.json", "manifest.json.sig", "evidence/" + Path(json.loads(
            (out / "manifest.json").read_text())["files"][1]["evidentiary_copy"]["path"]).name):
        path = out / name
        data = path.read_bytes()
        path.write_bytes(data[:40] + bytes([data[40] ^ 1]) + data[41:])
        failed = run_cli("intake-review", "verify", str(out), cwd=out.parent, check=False)
        path.write_bytes(data)
        assert failed.returncode != 0, name
        assert name.rsplit("/", 1)[-1] in failed.stderr, (name, failed.stderr)
    (out / "evidence" / "extra.txt").write_text("added")
    failed = run_cli("intake-review", "verify", str(out), cwd=out.parent, check=False)
    assert failed.returncode != 0
    assert "extra.txt: not in the manifest" in failed.stderr


@SQLITE_ONLY
def test_evidence_needs_a_verified_keyring_and_an_ed25519_key(tmp_path, engine, db_url):
    """No custody entry, no package; an RSA key is refused before anything is written."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], HOSTILE[:1])
    key = org_key(tmp_path / "org")
    refused = alice.run("evidence", ref, "--out", str(tmp_path / "p1"), "--sign-with", str(key),
                        where=("--db", db_url), check=False)
    assert refused.returncode == 9
    assert "custody entry" in refused.stderr
    assert not (tmp_path / "p1").exists()
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp_path / "rsa")], check=True)
    refused = alice.run("evidence", ref, "--out", str(tmp_path / "p2"), "--sign-with", str(tmp_path / "rsa"),
                        where=("--db", db_url, "--keys-dir", keys_dir, "--signer", signer), check=False)
    assert refused.returncode != 0
    assert "not an ed25519 OpenSSH key" in refused.stderr
    assert not (tmp_path / "p2").exists()


@pytest.mark.parametrize("manifest", [b"[" * 100000, b'{"files": [1, 2]}', b'{"files": [{"evidentiary_copy": '
                                      b'{"path": "../../etc/passwd", "sha256": "00"}}], "package_files": '
                                      b'{"SHA256SUMS": "00"}}', b"\xff\xfe", b""])
def test_a_hostile_manifest_is_refused_clearly(tmp_path, manifest):
    """Attack catalogue 4: a manifest of any shape is a named refusal (exit 7), never a traceback or a file read
    outside the package."""
    (tmp_path / "manifest.json").write_bytes(manifest)
    (tmp_path / "manifest.json.sig").write_bytes(b"not a signature")
    (tmp_path / "signer.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEm2Fq6d2a4WXTqZQBUrd+6Wzr3T8e3bMxv\n")
    with pytest.raises(ReviewError) as failed:
        verify_package(tmp_path)
    assert failed.value.exit_code == 7
    assert "Traceback" not in failed.value.message
    assert "passwd: changed" not in failed.value.message
