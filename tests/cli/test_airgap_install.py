"""The reviewer's tool installs on an air-gapped laptop from a folder of wheels, as docs/review.md says (issue 20 #20).

Setup (a connected machine): build the wheel, `pip download` it and its dependencies into one folder. Then, as
on the laptop: a fresh venv, `pip install --no-index --find-links FOLDER intake` with no pip configuration and no
index, `intake-review --help` and a real `list` on a small database. Flask (the server extra) is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from intake.storage.db import connect, upgrade
from tests.support import ROOT
from tests.support.reviewkit import Reviewer, store

pytestmark = pytest.mark.slow
IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", "out", ".pytest_cache",
                                ".hypothesis", "demo")


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_reviewer_tool_installs_from_a_folder_with_the_index_off(tmp_path: Path) -> None:
    source, wheels = tmp_path / "source", tmp_path / "wheels"
    shutil.copytree(ROOT, source, ignore=IGNORE)  # setuptools builds in the source tree: keep the checkout clean
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, source)
    wheel = next(wheels.glob("intake-*.whl"))
    _run(sys.executable, "-m", "pip", "download", "-d", wheels, wheel)  # the connected machine: the dependencies

    # the laptop: no pip configuration, no index, no find-links but the carried folder
    offline = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "INTAKE_", "PYTHON", "VIRTUAL_ENV"))}
    offline |= {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    venv = tmp_path / "laptop"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--no-index", "--find-links", wheels, "intake", env=offline)
    flask = subprocess.run([venv / "bin" / "python", "-c", "import flask"], capture_output=True, env=offline,
                           timeout=60)
    assert flask.returncode != 0, "the reviewer's install must not pull in the server extra"
    helped = _run(venv / "bin" / "intake-review", "--help", env=offline)
    assert "read the cases sealed to your key" in helped.stdout

    alice = Reviewer.make(tmp_path / "alice")
    database = tmp_path / "cases.db"
    engine = connect(f"sqlite:///{database}")
    upgrade(engine)
    ref = store(engine, [alice.recipient], [("note.txt", "text/plain", b"seen at the market")])
    engine.dispose()
    listed = _run(venv / "bin" / "intake-review", "--identity", alice.key, "--passphrase-file", alice.passphrase,
                  "--db", f"sqlite:///{database}", "list", "--json", env=offline)
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["opened"], row["incident_type"]) == (ref, True, "drone")
    table = _run(venv / "bin" / "intake-review", "list", "--identity", alice.key, "--passphrase-file",
                 alice.passphrase, "--db", f"sqlite:///{database}", env=offline)
    assert ref in table.stdout
    assert table.stderr == "1 case, 0 not opened\n"
