"""Issue 20, the admin's first hour, as real `intake` processes: ports, missing instances, hints, check, help."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import nacl.utils
import pytest

from intake.crypto.keys import b64encode
from intake.keys.keyring import grouped
from tests.support import BIN, run_cli
from tests.support.keytools import Instance

TOR_PROJECT = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"  # torproject.org's address
SIGNER = "intake-signer-1:" + b64encode(nacl.utils.random(32))


def bare(cwd: Path, *args: str, program: str = "intake", **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command with no INTAKE_* setting from the test's environment (only those given), no terminal."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    return subprocess.run([str(BIN / program), *args], cwd=cwd, env={**clean, **env}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def tree(folder: Path) -> set[str]:
    """Every path under folder, relative."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def listener() -> int:
    """A port something already listens on (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_demo_port_in_use_is_one_line_before_anything(tmp_path: Path, listener: int) -> None:
    """Item 3: a taken port is refused at once, before "open http://..." and before anything is created."""
    result = bare(tmp_path, "demo", "--port", str(listener))
    assert result.returncode == 1, result.stderr
    assert f"port {listener} is in use: try --port" in result.stderr
    assert "open http" not in result.stderr
    assert "Retrying" not in result.stderr
    assert "gunicorn" not in result.stderr.lower()
    assert result.stdout == ""
    assert tree(tmp_path) == set()


def test_serve_port_in_use_is_one_line(site: Instance, listener: int) -> None:
    """Item 3: `intake serve` on a taken port says so in one line, without gunicorn's five retries."""
    result = site.run("serve", "--port", str(listener), check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().endswith(f"port {listener} is in use: try --port {listener + 1}, or stop what is "
                                          "listening there")
    assert "Retrying" not in result.stderr
    assert "gunicorn" not in result.stderr.lower()


READ_ONLY = [["export-sealed", "--out", "bundle"], ["import-replies", "replies.json"], ["expire-uploads"],
             ["backup", "--out", "b.backup"], ["notify"], ["keys", "list"], ["audit", "list"], ["audit", "verify"],
             ["purge", "--older-than", "1", "--dry-run"], ["keys", "rewrap", "--identity", "replies.json"]]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_commands_on_a_missing_instance_create_nothing(tmp_path: Path, command: list[str]) -> None:
    """Items 21, 22: with no instance, a command that needs one creates nothing and names the setting to fix."""
    (tmp_path / "replies.json").write_text("{}")
    before = tree(tmp_path)
    result = bare(tmp_path, *command, INTAKE_KEYRING_SIGNER=SIGNER)
    assert result.returncode == 1, result.stderr
    assert "INTAKE_INSTANCE" in result.stderr, result.stderr
    assert "nothing was created" in result.stderr
    assert "keys init" not in result.stderr  # that would make a new instance (item 22)
    assert result.stderr.count("\n") == 1, result.stderr
    assert tree(tmp_path) == before


def test_missing_sqlite_database_names_the_url(tmp_path: Path) -> None:
    """Item 21: an instance folder without its SQLite file: INTAKE_DATABASE_URL is named; no file is made."""
    (tmp_path / "instance").mkdir()
    result = bare(tmp_path, "export-sealed", "--out", "bundle")
    assert result.returncode == 1
    assert "INTAKE_DATABASE_URL" in result.stderr
    assert tree(tmp_path) == {"instance"}


def test_review_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    """Item 21: `intake-review list` on a SQLite file that is not there says so, and makes no empty database."""
    (tmp_path / "pw").write_text("reviewer passphrase\n")
    bare(tmp_path, "keys", "new", "r", "--passphrase-file", "pw").check_returncode()
    before = tree(tmp_path)
    result = bare(tmp_path, "--identity", "r.key", "--passphrase-file", "pw", "--db", "sqlite:///gone.db", "list",
                  program="intake-review")
    assert result.returncode == 1, result.stderr
    assert "no database at" in result.stderr
    assert "--db" in result.stderr
    assert tree(tmp_path) == before


def test_notify_names_every_missing_setting(tmp_path: Path) -> None:
    """Item 23: `intake notify` with nothing set names the mail server, the sender and the address list at once."""
    bare(tmp_path, "init").check_returncode()
    result = bare(tmp_path, "notify")
    assert result.returncode == 1
    for missing in ("INTAKE_SMTP_HOST", "INTAKE_SMTP_FROM", "notify.json"):
        assert missing in result.stderr, result.stderr
    result = bare(tmp_path, "notify", INTAKE_SMTP_USER="intake", INTAKE_SMTP_FROM="not an address")
    assert "INTAKE_SMTP_PASSWORD_FILE" in result.stderr
    assert "not a plain e-mail address" in result.stderr


HINTED = [["keys", "new", "alice"], ["keys", "init"], ["keys", "add", "alice.pub"], ["keys", "retire", "alice"],
          ["keys", "rotate", "alice"], ["keys", "rotate", "alice", "--passphrase-file", "pw"],
          ["keys", "recovery"]]


@pytest.mark.parametrize("command", HINTED, ids=" ".join)
def test_every_hint_names_a_real_option(tmp_path: Path, command: list[str]) -> None:
    """Item 25: each --option an error hint names exists on that very command (`rotate` asks twice)."""
    (tmp_path / "pw").write_text("admin passphrase\n")
    (tmp_path / "alice.pub").write_text("# not read before the passphrase\n")
    result = bare(tmp_path, *command)
    assert result.returncode == 1, result.stderr
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", result.stderr))
    assert named, result.stderr
    words = [w for w in command if not w.startswith("-") and w not in ("pw", "alice", "alice.pub")]
    options = bare(tmp_path, *words, "--help").stdout
    for option in named:
        assert re.search(rf"(?<![\w-]){option}\b", options), f"{option} is not an option of {words}: {result.stderr}"
    if "--passphrase-file" in command:
        assert "--key-passphrase-file" in named


def test_help_names_the_settings(tmp_path: Path) -> None:
    """Item 27: `intake --help` names INTAKE_KEYRING_SIGNER, which every command needs, and the main settings."""
    text = bare(tmp_path, "--help").stdout
    for name in ("INTAKE_KEYRING_SIGNER", "INTAKE_INSTANCE", "INTAKE_DATABASE_URL", "INTAKE_KEYS_DIR",
                 "INTAKE_SIGNING_KEY", "INTAKE_ONION", "demo.env"):
        assert name in text


@pytest.fixture
def site(tmp_path: Path) -> Instance:
    """An instance with a keyring, one reviewer and two cases (SQLite)."""
    instance = Instance(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    instance.run("init")
    instance.setup("alice")
    instance.store(2)
    yield instance
    instance.engine.dispose()


def lines(result: subprocess.CompletedProcess[str], topic: str) -> list[str]:
    """The check lines about one topic."""
    return [line for line in result.stdout.splitlines() if line.split(maxsplit=1)[1].startswith(topic + ":")]


def test_check_tells_notices_backup_signing_key_and_onion(site: Instance) -> None:
    """Item 24: notices off or half set, no or old backup, a missing admin key, a mistyped onion address."""
    fresh = site.run("check")
    assert [line.split()[0] for line in lines(fresh, "notices")] == ["warn"]
    assert "no backup recorded" in lines(fresh, "backup")[0]
    assert lines(fresh, "backup")[0].startswith("warn")
    assert lines(fresh, "signing key")[0].startswith("ok")

    signing = Path(site.env["INTAKE_SIGNING_KEY"])
    shutil.move(signing, site.root / "aside.key")  # a restored instance without its admin key
    broken = TOR_PROJECT[:20] + ("b" if TOR_PROJECT[20] != "b" else "c") + TOR_PROJECT[21:]
    site.env.update(INTAKE_ONION=broken, INTAKE_SMTP_HOST="mail.example.org")
    failed = site.run("check", check=False)
    assert failed.returncode == 1
    assert "restore it from your backup" in lines(failed, "signing key")[0]
    assert lines(failed, "signing key")[0].startswith("warn")  # a web node has none by design
    assert "checksum" in lines(failed, "onion")[0]
    assert lines(failed, "onion")[0].startswith("FAIL")
    notices = lines(failed, "notices")[0]
    assert notices.startswith("FAIL")
    assert "INTAKE_SMTP_FROM" in notices
    assert "notify.json" in notices

    shutil.move(site.root / "aside.key", signing)
    site.run("backup", "--out", str(site.root / "one.backup"))
    del site.env["INTAKE_SMTP_HOST"]
    site.env["INTAKE_ONION"] = TOR_PROJECT
    passed = site.run("check")
    assert lines(passed, "backup")[0].startswith("ok  ")
    assert "last backup made on" in lines(passed, "backup")[0]
    assert lines(passed, "onion")[0].startswith("ok  ")
    assert not [line for line in passed.stdout.splitlines() if line.startswith("FAIL")]


def test_key_ids_are_grouped_for_people_not_for_json(site: Instance) -> None:
    """Item 26: key ids print in groups of four, as the fingerprint does; --json keeps them whole."""
    (row,) = site.listing()["keys"]
    assert re.fullmatch(r"[0-9a-f]{32}", row["key_id"])
    table = site.run("keys", "list").stdout
    assert grouped(row["key_id"]) in table
    assert row["key_id"] not in table
    assert re.fullmatch(r"([0-9a-f]{4} ){7}[0-9a-f]{4}", grouped(row["key_id"]))
    pub = (site.root / "reviewers" / "alice.pub").read_text()
    assert f"key id {grouped(row['key_id'])}" in pub
    made = run_cli("intake", "keys", "new", "bob", "--passphrase-file", str(site.reviewer_pw), cwd=site.root)
    assert re.fullmatch(r"([0-9a-f]{4} ){7}[0-9a-f]{4}", made.stdout.strip())
