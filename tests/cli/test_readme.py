"""The README replayed as printed, from a fresh clone, with no virtual environment on PATH (issue 20).

The clone runs the README's demo command itself (`.ci/setup` makes the clone's own .venv: about two
minutes with a warm pip cache), on a free port. A reporter sends a report, then every command the
demo printed runs exactly as printed, in `sh` from the clone's folder, with CASE replaced by the
report's reference; then the commands docs/deploy.md ("Try it on a laptop first") names for the demo.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support import ROOT
from tests.support.proof import Reporter
from tests.support.web import free_port

pytestmark = pytest.mark.slow

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def readme_demo() -> str:
    """The README's demo command, as printed (an indented line)."""
    (line,) = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines()
               if ln.startswith("    ") and "intake demo" in ln]
    return line


def laptop_commands() -> tuple[str, list[str]]:
    """docs/deploy.md, "Try it on a laptop first": its demo command and the commands it then runs."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("## 0. Try it on a laptop first", 1)[1].split("\n## ", 1)[0]
    demo, then = re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)
    return demo.strip(), [line for line in then.splitlines() if line.strip()]


def clean_env() -> dict[str, str]:
    """The user's environment without any virtual environment, INTAKE_* setting or Python path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("INTAKE_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = SYSTEM_PATH
    assert shutil.which("intake", path=SYSTEM_PATH) is None
    assert shutil.which("intake-review", path=SYSTEM_PATH) is None
    return env


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of this repository (its committed HEAD)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    target = tmp_path / "intake"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, timeout=300,
                   capture_output=True)
    return target


def run_printed(clone: Path, env: dict[str, str], load: str, command: str) -> subprocess.CompletedProcess[str]:
    """Run one printed command in sh after the printed line that loads the demo's settings; it must exit 0."""
    result = subprocess.run(["sh", "-c", f"{load}\n{command}"], cwd=clone, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command}\nexited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def read_printed(demo: subprocess.Popen[str], last: str) -> list[str]:
    """The lines the demo prints on stdout, up to the one holding `last`."""
    lines = []
    while not lines or last not in lines[-1]:
        line = demo.stdout.readline()
        assert line, f"the demo stopped printing after {lines}"
        lines.append(line.rstrip("\n"))
    return lines


def wait_for(url: str, demo: subprocess.Popen[str], log: Path) -> None:
    """Wait until the demo serves its keyring."""
    deadline = time.monotonic() + 120
    while True:
        try:
            requests.get(url + "/keyring.json", timeout=5).raise_for_status()
            return
        except requests.RequestException:
            assert demo.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)


def test_readme_demo_and_every_printed_command(clone: Path, tmp_path: Path) -> None:
    """`.ci/setup && .venv/bin/intake demo` as printed; then each printed and documented command exits 0."""
    command = readme_demo()
    assert command == ".ci/setup && .venv/bin/intake demo"
    laptop_demo, laptop = laptop_commands()
    assert laptop_demo == command + " --port 8000"
    env, port = clean_env(), free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as errors:
        demo = subprocess.Popen(["sh", "-c", f"{command} --port {port}"], cwd=clone, env=env, text=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                start_new_session=True)
    watchdog = threading.Timer(1200, os.killpg, (demo.pid, signal.SIGKILL))  # a hung setup ends the readline
    watchdog.start()
    try:
        printed = read_printed(demo, " backup --out ")
        url = f"http://127.0.0.1:{port}"
        wait_for(url, demo, log)
        assert f"open {url}/" in log.read_text()
        load, *commands = printed
        assert load == ". demo/demo.env"
        assert commands[0].startswith(".venv/bin/intake-review ")

        reporter = Reporter(url)
        ref = reporter.send_nojs({"incident_type": "cctv", "occurred": "2026-03", "location": "Mandalay",
                                  "description": "a camera on the junction", "device": ""})
        reporter.close()

        listed = run_printed(clone, env, load, commands[0])
        assert ref in listed.stdout
        for line in commands[1:]:
            run_printed(clone, env, load, line.replace("CASE", ref))
        for line in laptop[1:]:
            done = run_printed(clone, env, laptop[0], line)
            if line.endswith("intake check"):
                assert "FAIL" not in done.stdout, done.stdout
        assert (clone / "demo" / "demo.backup").is_file()
        assert not (clone / "instance").exists()  # nothing ran on the default ./instance
    finally:
        watchdog.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=60)
        demo.stdout.close()
