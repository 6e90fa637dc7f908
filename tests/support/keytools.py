"""Helpers for the key lifecycle tests: an instance driven through the real `intake` processes."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from intake.clock import today
from intake.crypto.envelope import Body, parse_header, seal_body, seal_header
from intake.crypto.keys import Identity, Recipient
from intake.crypto.report import seal_report
from intake.keys.keyring import Keyring, load_keyring
from intake.storage.cases import new_ref
from intake.storage.db import connect, upgrade
from intake.storage.schema import case_keys, cases, notes
from tests.support import BIN, DROPPER, PG_ADMIN_URL, run_cli
from tests.support.storage import store_case

ADMIN_PASSPHRASE = "correct horse admin"
REVIEWER_PASSPHRASE = "reviewer passphrase"


class Instance:
    """One intake instance in a temporary folder, on the given database."""

    def __init__(self, root: Path, db_url: str) -> None:
        self.root, self.db_url = root, db_url
        self.env = {"INTAKE_INSTANCE": str(root / "instance"), "INTAKE_KEYS_DIR": str(root / "keys"),
                    "INTAKE_DATABASE_URL": db_url, "INTAKE_SIGNING_KEY": str(root / "instance" / "admin-signing.key")}
        self.admin_pw, self.reviewer_pw = root / "admin.pw", root / "reviewer.pw"
        self.admin_pw.write_text(ADMIN_PASSPHRASE + "\n")
        self.reviewer_pw.write_text(REVIEWER_PASSPHRASE + "\n")
        self.engine = connect(db_url)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `intake ARGS` as a real process."""
        return run_cli("intake", *args, cwd=self.root, env=self.env, check=check)

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an `intake` command that unlocks the admin signing key."""
        return self.run(*args, "--passphrase-file", str(self.admin_pw), check=check)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start `intake ARGS` in its own process group, for tests that kill it."""
        return subprocess.Popen([str(BIN / "intake"), *args], cwd=self.root, env={**os.environ, **self.env},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def reviewer(self, name: str, folder: str = "reviewers") -> Path:
        """Make a reviewer key pair with `intake keys new` and add it; return the identity file."""
        self.run("keys", "new", name, "--out", str(self.root / folder), "--passphrase-file", str(self.reviewer_pw))
        self.admin("keys", "add", str(self.root / folder / f"{name}.pub"))
        return self.root / folder / f"{name}.key"

    def setup(self, *names: str) -> dict[str, Path]:
        """Create the signing key and keyring, and one reviewer per name; return their identity files."""
        self.env["INTAKE_KEYRING_SIGNER"] = self.admin("keys", "init").stdout.strip()
        return {name: self.reviewer(name) for name in names}

    def keyring(self) -> Keyring:
        """The keyring as the server would load it."""
        return load_keyring(self.root / "keys", self.env["INTAKE_KEYRING_SIGNER"])

    def identity(self, path: Path) -> Identity:
        """Unlock an identity file with the reviewers' passphrase."""
        from intake.crypto.keyfile import read_identity_file

        return read_identity_file(path, REVIEWER_PASSPHRASE.encode())

    def store(self, count: int, notes_every: int = 0) -> list[str]:
        """Seal `count` small reports to the current keyring and store them; add a sealed note to some."""
        upgrade(self.engine)
        recipients = self.keyring().recipients()
        refs = []
        for i in range(count):
            report = seal_report(recipients, {"incident_type": "drone", "description": f"report {i}"})
            refs.append(store_case(self.engine, report.header, report.body, "server",
                                   [r.key_id for r in recipients], []))
            if notes_every and i % notes_every == 0:
                add_note(self.engine, refs[-1], recipients)
        return refs

    def review(self, *identity_files: Path) -> list[dict[str, object]]:
        """`intake-review list --json` with these identity files, as a real process."""
        args = [a for path in identity_files for a in ("--identity", str(path))]
        out = run_cli("intake-review", *args, "--passphrase-file", str(self.reviewer_pw), "--db", self.db_url, "list",
                      "--json", cwd=self.root, env=self.env)
        return json.loads(out.stdout)

    def listing(self) -> dict[str, object]:
        """`intake keys list --json`."""
        return json.loads(self.run("keys", "list", "--json").stdout)


def put_back(path: Path, data: bytes) -> None:
    """Replace a file the way an attacker with write access to its folder would (a new inode)."""
    staged = path.with_name(path.name + ".attacker")
    staged.write_bytes(data)
    os.replace(staged, path)


def add_note(engine, ref: str, recipients: list[Recipient]) -> None:
    """Store a sealed reviewer note on a case (header and body, like a report)."""
    import nacl.utils

    key = nacl.utils.random(32)
    with engine.begin() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.ref == ref)).scalar_one()
        conn.execute(insert(notes).values(case_id=case_id, created=today(), header=seal_header(key, recipients),
                                          body=seal_body(key, Body({"note": "followed up"}))))


