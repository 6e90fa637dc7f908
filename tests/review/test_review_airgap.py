"""intake-review runs with Flask and the web code unimportable, and never writes binary to a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap

import pytest

from tests.support import BIN
from tests.support.reviewkit import Reviewer, store

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

NO_WEB = textwrap.dedent("""
    import importlib, importlib.abc, json, pkgutil, sys

    class NoWeb(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("flask", "werkzeug", "jinja2", "flask_wtf", "flask_babel") \\
                    or name.startswith("intake.web"):
                raise ImportError(f"{name} must not be imported by intake-review")

    sys.meta_path.insert(0, NoWeb())
    import intake.review
    for module in pkgutil.walk_packages(intake.review.__path__, "intake.review."):
        importlib.import_module(module.name)
    from intake.cli.review import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        assert not exc.code, exc.code
    loaded = [m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug", "jinja2")]
    assert not loaded, loaded
""")


def test_review_never_imports_flask(engine, db_url, tmp_path):
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], [("a.txt", "text/plain", b"hello")])
    common = ["--identity", str(alice.key), "--passphrase-file", str(alice.passphrase), "--db", db_url]
    for args in (["list", "--json"], ["show", ref], ["export", ref, "--out", str(tmp_path / "out")]):
        result = subprocess.run([sys.executable, "-c", NO_WEB, *common, *args], capture_output=True, text=True,
                                cwd=tmp_path, timeout=120)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"hello"


def _on_terminal(args: list[str], *typed: bytes) -> tuple[int, bytes]:
    """Run intake-review with a pseudo-terminal as its controlling terminal; type each answer when asked."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(BIN / "intake-review"), ["intake-review", *args])  # noqa: S606 (the child of pty.fork)
    seen, answers = b"", list(typed)
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
        if answers and seen.count(b"passphrase for ") > len(typed) - len(answers):
            os.write(fd, answers.pop(0))
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen


def test_passphrase_is_asked_on_a_terminal_and_binary_refused(engine, db_url, tmp_path):
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], [("a.bin", "application/octet-stream", b"\x00\x01secret")])
    code, seen = _on_terminal(["--identity", str(alice.key), "--db", db_url, "list"], b"correct horse battery\n")
    assert code == 0, seen
    assert b"passphrase for alice.key" in seen
    assert ref.encode() in seen
    assert b"correct horse" not in seen
    code, seen = _on_terminal(["--identity", str(alice.key), "--passphrase-file", str(alice.passphrase),
                               "--db", db_url, "cat", ref, "1"])
    assert code == 1
    assert b"refusing to write binary attachment content to a terminal" in seen
    assert b"secret" not in seen


def test_no_terminal_and_no_passphrase_file(engine, db_url, tmp_path):
    alice = Reviewer.make(tmp_path / "alice")
    result = subprocess.run([str(BIN / "intake-review"), "--identity", str(alice.key), "--db", db_url, "list"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 1
    assert "no terminal to ask for the passphrase" in result.stderr
