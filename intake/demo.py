"""`intake demo`: a whole instance for a first look, with a demo reviewer, served on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from intake.settings import Settings
from intake.crypto.keyfile import lock_identity, write_private
from intake.crypto.keys import Identity
from intake.storage.instance import init_instance
from intake.keys.admin import add_key, init_keyring


def demo_settings(instance: Path) -> Settings:
    """Point every INTAKE_* path of this process at the demo instance, and read the settings back."""
    instance = instance.absolute()
    os.environ.update(INTAKE_INSTANCE=str(instance), INTAKE_KEYS_DIR=str(instance / "keys"),
                      INTAKE_DATABASE_URL=f"sqlite:///{instance / 'intake.db'}",
                      INTAKE_SIGNING_KEY=str(instance / "admin-signing.key"))
    return Settings.from_env()


def make_demo(settings: Settings) -> Path:
    """Create the instance, the demo passphrase, signing key, reviewer identity and keyring (once), audit-logged."""
    init_instance(settings)
    key_file, passphrase_file = settings.instance / "demo.key", settings.instance / "demo.passphrase"
    if key_file.exists():
        return key_file
    if not passphrase_file.exists():
        write_private(passphrase_file, secrets.token_urlsafe(18) + "\n")
    passphrase = passphrase_file.read_text(encoding="utf-8").splitlines()[0].encode()
    identity = Identity.generate()
    pub = settings.instance / "demo.pub"
    pub.write_text(f"# intake demo reviewer\n{identity.recipient}\n", encoding="utf-8")
    init_keyring(settings, passphrase)
    add_key(settings, pub, "demo", passphrase)
    comment = "# intake demo reviewer identity: for a first look only\n"
    write_private(key_file, comment + lock_identity(identity, passphrase))
    return key_file


def run_demo(instance: Path, port: int) -> None:
    """Set up the demo instance, say how to read its cases, and serve it on 127.0.0.1."""
    from intake.web.serve import serve

    settings = demo_settings(instance)
    key_file = make_demo(settings)
    click.echo(f"demo instance in {settings.instance}; open http://127.0.0.1:{port}/ and send a report", err=True)
    click.echo("read the cases with:", err=True)
    click.echo(f"intake-review --identity {key_file} --passphrase-file {settings.instance / 'demo.passphrase'} "
               f"--db {settings.database_url} list")
    serve("127.0.0.1", port)
