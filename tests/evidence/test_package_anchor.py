"""An evidence package carries its case's anchor (issue 25 item 4): `intake anchor` on a day of 3 reports, a package
of one, `verify` checks each proof against its root and the token against the root (under the TSA's CA, or says it
could not), the stock `openssl ts -verify` of VERIFY.txt accepts the token; every tampering is named."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update

from intake.anchor.timestamp import request
from intake.clock import today
from intake.evidence.verify import verify_package
from intake.review.errors import ReviewError
from intake.storage.cases import get_case
from intake.storage.schema import cases, messages
from intake.storage.threads import add_message
from tests.support import photos, run_cli
from tests.support.reviewkit import Reviewer, org_key, signed_keyring, store
from tests.support.tsa import LocalTSA, local_tsa

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
YESTERDAY = today() - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def tsa() -> LocalTSA:
    """One local TSA (openssl ts) for the module."""
    with local_tsa() as running:
        yield running


def make_package(tmp_path: Path, engine, db_url: str, tsa: LocalTSA | None, day: dt.date = YESTERDAY):  # noqa: ANN001, ANN201
    """Three reports of `day` (the first with a photo and a reporter's message), `intake anchor` run on that day
    when a TSA is given, and the evidence package of the first report."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    photo = [("photo.jpg", "image/jpeg", photos.thumbnail_photo())]
    refs = [store(engine, [alice.recipient], photo if n == 0 else []) for n in range(3)]
    ids = [get_case(engine, ref).id for ref in refs]
    add_message(engine, ids[0], "reporter", os.urandom(80), os.urandom(120))
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id.in_(ids)).values(received=day))
        conn.execute(update(messages).where(messages.c.case_id.in_(ids)).values(day=day))
    if tsa is not None:
        (tmp_path / "instance").mkdir(mode=0o700)
        env = {"INTAKE_DATABASE_URL": db_url, "INTAKE_INSTANCE": str(tmp_path / "instance"), "INTAKE_TSA_URL": tsa.url}
        done = run_cli("intake", "anchor", cwd=tmp_path, env=env)
        assert f"{day}: anchored 4 items in 64 leaves" in done.stderr
    key = org_key(tmp_path / "org")
    out = tmp_path / "package"
    where = ("--db", db_url, "--keys-dir", keys_dir, "--signer", signer)
    done = alice.run("evidence", refs[0], "--out", str(out), "--sign-with", str(key), where=where)
    return out, key, done


def test_the_package_carries_the_anchor_and_verifies(tmp_path, engine, db_url, tsa):
    """Done when: the report's and its message's proofs lead to the day's root, verify passes under the TSA's CA and
    says what it could not check without it, and VERIFY.txt's `openssl ts -verify` accepts the token."""
    out, key, _ = make_package(tmp_path, engine, db_url, tsa)
    manifest = json.loads((out / "manifest.json").read_text())
    anchor = manifest["anchor"]
    assert [i["what"] for i in anchor["items"]] == ["report", "message 1"]
    assert anchor["not_anchored"] == []
    assert "existed by the end of that day" in anchor["proves"]
    proof = anchor["items"][0]["proof"]
    assert proof["day"] == YESTERDAY.isoformat()
    assert not proof["partial"]
    assert proof["body_sha256"] == manifest["sealed"]["body_sha256"]
    assert proof["stream_sha256"] == manifest["sealed"]["streams_sha256"]
    files = anchor["items"][0]["files"]
    assert (out / files["root"]).read_bytes().hex() == proof["root"]
    assert (out / files["timestamp"]).read_bytes() == base64.b64decode(proof["timestamp"])
    assert anchor["items"][1]["files"] == files  # one day, one root and token
    checked = run_cli("intake-review", "verify", str(out), "--key", f"{key}.pub", "--tsa-ca", str(tsa.ca),
                      cwd=tmp_path)
    assert f"anchor of the report: in the anchor of {YESTERDAY}" in checked.stderr
    assert "signed by a TSA under the given CA" in checked.stderr
    assert "verified: signed by SHA256:" in checked.stderr
    unchecked = run_cli("intake-review", "verify", str(out), "--key", f"{key}.pub", cwd=tmp_path)
    assert "signature NOT checked: give --tsa-ca FILE" in unchecked.stderr
    assert "verified" in unchecked.stderr
    text = (out / "VERIFY.txt").read_text()
    command = next(line.strip() for line in text.splitlines() if line.strip().startswith("openssl ts -verify"))
    assert command == f"openssl ts -verify -in {files['timestamp']} -data {files['root']} -CAfile TSA-CA.pem"
    stock = subprocess.run(shlex.split(command.replace("TSA-CA.pem", str(tsa.ca))), cwd=out, capture_output=True,
                           text=True, timeout=60, check=False)
    assert stock.stdout.strip() == "Verification: OK", stock.stderr
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, check=False).returncode == 0
    assert files["timestamp"] in (out / "SHA256SUMS").read_text()
    assert "Verification: OK" in text.split("== ភាសាខ្មែរ ==")[1]
    assert "Anchor: existence by a day" in (out / "summary.html").read_text()


