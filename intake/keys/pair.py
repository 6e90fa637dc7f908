"""Making reviewer key pairs as files: NAME.pub (recipient) and NAME.key (identity file)."""

from __future__ import annotations

import re
from pathlib import Path

from intake.crypto.keyfile import lock_identity, write_private
from intake.crypto.keys import Identity
from intake.errors import AlreadyExists, BadValue
from intake.keys.keyring import grouped

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_name(name: str) -> str:
    """Return a reviewer key name, or raise a usage error for an unsafe one."""
    if not NAME.fullmatch(name):
        raise BadValue("use 1 to 64 letters, digits, dots, dashes or underscores", "NAME")
    return name


def new_key_pair(name: str, out_dir: Path, passphrase: bytes, kdf_profile: str = "moderate") -> tuple[Path, Path, str]:
    """Write NAME.pub and NAME.key (mode 0600) into `out_dir`; return both paths and the key id."""
    check_name(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    pub, key = out_dir / f"{name}.pub", out_dir / f"{name}.key"
    for path in (pub, key):
        if path.exists():
            raise AlreadyExists(f"{path} already exists: choose another name or folder")
    identity = Identity.generate()
    comment = f"# intake identity for {name}: keep it private\n"
    write_private(key, comment + lock_identity(identity, passphrase, kdf_profile))
    pub.write_text(f"# intake recipient {name}, key id {grouped(identity.key_id)}\n{identity.recipient}\n",
                   encoding="utf-8")
    return pub, key, identity.key_id
