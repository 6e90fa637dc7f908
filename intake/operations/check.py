"""`intake check`: inspect a deployment and say, one line a finding, what to fix (docs/deploy.md)."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from intake.settings import Settings
from intake.text.counts import count

if TYPE_CHECKING:
    from intake.keys.keyring import Keyring

GIB = 1 << 30


@dataclass(frozen=True)
class Finding:
    """One line of the checklist: ok, warn (weaker than it could be) or fail (a promise is broken)."""

    level: str
    topic: str
    text: str

    def line(self) -> str:
        """The line `intake check` prints."""
        return f"{self.level:<4}  {self.topic}: {self.text}"


def ok(topic: str, text: str) -> Finding:
    """A check that passed."""
    return Finding("ok", topic, text)


def warn(topic: str, text: str) -> Finding:
    """A setting that weakens a promise without breaking it."""
    return Finding("warn", topic, text)


def fail(topic: str, text: str) -> Finding:
    """A broken promise, with what to do about it."""
    return Finding("FAIL", topic, text)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _open_to_others(path: Path) -> bool:
    return bool(_mode(path) & 0o077)


def check_keyring(settings: Settings) -> tuple[list[Finding], Keyring | None]:
    """The keyring verifies against the pinned signer (INTAKE_KEYRING_SIGNER) and has an active key; return it too."""
    from intake.keys.keyring import KeyringError, load_keyring
    from intake.keys.trust import trusted_signer

    try:
        keyring = load_keyring(settings.keys_dir, trusted_signer(settings))
    except KeyringError as exc:
        return [fail("keyring", str(exc))], None
    return [ok("keyring", f"signature verified, serial {keyring.serial}, signer {keyring.signer[:28]}..., "
                          f"{count(len(keyring.active), 'active key')}, fingerprint {keyring.fingerprint}")], keyring


def check_audit(engine: Engine, keyring: Keyring) -> Finding:
    """The audit log verifies, and the keyring is the newest one the log records (no old keyring copied back)."""
    from intake.keys.audit import SIGNED_ACTIONS, entries, verify
    from intake.keys.trust import rollback_problems

    checkpoint = keyring.extra.get("audit")
    problems = verify(engine, keyring.signer, checkpoint)
    if problems:
        first = problems[0]
        return fail("audit", f"seq {first.seq}: {first.kind} ({count(len(problems), 'problem')}): run `intake audit "
                             "verify` "
                             "and restore the database from a backup")
    changes = [e.seq for e in entries(engine) if e.action in SIGNED_ACTIONS]
    mark = int(checkpoint["seq"]) if checkpoint else 0
    if changes and changes[-1] > mark:
        return fail("audit", f"the keyring (serial {keyring.serial}) is older than the audit log, which records a "
                             f"keyring change at entry {changes[-1]}: an old keyring.json was put back; restore the "
                             "newest one from your backup")
    rolled = rollback_problems(engine, keyring)  # the forward-only state, read without changing it
    if rolled:
        return fail("keyring", rolled[-1].message)
    where = f"entry {mark}" if checkpoint else "no keyring change yet"
    return ok("audit", f"log verified; the keyring is the newest it records ({where})")


def check_schema(engine: Engine) -> Finding:
    """The database is at the newest migration (checked without changing it)."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from intake.storage.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        return fail("schema", f"the database is at revision {current or 'none'}, not {head}: run `intake init` to "
                              "upgrade it (back it up first with `intake backup`)")
    return ok("schema", f"up to date (revision {head})")


def check_permissions(settings: Settings, signing_key: Path) -> Iterator[Finding]:
    """The instance folder and every secret are the owner's alone; the public keyring is not writable by others."""
    instance = settings.instance
    if _open_to_others(instance):
        yield fail("permissions", f"the instance folder {instance} is open to other users (mode "
                                  f"{_mode(instance):04o}): run `chmod -R go-rwx {instance}`")
    else:
        yield ok("permissions", f"the instance folder {instance} is private (mode {_mode(instance):04o})")
    secrets = [("the admin signing key", signing_key), ("the CSRF and proof-of-work key", instance / "secret.key"),
               ("the notify address list", settings.notify_path)]
    if settings.smtp_password_file:
        secrets.append(("the SMTP password file", settings.smtp_password_file))
    for what, path in secrets:
        if path.exists() and _open_to_others(path):
            yield fail("permissions", f"{what} {path} is readable by other users (mode {_mode(path):04o}): "
                                      f"run `chmod 600 {path}`")
    for path in (settings.keys_dir, settings.keys_dir / "keyring.json"):
        if path.exists() and _mode(path) & 0o022:
            yield fail("permissions", f"{path} can be changed by other users (mode {_mode(path):04o}): "
                                      f"run `chmod go-w {path}`")


