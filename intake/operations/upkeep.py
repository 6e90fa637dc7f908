"""`intake check`, upkeep: notices, the last backup, the admin signing key and the onion address (docs/deploy.md)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterator

from sqlalchemy import Engine

from intake.operations.check import Finding, fail, ok, warn
from intake.settings import Settings

BACKUP_DAYS = 2  # the backup timer runs daily: a backup older than this means it stopped
NOTICE_DAYS = 2  # the notify timer runs daily too


def onion_problem(address: str) -> str | None:
    """Why `address` (http://<56 letters>.onion) is not a valid v3 onion address, or None (Tor's rend-spec-v3).

    The 56 base32 letters hold PUBKEY (32 bytes) | CHECKSUM (2) | VERSION (1, = 3), with
    CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2].
    """
    host = address.split("://", 1)[-1].rstrip("/").removesuffix(".onion")
    try:
        raw = base64.b32decode(host.upper())
    except (binascii.Error, ValueError):
        return "is not 56 base32 letters followed by .onion"
    if len(raw) != 35:
        return "is not 56 base32 letters followed by .onion"
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    if version != b"\x03":
        return f"has version {raw[34]}, not 3 (only v3 onion services exist now)"
    if hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] != checksum:
        return "has a wrong checksum (a mistyped letter?)"
    return None


def check_onion(settings: Settings) -> Iterator[Finding]:
    """INTAKE_ONION, when set, is a valid v3 address: a mistyped one sends reporters' browsers nowhere."""
    if settings.onion is None:
        return
    problem = onion_problem(settings.onion)
    if problem:
        yield fail("onion", f"INTAKE_ONION={settings.onion} {problem}: copy it again from "
                            "/var/lib/tor/intake/hostname")
    else:
        yield ok("onion", f"INTAKE_ONION is a valid v3 onion address ({settings.onion})")


def check_signing_key(settings: Settings, signer: str | None) -> Finding:
    """The admin signing key is there and is the pinned signer (a restored instance often lacks it)."""
    from intake.keys.keyring import KeyringError, read_signer

    path = settings.signing_key
    if not path.exists():  # a web node has none by design (docs/deploy.md, step 16); a restored admin machine must
        return warn("signing key", f"no admin signing key at {path}: fine on a web node; on the machine where you "
                                   "run `intake keys`, restore it from your backup (or set INTAKE_SIGNING_KEY to "
                                   "where it is), else no reviewer key can be added, retired or rotated")
    try:
        public = read_signer(path)
    except KeyringError as exc:
        return fail("signing key", f"{exc}: restore it from your backup")
    if signer is not None and public != signer:
        return fail("signing key", f"{path} is not the signer INTAKE_KEYRING_SIGNER names: someone may have "
                                   "replaced it; restore it from your backup")
    return ok("signing key", f"{path} is there and is the pinned signer")


def check_backup(engine: Engine, today: dt.date) -> Finding:
    """When `intake backup` last ran, from its audit entry (the day is enough)."""
    from intake.keys.audit import entries

    made = [e.at.date() for e in entries(engine) if e.action == "backup"]
    if not made:
        return warn("backup", "no backup recorded: run `intake backup --out FILE` (the intake-backup timer does it "
                              "every day, docs/deploy.md) and copy it off this machine")
    age = (today - made[-1]).days
    text = f"last backup made on {made[-1].isoformat()}"
    if age > BACKUP_DAYS:
        return warn("backup", f"{text}, {age} days ago: check `systemctl list-timers 'intake*'` and "
                              "`journalctl -u intake-backup.service`")
    return ok("backup", text)


def check_notices(settings: Settings, today: dt.date) -> Finding:
    """Notices are set up completely, and went out lately; or a warning that reviewers are never told."""
    from intake.operations.notify import missing_settings

    missing = missing_settings(settings)
    if not settings.smtp_host and not settings.notify_path.exists():
        return warn("notices", "notices are off (no INTAKE_SMTP_HOST, no notify.json): reviewers are not told when "
                               "a report arrives; set them up (docs/deploy.md, \"Notices\") or check daily yourself")
    if missing:
        return fail("notices", f"`intake notify` cannot send: set {'; '.join(missing)} (docs/deploy.md, \"Notices\")")
    try:
        last = json.loads((settings.instance / "notify-state.json").read_text(encoding="utf-8")).get("day")
        age = (today - dt.date.fromisoformat(last)).days
    except (OSError, ValueError, TypeError, AttributeError):
        return warn("notices", "set up, but no notice was sent yet: run `intake notify` once, and enable "
                               "intake-notify.timer")
    if age > NOTICE_DAYS:
        return warn("notices", f"the last notice went out on {last}, {age} days ago: check intake-notify.timer")
    return ok("notices", f"set up; the last notice went out on {last}")
