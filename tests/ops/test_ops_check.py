"""`intake check` as a real process: a fresh instance passes; each broken promise fails with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.keytools import Instance, Prepared


def with_alice(instance: Instance) -> None:
    """The signing key and keyring (`intake keys init`) and alice's key, made and added by the real CLI."""
    instance.setup("alice")


@pytest.fixture
def site(tmp_path: Path, db_url: str, prepared: Prepared) -> Instance:
    """A demo-like instance: signing key, signed keyring, one reviewer (a copy of one made once), a few cases."""
    instance = prepared.copy(tmp_path, db_url, with_alice)
    instance.store(3)
    yield instance
    instance.engine.dispose()


def check(site: Instance, **env: str) -> tuple[int, list[str]]:
    """Run `intake check`; return its exit code and its FAIL lines."""
    result = site.run("check", check=False) if not env else _with_env(site, env)
    lines = result.stdout.splitlines()
    assert lines, result.stderr
    assert all(line.split(maxsplit=1)[0] in ("ok", "warn", "FAIL") for line in lines), result.stdout
    return result.returncode, [line for line in lines if line.startswith("FAIL")]


def _with_env(site: Instance, env: dict[str, str]):
    saved = dict(site.env)
    site.env.update(env)
    try:
        return site.run("check", check=False)
    finally:
        site.env.clear()
        site.env.update(saved)


def test_fresh_instance_passes(site: Instance) -> None:
    """Every check passes on a fresh instance with a reviewer and cases (both databases)."""
    code, failed = check(site)
    assert failed == []
    assert code == 0


def test_tampered_keyring_fails_in_one_line(site: Instance) -> None:
    """A keyring edited after signing (a reviewer key swapped by name) fails the keyring line, and only it."""
    path = site.root / "keys" / "keyring.json"
    data = json.loads(path.read_text())
    data["keys"][0]["name"] = "mallory"
    path.write_text(json.dumps(data))
    code, failed = check(site)
    assert code == 1
    assert len(failed) == 1
    assert failed[0].startswith("FAIL  keyring:")
    assert "signature check" in failed[0]


def test_world_readable_instance_fails_in_one_line(site: Instance) -> None:
    """An instance folder other users can read fails with one line saying which chmod fixes it."""
    (site.root / "instance").chmod(0o755)
    code, failed = check(site)
    assert code == 1
    assert len(failed) == 1
    assert "instance folder" in failed[0]
    assert "chmod -R go-rwx" in failed[0]
    (site.root / "instance").chmod(0o700)
    assert check(site) == (0, [])


def test_old_keyring_copied_back_fails(site: Instance) -> None:
    """A validly signed but older keyring (before bob was added) is caught against the audit log."""
    path = site.root / "keys" / "keyring.json"
    old = path.read_text()
    site.reviewer("bob")
    path.write_text(old)
    code, failed = check(site)
    assert code == 1
    assert len(failed) == 1
    assert "older than the audit log" in failed[0]


def test_readable_signing_key_and_writable_keyring_fail(site: Instance) -> None:
    """The admin signing key readable by others, and a keyring others may rewrite, are each one line."""
    signing = site.root / "instance" / "admin-signing.key"
    keyring = site.root / "keys" / "keyring.json"
    signing.chmod(0o644)
    keyring.chmod(0o666)
    code, failed = check(site)
    assert code == 1
    assert len(failed) == 2
    assert "admin signing key" in failed[0]
    assert f"chmod 600 {signing}" in failed[0]
    assert f"chmod go-w {keyring}" in failed[1]


def test_weakening_settings(site: Instance) -> None:
    """POW bits 0 fails; a proxy variable and a password in a PostgreSQL URL warn."""
    code, failed = check(site, INTAKE_POW_BITS="0")
    assert code == 1
    assert len(failed) == 1
    assert "INTAKE_POW_BITS=0" in failed[0]
    result = _with_env(site, {"HTTPS_PROXY": "http://127.0.0.1:3128"})
    assert result.returncode == 0
    assert "warn  settings: HTTPS_PROXY is set" in result.stdout


def test_missing_instance_and_database(tmp_path: Path) -> None:
    """No instance at all, or no database in it, says to run `intake init`."""
    site = Instance(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    site.engine.dispose()
    code, failed = check(site)
    assert code == 1
    assert failed == [f"FAIL  instance: no instance folder at {tmp_path / 'instance'}: set INTAKE_INSTANCE to your "
                      "instance folder, or run `intake init` to make a new one"]
    (tmp_path / "instance").mkdir(mode=0o700)
    code, failed = check(site)
    assert any("run `intake init`" in line and "database" in line for line in failed)
    shutil.rmtree(tmp_path / "instance")