def check_disk(settings: Settings) -> Finding:
    """Enough free space for a few of the largest reports, and at least 1 GiB."""
    free = shutil.disk_usage(settings.instance).free
    need = max(GIB, 2 * settings.max_report_bytes)
    text = f"{free / GIB:.1f} GiB free where {settings.instance} is"
    if free < need:
        return fail("disk", f"{text}, less than {need / GIB:.1f} GiB: free some space or move the instance")
    return ok("disk", text)


def check_settings(settings: Settings) -> Iterator[Finding]:
    """Settings that turn a defence off or send data somewhere it should not go."""
    if settings.pow_bits == 0:
        yield fail("settings", "INTAKE_POW_BITS=0 turns the proof-of-work off, so anyone can flood the intake: "
                               "unset it (default 16)")
    elif settings.pow_bits < 12:
        yield warn("settings", f"INTAKE_POW_BITS={settings.pow_bits} makes flooding cheap: use 16 (the default)")
    if settings.onion is None:
        yield warn("settings", "INTAKE_ONION is not set: if this is not an onion service, serve it only over HTTPS "
                               "(docs/deploy.md, \"Clearnet\"), never plain HTTP")
    if settings.public_url is None and settings.onion is None:
        yield warn("settings", "neither INTAKE_PUBLIC_URL nor INTAKE_ONION is set: the offline kit tells reporters to "
                               f"send their file to {settings.site_url}; set INTAKE_PUBLIC_URL to the site's address")
    for name in settings.proxies:
        yield warn("settings", f"{name} is set: intake needs no proxy; unset it so no connection goes "
                               "through a machine you do not control")
    url = settings.database_url
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if parsed.password:
            yield warn("settings", "INTAKE_DATABASE_URL holds a password, which shows in the process list and the "
                                   "unit's environment: use peer authentication or ~/.pgpass")
        remote = parsed.host not in (None, "", "localhost", "127.0.0.1", "::1")
        if remote and parsed.query.get("sslmode") not in ("verify-full", "verify-ca"):
            yield warn("settings", f"PostgreSQL on {parsed.host} without sslmode=verify-full: add it to "
                                   "INTAKE_DATABASE_URL")


def run_checks(settings: Settings) -> list[Finding]:
    """Every check, in order; a check that cannot run becomes one failed line, never a traceback."""
    import datetime as dt

    from intake.operations.upkeep import check_backup, check_notices, check_onion, check_signing_key
    from intake.storage.db import connect

    found: list[Finding] = []
    today = dt.datetime.now(dt.UTC).date()
    if not settings.instance.is_dir():
        return [fail("instance", f"no instance folder at {settings.instance}: set INTAKE_INSTANCE to your instance "
                                 "folder, or run `intake init` to make a new one")]
    keyring_findings, keyring = check_keyring(settings)
    found += keyring_findings
    found.append(check_signing_key(settings, keyring.signer if keyring else None))
    sqlite_file = settings.database_url.removeprefix("sqlite:///") if settings.database_url.startswith("sqlite") else ""
    if sqlite_file and not Path(sqlite_file).exists():
        found.append(fail("database", f"no database at {sqlite_file}: run `intake init`"))
    else:
        engine = connect(settings.database_url)
        steps: list[Callable[[], Finding]] = [lambda: check_schema(engine), lambda: check_backup(engine, today)]
        if keyring is not None:
            steps.append(lambda: check_audit(engine, keyring))
        try:
            for step in steps:
                found.append(_guarded(step))
        finally:
            engine.dispose()
    found += check_permissions(settings, settings.signing_key)
    found.append(check_disk(settings))
    found += check_settings(settings)
    found += check_onion(settings)
    found.append(check_notices(settings, today))
    return found


def _guarded(step: Callable[[], Finding]) -> Finding:
    try:
        return step()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return fail("database", f"cannot read it: {reason}: check INTAKE_DATABASE_URL and run `intake init`")
