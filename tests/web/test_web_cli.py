"""`intake serve`, `intake demo` and `intake expire-uploads` as real processes."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import nacl.signing
import pytest

from intake.crypto.keys import b64encode
from intake.keys.keyring import canonical, unlock_signing_key
from tests.support import run_cli
from tests.support.web import BIN, PASSPHRASE, free_port, make_site

pytestmark = pytest.mark.slow


def serve_fails(site, tmp_path: Path) -> str:
    """Run `intake serve` and return its error, asserting that it refused to start."""
    result = run_cli("intake", "serve", "--port", str(free_port()), cwd=tmp_path, env=site.env, check=False)
    assert result.returncode == 1, result.stderr
    return result.stderr


def resign(site, change) -> None:
    """Rewrite keyring.json with `change` applied, signed by the real admin key."""
    path = site.settings.keys_dir / "keyring.json"
    data = json.loads(path.read_text())
    data.pop("signature")
    change(data)
    key: nacl.signing.SigningKey = unlock_signing_key(site.settings.instance / "admin-signing.key", PASSPHRASE)
    data["signature"] = b64encode(key.sign(canonical(data)).signature)
    path.write_text(json.dumps(data))


def test_serve_refuses_bad_keyrings(tmp_path: Path):
    """A keyring whose signature fails, with no active key, or with an invalid key: no server."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    path = site.settings.keys_dir / "keyring.json"
    good = path.read_text()
    path.write_text(good.replace('"serial": 1', '"serial": 7'))
    assert "failed its signature check" in serve_fails(site, tmp_path)
    path.write_text(good)
    resign(site, lambda d: [k.update(status="retired") for k in d["keys"]])
    assert "no active key" in serve_fails(site, tmp_path)
    path.write_text(good)
    resign(site, lambda d: d["keys"][0].update(recipient="intake-recipient-1:" + "A" * 43))
    assert "invalid public key" in serve_fails(site, tmp_path)
    site.engine.dispose()


def test_demo(tmp_path: Path):
    """`intake demo` makes everything, serves on 127.0.0.1 and prints an intake-review command that works."""
    port = free_port()
    instance = tmp_path / "demo"
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen([str(BIN / "intake"), "demo", "--instance", str(instance), "--port", str(port)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout.readline().decode().strip() == ". demo/demo.env"
        command = process.stdout.readline().decode().split()
        deadline = time.monotonic() + 60
        while True:
            try:
                keyring = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/keyring.json", timeout=2))  # noqa: S310
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
                assert process.poll() is None, (tmp_path / "demo.log").read_text()
                time.sleep(0.3)
        assert len(keyring["recipients"]) == 1
        assert command[:2] == [str(BIN / "intake-review"), "--identity"]  # runs with no venv on PATH
        assert command[-1] == "list"
        assert (instance / "demo.passphrase").stat().st_mode & 0o777 == 0o600
        assert (instance / "demo.key").stat().st_mode & 0o777 == 0o600
        listed = subprocess.run(["sh", "-c", f". demo/demo.env && {' '.join(command)} --json"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120, check=True)
        assert json.loads(listed.stdout) == []
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        log.close()


def test_expire_uploads_command(tmp_path: Path):
    """`intake expire-uploads` runs on the configured database."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    from intake.storage.db import upgrade

    upgrade(site.engine)
    result = run_cli("intake", "expire-uploads", cwd=tmp_path, env=site.env)
    assert "expired 0 abandoned uploads" in result.stderr
    site.engine.dispose()