def bulk_cases(engine, recipients: list[Recipient], count: int) -> None:
    """Insert `count` complete cases sealed to `recipients` in a few transactions (no HTTP, no upload)."""
    import nacl.utils

    upgrade(engine)
    key_ids = [r.key_id for r in recipients]
    body = {"incident_type": "cctv"}
    for start in range(0, count, 1000):
        rows = []
        for _ in range(min(1000, count - start)):
            k = nacl.utils.random(32)
            rows.append({"ref": new_ref(), "received": today(), "status": "new", "sealed_by": "server",
                         "header": seal_header(k, recipients), "body": seal_body(k, Body(body)), "complete": True})
        with engine.begin() as conn:
            conn.execute(insert(cases), rows)
            ids = conn.execute(select(cases.c.id).where(cases.c.ref.in_([r["ref"] for r in rows]))).scalars().all()
            conn.execute(insert(case_keys), [{"case_id": i, "key_id": k} for i in ids for k in key_ids])


def header_key_ids(engine) -> dict[int, list[str]]:
    """Every case's reviewer key ids (its reporter's stanza, format.md §4.1, left out), by case id."""
    with engine.connect() as conn:
        return {i: parse_header(h).reviewer_key_ids for i, h in conn.execute(select(cases.c.id, cases.c.header))}


def retired_demo(inst: Instance) -> None:
    """demo added (serial 2, its keyring copied to old/keyring.json), alice added (3), demo retired (4)."""
    inst.setup("demo")
    (inst.root / "old").mkdir()
    shutil.copy(inst.root / "keys" / "keyring.json", inst.root / "old" / "keyring.json")
    inst.reviewer("alice")
    inst.admin("keys", "retire", "demo")


class Prepared:
    """Instances set up once per test process by the real `intake` processes (a recipe: `setup`, `reviewer`...),
    then copied for each test that starts from one: its folders byte for byte, its SQLite file, or its PostgreSQL
    database as a TEMPLATE. A copy is what the recipe would make again, with the same keys."""

    def __init__(self, base: Path) -> None:
        self.base, self.made, self.databases = base, {}, []

    def setup(self, root: Path, db_url: str, *names: str) -> tuple[Instance, dict[str, Path]]:
        """What `Instance(root, db_url).setup(*names)` makes, and its identity files, from a copy."""
        made = self.copy(root, db_url, lambda inst: inst.setup(*names), ("setup", *names))
        return made, {name: root / "reviewers" / f"{name}.key" for name in names}

    def copy(self, root: Path, db_url: str, recipe: Callable[[Instance], object], key: tuple = ()) -> Instance:
        """An Instance in `root` on `db_url` (an empty database) as `recipe(Instance(root, db_url))` leaves it; the
        recipe runs once per test process, per database kind and per `key` (default: the recipe's own name)."""
        backend = db_url.split(":", 1)[0].split("+", 1)[0]
        key = (*(key or (recipe.__module__, recipe.__qualname__)), backend)
        if key not in self.made:
            self.made[key] = self._make(recipe, backend, len(self.made))
        template, template_url, signer = self.made[key]
        for entry in template.iterdir():
            if not entry.name.startswith("intake.db"):
                (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, root / entry.name)
        if backend == "sqlite":
            source, to = sqlite3.connect(template / "intake.db"), sqlite3.connect(db_url.split("///", 1)[1])
            source.backup(to)
            source.close()
            to.close()
        else:  # the empty database moved aside and dropped in the background (a DROP waits for a checkpoint)
            name = db_url.rsplit("/", 1)[1]
            self._admin(f'ALTER DATABASE "{name}" RENAME TO "{name}_empty"',
                        f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rsplit("/", 1)[1]}"')
            DROPPER.drop(f"{name}_empty")
        made = Instance(root, db_url)
        made.env["INTAKE_KEYRING_SIGNER"] = signer
        return made

    def _make(self, recipe: Callable[[Instance], object], backend: str, n: int) -> tuple[Path, str, str]:
        template = self.base / f"template-{n}"
        template.mkdir()
        if backend == "sqlite":
            url = f"sqlite:///{template / 'intake.db'}"
        else:
            name = "intake_template_" + uuid.uuid4().hex[:12]
            self._admin(f'CREATE DATABASE "{name}"')
            self.databases.append(name)
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        made = Instance(template, url)
        recipe(made)
        made.engine.dispose()
        return template, url, made.env["INTAKE_KEYRING_SIGNER"]

    def _admin(self, *statements: str) -> None:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
        admin.dispose()

    def close(self) -> None:
        """Drop the PostgreSQL templates."""
        self._admin(*(f'DROP DATABASE "{name}" WITH (FORCE)' for name in self.databases))
