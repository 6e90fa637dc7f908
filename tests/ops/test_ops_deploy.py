"""deploy/: every systemd unit passes `systemd-analyze verify` and every torrc `tor --verify-config`."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import BIN, ROOT, run_cli

DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/intake/.venv/bin/intake"
UNITS = sorted(p.name for p in DEPLOY.glob("intake*.service")) + sorted(p.name for p in DEPLOY.glob("intake*.timer"))
HARDENING = ["User=intake", "ProtectSystem=strict", "ProtectHome=true", "PrivateTmp=true", "NoNewPrivileges=true",
             "LimitCORE=0", "MemoryMax=", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=",
             "SystemCallFilter=@system-service", "UMask=0077"]


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not found:
        pytest.fail(f"{name} is missing: run .ci/setup (it installs Debian's tor and systemd)")
    return found


def render(folder: Path) -> Path:
    """Copy the units into `folder`, with the one change an install makes: ExecStart names this venv's intake.

    systemd-analyze verify checks that ExecStart's program exists and is executable; the real
    `intake` of this checkout stands in for /opt/intake/.venv/bin/intake, nothing else changes.
    """
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (folder / name).write_text(text.replace(INSTALLED, str(BIN / "intake")))
    return folder


def verify(folder: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """Run systemd-analyze verify on these unit files."""
    return subprocess.run([_tool("systemd-analyze"), "verify", *names], cwd=folder, capture_output=True, text=True,
                          timeout=120)


def test_every_unit_verifies(tmp_path: Path) -> None:
    """systemd-analyze verify accepts every unit and timer, with no warning at all."""
    assert "intake.service" in UNITS
    assert len(UNITS) == 11
    result = verify(render(tmp_path), *UNITS)
    assert result.stderr.strip() == "", result.stderr
    assert result.returncode == 0


def test_services_are_hardened(tmp_path: Path) -> None:
    """Each service runs as `intake`, with only the instance writable, and scores low in `systemd-analyze security`."""
    render(tmp_path)
    for name in (n for n in UNITS if n.endswith(".service")):
        text = (DEPLOY / name).read_text()
        missing = [h.strip() for h in HARDENING if h not in text]
        assert not missing, f"{name} lacks {missing}"
        writable = re.findall(r"^ReadWritePaths=(.*)$", text, re.M)
        assert writable
        assert all(p.startswith(("/var/lib/intake", "/var/backups/intake")) for p in writable[0].split())
        assert INSTALLED in text, f"{name} must run the installed intake"
        out = subprocess.run([_tool("systemd-analyze"), "security", "--offline=true", name], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout).group(1))
        assert score <= 1.5, f"{name} exposure {score}:\n{out.stdout}"


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The verifier is not a rubber stamp: a misspelt directive and a missing program are reported."""
    render(tmp_path)
    unit = tmp_path / "intake.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSistem=strict"))
    assert "Unknown key 'ProtectSistem'" in verify(tmp_path, "intake.service").stderr  # exit 0: hence stderr == ""
    unit.write_text((DEPLOY / "intake.service").read_text())
    result = verify(tmp_path, "intake.service")
    assert result.returncode != 0
    assert "is not executable" in result.stderr


DEBIAN_DEFAULTS = Path("/usr/share/tor/tor-service-defaults-torrc")


def tor_verify(torrc: Path) -> subprocess.CompletedProcess[str]:
    """Run `tor --verify-config` offline as Debian's tor@default reads it (defaults file first, then the torrc)."""
    defaults = ["--defaults-torrc", str(DEBIAN_DEFAULTS)] if DEBIAN_DEFAULTS.exists() else []
    return subprocess.run([_tool("tor"), "--verify-config", *defaults, "-f", str(torrc)], capture_output=True,
                          text=True, timeout=120)


def test_torrc_verifies_with_pow_on() -> None:
    """Every torrc shipped is valid for Debian's tor, and turns on the onion service's proof-of-work defence."""
    torrcs = sorted(DEPLOY.glob("torrc*"))
    assert torrcs
    for torrc in torrcs:
        result = tor_verify(torrc)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Configuration was valid" in result.stdout
        text = torrc.read_text()
        assert re.search(r"^HiddenServicePoWDefensesEnabled 1$", text, re.M)
        assert re.search(r"^HiddenServicePort 80 127\.0\.0\.1:8000$", text, re.M)
        assert re.search(r"^SocksPort 0$", text, re.M)


def test_tor_verify_catches_a_misspelt_option(tmp_path: Path) -> None:
    """tor refuses an option name it does not know, so a typo in the PoW line cannot pass unnoticed."""
    bad = tmp_path / "torrc"
    typo = "HiddenServicePoWDefencesEnabled"
    bad.write_text((DEPLOY / "torrc").read_text().replace("HiddenServicePoWDefensesEnabled", typo))
    result = tor_verify(bad)
    assert result.returncode != 0
    assert f"Unknown option '{typo}'" in result.stdout


def test_backup_unit_command_runs(tmp_path: Path) -> None:
    """The backup unit's ExecStart and ExecStartPost, unescaped as systemd does: today's file made, old ones gone."""
    text = (DEPLOY / "intake-backup.service").read_text()
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / "intake-2000-01-01.backup"
    old.write_bytes(b"old")
    os.utime(old, (0, 0))

    def line(key: str) -> list[str]:
        raw = re.search(rf"^{key}=(.*)$", text, re.M).group(1).replace("$$", "$").replace("%%", "%")
        return shlex.split(raw.replace(INSTALLED, str(BIN / "intake")).replace("/var/backups/intake", str(folder)))

    env = {"INTAKE_INSTANCE": str(tmp_path / "instance"), "INTAKE_KEYS_DIR": str(tmp_path / "keys")}
    run_cli("intake", "init", cwd=tmp_path, env=env)
    for key in ("ExecStart", "ExecStartPost"):
        subprocess.run(line(key), cwd=tmp_path, env={**os.environ, **env}, check=True, timeout=120)
    made = sorted(p.name for p in folder.iterdir())
    assert made == [f"intake-{dt.datetime.now(dt.UTC).date().isoformat()}.backup"]
