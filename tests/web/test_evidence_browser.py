"""Issue 25's end to end: Debian's Chromium sends a phone JPEG with GPS (cleaned in the page) and, in a second report,
one with a C2PA box (the page names it and the reporter keeps it whole); `intake-review evidence` packages each, and
their original_sha256 is what `sha256sum` prints for the files on the reporter's disk; the stock ssh-keygen and
`verify` accept the package, and fail on one flipped byte."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from intake.evidence.provenance import provenance
from tests.support import photos, run_cli
from tests.support.reviewkit import Reviewer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def send(page, url: str, path: Path, keep: bool) -> str:
    """Send one report with the file at `path`; with `keep`, through the page's offer to keep it whole."""
    page.goto(url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    page.fill("#description", "a drone over the protest")
    page.select_option("#incident_type", "drone")
    page.set_input_files("#attachments", str(path))
    if keep:
        page.wait_for_selector("#provenance-note:not([hidden])")
        assert page.locator("#provenance .name").all_inner_texts() == [path.name]
        assert page.is_hidden("#provenance-no-keep")
        page.click("#provenance-keep")
        assert page.is_checked("#keep_original")
        page.wait_for_selector("#provenance-note", state="hidden")
    else:
        page.wait_for_timeout(500)
        assert page.is_hidden("#provenance-note")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-box:not([hidden])", timeout=60000)
    return page.inner_text("#receipt")


# The page's provenance.js and the reviewer's provenance.py agree: name -> (what the page finds, what Python finds).
SHAPES = {"one-packet.jpg": ("c2pa", photos.c2pa_photo(packets=1)),
          "five-packets.jpg": ("c2pa", photos.c2pa_photo(packets=5)),
          "lying-larger.jpg": (None, photos.c2pa_photo(declared=99999)),
          "lying-zero.jpg": (None, photos.c2pa_photo(declared=0)),
          "cut.jpg": (None, photos.c2pa_photo()[:300]), "plain.jpg": (None, photos.thumbnail_photo()),
          "x.proof.json": ("proofmode", b"{}")}


def page_finds(page, shapes: dict) -> list:
    """What the page's provenance.js says of each file."""
    return page.evaluate("""async (files) => {
        const { provenanceOf } = await import("/static/js/provenance.js");
        const out = [];
        for (const [name, b64] of files) {
            out.push(await provenanceOf(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name)));
        }
        return out;
    }""", [[name, base64.b64encode(data).decode()] for name, (_, data) in shapes.items()])


def test_python_agrees_with_the_page_on_every_shape():
    """The same shapes through intake/evidence/provenance.py: found where the page finds, refused or absent else."""
    for name, (kind, data) in SHAPES.items():
        found = provenance(name, data)
        assert (kind in found and not found[kind].startswith("refused")) if kind else \
            all(v.startswith("refused") for v in found.values()), name


def sha256sum(path: Path) -> str:
    """What the reporter's own sha256sum prints for the file on their disk."""
    return subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def test_evidence_of_a_cleaned_photo_and_a_c2pa_photo_kept_whole(browser, live, tmp_path):
    """original_sha256 = sha256sum of the reporter's file, both ways; the package verifies and a flip fails it."""
    site, server = live
    disk = tmp_path / "phone"
    disk.mkdir()
    (disk / "IMG_0001.jpg").write_bytes(photos.thumbnail_photo())
    (disk / "IMG_0002.jpg").write_bytes(photos.c2pa_photo())
    context = browser.new_context()
    page = context.new_page()
    refs = [send(page, server.url, disk / "IMG_0001.jpg", keep=False),
            send(page, server.url, disk / "IMG_0002.jpg", keep=True)]
    assert page_finds(page, SHAPES) == [kind for kind, _ in SHAPES.values()]
    context.close()
    alice = Reviewer.make(tmp_path / "alice", identity=site.identities[0])
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "org")], check=True)
    manifests = []
    for n, ref in enumerate(refs):
        out = tmp_path / f"package-{n}"
        alice.run("evidence", ref, "--out", str(out), "--sign-with", str(tmp_path / "org"), where=(), env=site.env)
        manifests.append((out, json.loads((out / "manifest.json").read_text())))
    (cleaned_dir, cleaned), (kept_dir, kept) = manifests
    photo, c2pa = cleaned["files"][0], kept["files"][0]
    assert photo["original_sha256"] == sha256sum(disk / "IMG_0001.jpg") != photo["sealed_sha256"]
    assert b"canary-gps-7f3e" not in (cleaned_dir / photo["evidentiary_copy"]["path"]).read_bytes()
    assert c2pa["original_sha256"] == sha256sum(disk / "IMG_0002.jpg") == c2pa["sealed_sha256"]
    assert (kept_dir / c2pa["evidentiary_copy"]["path"]).read_bytes() == (disk / "IMG_0002.jpg").read_bytes()
    assert c2pa["provenance"]["c2pa"].startswith("a C2PA manifest store")
    assert "11.5" in c2pa["capture_metadata"]["gps"]  # kept whole: its metadata is there, the reporter's word
    for out in (cleaned_dir, kept_dir):
        with (out / "manifest.json").open("rb") as manifest:
            stock = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", "allowed_signers", "-I", "intake-evidence",
                                    "-n", "intake-evidence", "-s", "manifest.json.sig"], stdin=manifest, cwd=out,
                                   capture_output=True, check=False)
        assert stock.returncode == 0
        run_cli("intake-review", "verify", str(out), "--key", str(tmp_path / "org.pub"), cwd=tmp_path)
    evidence = kept_dir / c2pa["evidentiary_copy"]["path"]
    data = evidence.read_bytes()
    evidence.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    failed = run_cli("intake-review", "verify", str(kept_dir), cwd=tmp_path, check=False)
    assert failed.returncode != 0
    assert f"{c2pa['evidentiary_copy']['path']}: changed" in failed.stderr
