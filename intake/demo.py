"""`intake demo`: a whole instance for a first look, with a demo reviewer key and its passphrase."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from intake.crypto.keyfile import lock_identity, write_private
from intake.crypto.keys import Identity
from intake.keys.admin import add_key, init_keyring
from intake.keys.keyring import read_signer
from intake.settings import Settings
from intake.storage.instance import init_instance


def demo_settings(instance: Path, base: Settings) -> Settings:
    """The base settings with everything in the demo folder: its database, keys/ and admin signing key."""
    instance = instance.absolute()
    return replace(base, instance=instance, database_url=f"sqlite:///{instance / 'intake.db'}",
                   keys_dir=instance / "keys", signing_key_file=None)


def make_demo(settings: Settings) -> tuple[Path, Settings]:
    """Create the instance, the demo passphrase, signing key, reviewer identity and keyring (once), audit-logged.

    Returns the demo identity file and the settings with the demo's signer trusted. A demo pins the
    signer of its own folder, which the server can write: fine for a first look, never for real use
    (docs/keys.md: INTAKE_KEYRING_SIGNER).
    """
    init_instance(settings)
    key_file, passphrase_file = settings.instance / "demo.key", settings.instance / "demo.passphrase"
    if key_file.exists():
        return key_file, replace(settings, keyring_signer=read_signer(settings.signing_key))
    if not passphrase_file.exists():
        write_private(passphrase_file, secrets.token_urlsafe(18) + "\n")
    passphrase = passphrase_file.read_text(encoding="utf-8").splitlines()[0].encode()
    identity = Identity.generate()
    pub = settings.instance / "demo.pub"
    pub.write_text(f"# intake demo reviewer\n{identity.recipient}\n", encoding="utf-8")
    settings = replace(settings, keyring_signer=init_keyring(settings, passphrase))
    add_key(settings, pub, "demo", passphrase)
    comment = "# intake demo reviewer identity: for a first look only\n"
    write_private(key_file, comment + lock_identity(identity, passphrase, settings.kdf_profile))
    return key_file, settings
