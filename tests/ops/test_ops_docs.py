"""docs/deploy.md: every command in its ```sh blocks parses, exists, and names real intake options and files."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.support import BIN, ROOT, run_cli

DOC = ROOT / "docs" / "deploy.md"
DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/intake"
# Programs the doc runs that a CI container does not have, with the Debian package that ships them.
NOT_IN_CI = {"nginx": "nginx"}
SYSTEM_UNITS = {"tor@default", "nginx"}


def blocks() -> list[str]:
    """The text of every ```sh block of the doc."""
    found = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(), re.M | re.S)
    assert len(found) >= 10
    return found


def commands() -> list[list[str]]:
    """Every command line of the sh blocks, as words (the `intake` shell function included as one)."""
    lines = []
    for block in blocks():
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(words)
    return lines


def test_every_block_parses() -> None:
    """bash -n accepts each block."""
    bash = shutil.which("bash") or "/bin/bash"
    for block in blocks():
        result = subprocess.run([bash, "-n"], input=block, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{result.stderr}\n{block}"


def _programs(words: list[str]) -> list[str]:
    """The programs a command line runs: its first word, and what runuser runs after `--`."""
    found = [words[0]]
    if words[0] == "runuser" and "--" in words:
        found.append(words[words.index("--") + 1])
    return found


def test_every_program_exists() -> None:
    """Each program is on this machine (Debian's, or this checkout's venv), or listed with its Debian package."""
    for words in commands():
        if words[0].startswith("intake()"):
            continue
        for program in _programs(words):
            if program == "intake" or program.startswith(INSTALLED) or program == ".":  # `.`: sh's own
                continue
            if program.startswith("."):  # the laptop's steps, in the checkout: .ci/setup
                assert (ROOT / program).is_file(), program
                continue
            assert shutil.which(program) or program in NOT_IN_CI, f"{program} is not installed: {' '.join(words)}"


def definition() -> str:
    """The doc's `intake` shell function, as written."""
    (line,) = [ln for block in blocks() for ln in block.splitlines() if ln.startswith("intake()")]
    return line


def test_intake_function_runs_the_installed_intake() -> None:
    """The doc's `intake` shell function runs the path the systemd units run, with the env file, as `intake`."""
    text = definition()
    assert f"{INSTALLED}/.venv/bin/intake" in text
    assert "runuser -u intake --" in text
    assert "/etc/intake/intake.env" in text
    assert "xargs" not in text  # it split values at spaces and mangled quotes (issue 20, item 28)
    assert f"ExecStart={INSTALLED}/.venv/bin/intake serve" in (DEPLOY / "intake.service").read_text()
    assert "EnvironmentFile=/etc/intake/intake.env" in (DEPLOY / "intake.service").read_text()
    for program in ("runuser", "sh"):
        assert shutil.which(program), program


def test_intake_function_keeps_spaces_and_quotes(tmp_path: Path) -> None:
    """Item 28: values with spaces and single and double quotes, quoted as the doc says, reach intake whole."""
    folder = tmp_path / "it's a \"quoted\" folder $HOME"
    env_file = tmp_path / "intake env"
    env_file.write_text("# as in deploy/intake.env.example\n"
                        f"INTAKE_INSTANCE={shlex.quote(str(folder / 'instance'))}\n"
                        f"INTAKE_KEYS_DIR={shlex.quote(str(folder / 'keys'))}\n"
                        "INTAKE_POW_BITS=16\n")
    helper = definition().replace("runuser -u intake -- ", "")  # CI has no `intake` user to run as
    helper = helper.replace("/etc/intake/intake.env", shlex.quote(str(env_file)).replace("'", "'\\''"))
    helper = helper.replace(f"{INSTALLED}/.venv/bin/intake", str(BIN / "intake"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    script = f"{helper}\nintake init && intake check"
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=clean, capture_output=True, text=True,
                            timeout=300)
    assert (folder / "instance" / "intake.db").is_file(), result.stderr
    assert f"the instance folder {folder / 'instance'} is private" in result.stdout, result.stdout + result.stderr
    assert not (tmp_path / "instance").exists()


def _intake_words(words: list[str]) -> tuple[list[str], list[str]]:
    """Split `intake keys add FILE --opt X` into the subcommand (keys add) and the options (--opt)."""
    sub = []
    for word in words[1:]:
        if word.startswith(("-", "/")) or "." in word:
            break
        sub.append(word)
    return sub, [w.split("=", 1)[0] for w in words if w.startswith("--")]


def test_every_intake_command_and_option_exists(tmp_path: Path) -> None:
    """`intake SUB --help` succeeds for each intake command in the doc, and lists each option it uses."""
    seen = set()
    for words in commands():
        if words[0] != "intake":
            continue
        sub, options = _intake_words(words)
        assert sub, words
        result = run_cli("intake", *sub, "--help", cwd=tmp_path, check=False)
        assert result.returncode == 0, f"intake {' '.join(sub)}: {result.stderr}"
        for option in options:
            assert option in result.stdout, f"intake {' '.join(sub)} has no {option}"
        seen.add(" ".join(sub))
    assert {"init", "keys init", "keys add", "check", "backup", "restore"} <= seen


def test_every_deploy_file_and_unit_named_exists() -> None:
    """Files installed from deploy/ exist, units enabled are shipped, and pip extras are in pyproject.toml."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for words in commands():
        for word in words:
            if word.startswith(f"{INSTALLED}/deploy/"):
                assert (DEPLOY / word.removeprefix(f"{INSTALLED}/deploy/")).is_file(), word
            match = re.fullmatch(re.escape(INSTALLED) + r"\[(.*)\]", word)
            if match:
                assert set(match.group(1).split(",")) <= set(extras), word
        if words[:1] == ["systemctl"] and words[1] in ("enable", "restart", "start", "stop", "reload"):
            for unit in (w for w in words[2:] if not w.startswith("-")):
                name = unit if "." in unit else f"{unit}.service"
                assert unit in SYSTEM_UNITS or (DEPLOY / name).is_file(), unit


@pytest.mark.parametrize("name", ["intake-expire.timer", "intake-backup.timer", "intake-notify.timer",
                                  "intake-purge.timer"])
def test_every_timer_is_in_the_doc(name: str) -> None:
    """Each timer shipped is installed by a step of the doc."""
    assert f"{INSTALLED}/deploy/{name}" in DOC.read_text()
