"""The core commands as real processes: init, keys new, keys init/add, intake-review list."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from intake.crypto.keyfile import read_identity_file
from intake.crypto.keys import Recipient
from intake.crypto.report import seal_report
from intake.keys.keyring import grouped
from intake.storage.db import connect
from tests.support import run_cli
from tests.support.storage import store_case


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A working folder with a passphrase file."""
    (tmp_path / "pw").write_text("correct horse battery staple\n")
    (tmp_path / "wrong").write_text("incorrect\n")
    return tmp_path


def test_init_is_idempotent(home: Path) -> None:
    """`intake init` makes a private instance folder and a migrated database, twice safely."""
    run_cli("intake", "init", cwd=home)
    run_cli("intake", "init", cwd=home)
    assert stat.S_IMODE((home / "instance").stat().st_mode) == 0o700
    assert (home / "instance" / "intake.db").exists()


def test_init_on_postgresql(home: Path, pg_url: str) -> None:
    """`intake init` migrates a PostgreSQL database named by INTAKE_DATABASE_URL."""
    run_cli("intake", "init", cwd=home, env={"INTAKE_DATABASE_URL": pg_url})
    result = run_cli("intake-review", "--identity", str(_new_key(home, "r")), "--passphrase-file", "pw",
                     "--db", pg_url, "list", "--json", cwd=home)
    assert json.loads(result.stdout) == []


def _new_key(home: Path, name: str) -> Path:
    run_cli("intake", "keys", "new", name, "--out", "rev", "--passphrase-file", "pw", cwd=home)
    return home / "rev" / f"{name}.key"


def test_keys_new_writes_private_key_file(home: Path) -> None:
    """NAME.key is mode 0600, holds neither passphrase nor raw key, and unlocks to NAME.pub's key."""
    result = run_cli("intake", "keys", "new", "alice", "--out", "rev", "--passphrase-file", "pw", cwd=home)
    key_id = result.stdout.strip().replace(" ", "")
    assert result.stdout.strip() == grouped(key_id)  # in groups of four, to read out by phone (issue 20, item 26)
    key, pub = home / "rev" / "alice.key", home / "rev" / "alice.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    identity = read_identity_file(key, b"correct horse battery staple")
    assert identity.key_id == key_id
    text = key.read_text()
    assert "correct horse" not in text
    assert identity.text().split(":", 1)[1] not in text
    assert identity.secret_key.hex() not in text
    recipient = Recipient.parse([ln for ln in pub.read_text().splitlines() if not ln.startswith("#")][0])
    assert recipient == identity.recipient
    again = run_cli("intake", "keys", "new", "alice", "--out", "rev", "--passphrase-file", "pw", cwd=home, check=False)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_keys_new_refuses_unsafe_names(home: Path) -> None:
    """Names that could escape the folder are refused."""
    result = run_cli("intake", "keys", "new", "../evil", "--passphrase-file", "pw", cwd=home, check=False)
    assert result.returncode == 2
    assert "letters, digits" in result.stderr


def test_keys_new_without_terminal_or_file_explains(home: Path) -> None:
    """With no terminal and no --passphrase-file, the command says what to do."""
    result = run_cli("intake", "keys", "new", "bob", cwd=home, check=False, input="")
    assert result.returncode == 1
    assert "--passphrase-file" in result.stderr


def test_review_list_with_cases(home: Path) -> None:
    """`intake-review list --json` opens the cases sealed to its key and reports the others."""
    run_cli("intake", "init", cwd=home)
    alice = read_identity_file(_new_key(home, "alice"), b"correct horse battery staple")
    bob = read_identity_file(_new_key(home, "bob"), b"correct horse battery staple")
    engine = connect(f"sqlite:///{home / 'instance' / 'intake.db'}")
    mine = seal_report([alice.recipient], {"incident_type": "drone", "description": "x"}, [("a", "t", [b"abc"])])
    other = seal_report([bob.recipient], {"incident_type": "cctv", "description": "y"})
    ref1 = store_case(engine, mine.header, mine.body, "browser", [alice.key_id],
                      [(len(mine.streams[0]), [mine.streams[0]])])
    ref2 = store_case(engine, other.header, other.body, "server", [bob.key_id], [])
    engine.dispose()
    result = run_cli("intake-review", "--identity", "rev/alice.key", "--passphrase-file", "pw",
                     "--db", f"sqlite:///{home / 'instance' / 'intake.db'}", "list", "--json", cwd=home)
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows[ref1]["opened"] is True
    assert rows[ref1]["incident_type"] == "drone"
    assert rows[ref1]["error"] is None
    assert rows[ref1]["key_id"] == alice.key_id
    assert rows[ref1]["attachments"] == 1
    assert rows[ref2]["opened"] is False
    assert rows[ref2]["error"].startswith("no match")
    assert set(rows[ref1]) >= {"id", "received", "status", "incident_type", "opened", "error"}


def test_review_wrong_passphrase_is_one_line(home: Path) -> None:
    """A wrong passphrase exits non-zero with one line saying so, and no traceback."""
    _new_key(home, "alice")
    result = run_cli("intake-review", "--identity", "rev/alice.key", "--passphrase-file", "wrong",
                     "--db", "sqlite:///x.db", "list", cwd=home, check=False)
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert "wrong passphrase" in result.stderr
    assert "Traceback" not in result.stderr


def test_review_identity_of_wrong_type(home: Path) -> None:
    """A file that is not an identity file is named as such."""
    _new_key(home, "alice")
    result = run_cli("intake-review", "--identity", "rev/alice.pub", "--passphrase-file", "pw",
                     "--db", "sqlite:///x.db", "list", cwd=home, check=False)
    assert result.returncode == 4
    assert "not an intake-identity-file-1" in result.stderr


def test_review_modules_load_without_flask(tmp_path: Path) -> None:
    """intake-review and everything it imports work with Flask made unimportable."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "flask.py").write_text("raise ImportError('flask is blocked in this test')\n")
    code = ("import sys, pkgutil, importlib, intake.review\n"
            "for m in pkgutil.walk_packages(intake.review.__path__, 'intake.review.'):\n"
            "    importlib.import_module(m.name)\n"
            "from intake.cli.review import main\n"
            "assert not [m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'intake.web'))]\n"
            "main(['--help'], standalone_mode=False)\n")
    result = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(blocker)}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "intake-review" in result.stdout


@pytest.mark.slow
def test_locked_database_is_one_line_not_a_traceback(home: Path) -> None:
    """A command that must write while another holds SQLite's write lock past the busy timeout says what to do."""
    import sqlite3

    run_cli("intake", "init", cwd=home)
    holder = sqlite3.connect(home / "instance" / "intake.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run_cli("intake", "expire-uploads", cwd=home, check=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error: the database stayed locked or out of reach (OperationalError)")
    assert "wait a minute and run the command again" in result.stderr
    assert run_cli("intake", "expire-uploads", cwd=home).returncode == 0
