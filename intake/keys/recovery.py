"""`intake keys recovery`: an offline recovery identity, printed and locked away (docs/keys.md)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from intake.clock import today
from intake.crypto.keyfile import write_private
from intake.crypto.keys import Identity
from intake.errors import AlreadyExists, IntakeError
from intake.keys.admin import commit, current
from intake.keys.keyring import grouped
from intake.keys.trust import admin_signing_key
from intake.settings import Settings
from intake.storage.instance import database

TEXT_NAME, QR_NAME = "recovery-identity.txt", "recovery-identity.png"


def sheet(identity: Identity) -> str:
    """The printable text of the recovery sheet."""
    return (f"# intake recovery identity, key id {grouped(identity.key_id)}, made {today().isoformat()}\n"
            "# Anyone holding the line below can open every stored case. It has no passphrase.\n"
            "# Print this sheet (and the QR code), lock it away offline, then delete these files.\n"
            "# To use it: intake-review --identity THIS_FILE --db URL list\n"
            f"{identity.text()}\n")


def make_recovery(settings: Settings, out_dir: Path, passphrase: bytes, replace_old: bool) -> tuple[str, list[Path]]:
    """Make a recovery identity, write its sheet and QR code, and seal every new case to it; return its key id."""
    import segno

    keyring = current(settings)
    if keyring.recovery and not replace_old:
        raise IntakeError(f"a recovery key ({grouped(keyring.recovery.key_id)}) is already set: give --replace to "
                                   "make a new one, then run `intake keys rewrap`")
    key = admin_signing_key(settings, passphrase)
    text_path, qr_path = out_dir / TEXT_NAME, out_dir / QR_NAME
    for path in (text_path, qr_path):
        if path.exists():
            raise AlreadyExists(f"{path} already exists: move it away or choose another --out folder")
    identity = Identity.generate()
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(text_path, sheet(identity))
    fd = os.open(qr_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        segno.make(identity.text(), error="h").save(f, kind="png", scale=8, border=4)
    old = keyring.recovery.key_id if keyring.recovery else None
    extra = {**keyring.extra, "recovery_created": today().isoformat()}
    changed = replace(keyring, recovery=identity.recipient, extra=extra)
    with database(settings) as engine:
        commit(settings, engine, changed, key, "keys recovery", {"key_id": identity.key_id, "replaced": old})
    return identity.key_id, [text_path, qr_path]