@SQLITE_ONLY
def test_a_case_not_anchored_yet_says_so(tmp_path, engine, db_url):
    """A case of today (no anchor yet): the package says so, verify passes and repeats it; no openssl command."""
    out, key, done = make_package(tmp_path, engine, db_url, None, today())
    anchor = json.loads((out / "manifest.json").read_text())["anchor"]
    assert anchor["items"] == []
    assert anchor["not_anchored"] == ["report", "message 1"]
    assert "not anchored yet" in done.stderr
    assert not (out / "anchor").exists()
    checked = run_cli("intake-review", "verify", str(out), "--key", f"{key}.pub", cwd=tmp_path)
    assert "anchor: not anchored yet" in checked.stderr
    assert "openssl" not in (out / "VERIFY.txt").read_text()


def resign(out: Path, key: Path, manifest: dict) -> None:
    """Write an edited manifest and sign it again with the organisation's key: only the anchor's checks can fail."""
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
    (out / "manifest.json").write_bytes(text)
    (out / "manifest.json.sig").unlink()
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "intake-evidence",
                    str(out / "manifest.json")], check=True, capture_output=True, timeout=60)


@SQLITE_ONLY
def test_tampered_anchors_fail_and_are_named(tmp_path, engine, db_url, tsa):
    """Adversary: an edited proof, a swapped root, a token of another root, a token by another TSA, an anchor file
    outside the folder, a huge or malformed anchor: each fails verify naming what is wrong, even re-signed; not
    re-signed, the signature fails too."""
    out, key, _ = make_package(tmp_path, engine, db_url, tsa)
    good = json.loads((out / "manifest.json").read_text())
    proof = good["anchor"]["items"][0]["proof"]
    other = base64.b64encode(request(tsa.url, os.urandom(32))).decode()  # genuine, from the same TSA, of other data
    with local_tsa() as forger:
        own = request(forger.url, bytes.fromhex(proof["root"]))  # the right root, stamped by someone else's TSA
    tsr = good["anchor"]["items"][0]["files"]["timestamp"]

    def edit(key_: str, value: object) -> Callable[[dict], None]:
        return lambda m: m["anchor"]["items"][0]["proof"].__setitem__(key_, value)

    cases_ = {
        "path": (edit("path", [*reversed(proof["path"][:2]), *proof["path"][2:]]), "does not lead to the day's root"),
        "index": (edit("index", (proof["index"] + 1) % 64), "does not lead to the day's root"),
        "root": (edit("root", "ab" * 32), "not the root of the proof"),
        "body": (edit("body_sha256", "00" * 32), "do not give the proof's item"),
        "token": (edit("timestamp", other), "stamps other data"),
        "junk token": (edit("timestamp", base64.b64encode(b"junk").decode()), "not an RFC 3161"),
        "day": (edit("day", today().isoformat()), "not after the end of"),
        "format": (edit("format", {"a": 1}), "unknown anchor proof format"),
        "another item": (lambda m: m["anchor"]["items"][0].__setitem__("proof", m["anchor"]["items"][1]["proof"]),
                         "its proof is of other sealed bytes"),  # the message's proof given as the report's
        "renumbered": (lambda m: m["anchor"]["items"][0].update(seq=1, proof=m["anchor"]["items"][1]["proof"]),
                       "its proof is of other sealed bytes"),
        "escape": (lambda m: m["anchor"]["files"].__setitem__("../../etc/passwd", "00"), "outside the package"),
        "nested": (lambda m: m["anchor"].__setitem__("items", [{"what": [[[[[]]]]]}]), "anchor: malformed"),
        "files": (lambda m: m["anchor"].__setitem__("files", "x" * 100000), "not an evidence manifest"),
    }
    for name, (change, said) in cases_.items():
        manifest = json.loads(json.dumps(good))
        change(manifest)
        resign(out, key, manifest)
        with pytest.raises(ReviewError) as failed:
            verify_package(out, (out.parent / "org" / "org.pub").read_text().strip(), tsa.ca.read_bytes())
        assert said in failed.value.message, (name, failed.value.message)
        assert "Traceback" not in failed.value.message
    resign(out, key, good)
    (out / tsr).write_bytes(own)  # the token file replaced by one of another TSA: the file's hash and the CA say so
    with pytest.raises(ReviewError) as failed:
        verify_package(out, None, tsa.ca.read_bytes())
    assert f"{tsr}: changed" in failed.value.message
    manifest = json.loads(json.dumps(good))
    manifest["anchor"]["items"][0]["proof"]["timestamp"] = base64.b64encode(own).decode()
    manifest["anchor"]["files"][tsr] = hashlib.sha256(own).hexdigest()
    resign(out, key, manifest)
    with pytest.raises(ReviewError) as failed:
        verify_package(out, None, tsa.ca.read_bytes())
    assert "not signed by a TSA under the given CA" in failed.value.message
    signed = (out / "manifest.json").read_bytes()
    (out / "manifest.json").write_bytes(signed.replace(b'"partial": false', b'"partial": true'))
    done = run_cli("intake-review", "verify", str(out), cwd=tmp_path, check=False)
    assert done.returncode == 7
    assert "manifest.json.sig" in done.stderr
