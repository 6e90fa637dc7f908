"""Follow-up files air-gapped: `intake export-sealed` carries them (bundle version 3), `intake-review --bundle`
shows and exports the same files as from the database; a version 2 bundle still reads; forged ranges are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_cli
from tests.support.reviewkit import Reviewer
from tests.support.threadfiles import FILES, ThreadCase, manifest_of, rewrite_manifest

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _export_sealed(db_url: str, tmp_path: Path) -> Path:
    out = tmp_path / "cases.bundle"
    (tmp_path / "instance").mkdir(mode=0o700, exist_ok=True)  # where the import key lives
    run_cli("intake", "export-sealed", "--out", str(out), cwd=tmp_path, env={"INTAKE_DATABASE_URL": db_url})
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def carried(engine, db_url, tmp_path):
    """A case with two follow-ups (one with the photo and the minutes, one with text only), and its bundle."""
    alice = Reviewer.make(tmp_path / "alice")
    case = ThreadCase.store(engine, [alice.recipient])
    case.follow_up(engine, FILES)
    case.follow_up(engine, [], "no files this time")
    return alice, case, _export_sealed(db_url, tmp_path)


def test_bundle_shows_and_exports_the_same_files(carried, db_url, tmp_path):
    alice, case, bundle = carried
    thread = manifest_of(bundle)["cases"][0]["thread"]
    assert manifest_of(bundle)["format"] == "intake-bundle-3"
    assert [len(m["attachments"]) for m in thread] == [2, 0]
    from_db = alice.json("show", case.ref, where=("--db", db_url))
    from_bundle = alice.json("show", case.ref, where=("--bundle", str(bundle)))
    assert from_bundle["thread"] == from_db["thread"]
    assert [len(m["attachments"]) for m in from_bundle["thread"]] == [2, 0]
    for where, out in ((("--db", db_url), tmp_path / "db"), (("--bundle", str(bundle)), tmp_path / "air")):
        alice.run("export", case.ref, "--out", str(out), where=where)
    assert _tree(tmp_path / "air") == _tree(tmp_path / "db")
    assert (tmp_path / "air" / "thread" / "message-1-file-2-minutes.bin").read_bytes() == FILES[1][2]


@SQLITE_ONLY
def test_a_version_2_bundle_still_reads(engine, db_url, tmp_path):
    alice = Reviewer.make(tmp_path / "alice")
    case = ThreadCase.store(engine, [alice.recipient])
    case.follow_up(engine, [], "text only, as in version 2")
    manifest = manifest_of(_export_sealed(db_url, tmp_path))
    manifest["format"] = "intake-bundle-2"
    for message in manifest["cases"][0]["thread"]:
        del message["attachments"]
    old = tmp_path / "old.bundle"
    rewrite_manifest(tmp_path / "cases.bundle", old, manifest)
    shown = alice.json("show", case.ref, where=("--bundle", str(old)))
    assert [(m["text"], m["attachments"]) for m in shown["thread"]] == [("text only, as in version 2", [])]
    alice.run("export", case.ref, "--out", str(tmp_path / "out"), where=("--bundle", str(old)))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "statement.bin"]


def _first(manifest: dict) -> dict:
    """The first message of the bundle's case, to forge."""
    return manifest["cases"][0]["thread"][0]


def _outside(manifest: dict) -> None:
    _first(manifest)["attachments"][1][0] += 1 << 40


def _same_range(manifest: dict) -> None:
    files = _first(manifest)["attachments"]
    files[1] = list(files[0])


def _into_body(manifest: dict) -> None:
    _first(manifest)["attachments"][0][0] = _first(manifest)["body"][0]


def _negative(manifest: dict) -> None:
    _first(manifest)["attachments"][0][1] = -1


def _text(manifest: dict) -> None:
    _first(manifest)["attachments"][0] = "0-100"


def _version_2(manifest: dict) -> None:
    manifest["format"] = "intake-bundle-2"


def _same_seq(manifest: dict) -> None:
    manifest["cases"][0]["thread"][1]["seq"] = _first(manifest)["seq"]


@SQLITE_ONLY
@pytest.mark.parametrize(("change", "expect"), [
    (_outside, "message 1's file 2 lies outside the data area"),
    (_same_range, "message 1's file 2 overlaps the previous range"),
    (_into_body, "message 1's file 1 overlaps the previous range"),
    (_negative, "message 1's file 1 lies outside the data area"),
    (_text, "the range of case {ref}'s message 1's file 1 is not [offset, length]"),
    (_version_2, "message 1 must list its files' streams in a version 3 bundle, and only there"),
    (_same_seq, "thread is not in the order of its messages' seq, each once"),
])
def test_forged_message_ranges_are_refused(carried, tmp_path, change, expect):
    alice, case, bundle = carried
    manifest = manifest_of(bundle)
    change(manifest)
    forged = tmp_path / "forged.bundle"
    rewrite_manifest(bundle, forged, manifest)
    result = alice.run("show", case.ref, where=("--bundle", str(forged)), check=False)
    assert result.returncode == 8, result.stderr
    assert "the bundle's manifest is malformed" in result.stderr
    assert expect.format(ref=case.ref) in result.stderr
    assert "ask for a new `intake export-sealed`" in result.stderr
    assert "Traceback" not in result.stderr
