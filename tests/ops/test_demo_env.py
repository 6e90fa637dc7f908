"""demo.env (issue 20 item 1) with an odd instance path: loading it runs nothing and sets every path exactly."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from intake.demo import demo_settings, write_env
from intake.settings import Settings


def test_odd_instance_paths_run_nothing_when_loaded(tmp_path):
    """Red team round 3: a line break in the instance path ended demo.env's comment line, so the rest of the
    path ran as a shell command when the file was loaded (`. demo.env`)."""
    canary = tmp_path / "ran"
    odd = "demo\ntouch ran #'q\"$(touch ran)`touch ran`"
    instance = tmp_path / odd
    instance.mkdir()
    settings = demo_settings(instance, Settings.from_env({"INTAKE_INSTANCE": str(instance)}))
    env_file = write_env(settings, Path("/usr/bin"))
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    loaded = subprocess.run(["sh", "-c", '. "$1" && printf "%s\\0" "$INTAKE_INSTANCE" "$INTAKE_KEYS_DIR"', "sh",
                             str(env_file)], cwd=tmp_path, capture_output=True, timeout=30, check=True)
    assert not canary.exists()
    assert loaded.stdout.split(b"\0")[:2] == [str(instance).encode(), str(instance / "keys").encode()]
    assert loaded.stderr == b""


def test_a_planted_staging_file_is_not_written_through(tmp_path):
    """Red team round 3: demo.env was staged with O_TRUNC and no O_NOFOLLOW, so a link planted at its staging name
    emptied the file it pointed to, and a leftover world-readable staging file kept its mode."""
    instance = tmp_path / "demo"
    instance.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (instance / f".demo.env.{os.getpid()}").symlink_to(victim)
    settings = demo_settings(instance, Settings.from_env({"INTAKE_INSTANCE": str(instance)}))
    env_file = write_env(settings, Path("/usr/bin"))
    assert victim.read_text() == "keep me\n"
    assert not env_file.is_symlink()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    stale = instance / f".demo.env.{os.getpid()}"
    stale.write_text("old")
    stale.chmod(0o644)
    assert stat.S_IMODE(write_env(settings, Path("/usr/bin")).stat().st_mode) == 0o600
