"""`intake demo`: a whole instance for a first look, with a demo reviewer key, its passphrase and demo.env."""

from __future__ import annotations

import os
import secrets
import shlex
from dataclasses import replace
from pathlib import Path

from intake.crypto.keyfile import lock_identity, write_private
from intake.crypto.keys import Identity
from intake.keys.admin import add_key, init_keyring
from intake.keys.keyring import read_signer
from intake.settings import Settings
from intake.storage.instance import init_instance

ENV_FILE = "demo.env"
REPLY = "Thank you: we have read your report."


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


def write_env(settings: Settings, bin_dir: Path) -> Path:
    """Write <instance>/demo.env: the demo's settings as POSIX shell (`. demo.env`), bin_dir first on PATH."""
    values = {"INTAKE_INSTANCE": str(settings.instance), "INTAKE_DATABASE_URL": settings.database_url,
              "INTAKE_KEYS_DIR": str(settings.keys_dir), "INTAKE_SIGNING_KEY": str(settings.signing_key),
              "INTAKE_KEYRING_SIGNER": settings.keyring_signer or ""}
    lines = ["# The demo instance's settings, for every intake and intake-review command: load them with",
             # a line break in the path must not end the comment: the rest would run as a command when loaded
             "#   . " + shlex.quote(str(settings.instance / ENV_FILE)).replace("\n", "\n#     "),
             "# A first look only: the demo pins the signer of its own folder (docs/keys.md).",
             *(f"export {name}={shlex.quote(value)}" for name, value in values.items()),
             f"PATH={shlex.quote(str(bin_dir.absolute()))}:\"$PATH\"  # this install's intake and intake-review",
             "export PATH"]
    path = settings.instance / ENV_FILE
    staged = path.with_name(f".{ENV_FILE}.{os.getpid()}")
    staged.unlink(missing_ok=True)  # a leftover (or a planted link) is never written through, nor keeps its mode
    fd = os.open(staged, os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(staged, path)
    return path


def shown(path: Path, cwd: Path) -> str:
    """A path as a shell word: relative to cwd when it lies inside it, else absolute."""
    path = path.absolute()
    text = str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
    return shlex.quote(text)


def demo_commands(settings: Settings, key_file: Path, bin_dir: Path, cwd: Path) -> tuple[list[str], list[str]]:
    """The commands the demo prints, as they run from cwd: (load the settings and list, then those on a CASE).

    Every command names its program by path, so it runs without the virtual environment on PATH.
    """
    intake, review = shown(bin_dir / "intake", cwd), shown(bin_dir / "intake-review", cwd)
    folder = settings.instance
    reviewer = (f"{review} --identity {shown(key_file, cwd)} --passphrase-file "
                f"{shown(folder / 'demo.passphrase', cwd)}")
    bundle, replies = shown(folder / "demo.bundle", cwd), shown(folder / "demo-replies.json", cwd)
    first = [f". {shown(folder / ENV_FILE, cwd)}", f"{reviewer} list"]
    then = [f"{reviewer} show CASE",
            f"{reviewer} status CASE closed --note {shlex.quote('read in the demo')}",
            f"{reviewer} reply CASE --text {shlex.quote(REPLY)}",
            f"{intake} keys list",
            f"{intake} check",
            f"{intake} export-sealed --out {bundle}",
            f"{reviewer} --bundle {bundle} reply CASE --text {shlex.quote(REPLY)} --out {replies}",
            f"{intake} import-replies {replies}",
            f"{intake} backup --out {shown(folder / 'demo.backup', cwd)}"]
    return first, then
