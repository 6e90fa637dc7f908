"""Helpers for the intake-review tests: reviewers with identity files, stored cases, hostile files."""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, update

from intake.crypto.container import read_envelope, stream_parts
from intake.crypto.envelope import parse_header
from intake.crypto.keyfile import lock_identity, write_private
from intake.crypto.keys import Identity, Recipient
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.schema import cases
from tests.support import VECTORS, run_cli
from tests.support.storage import store_case

FIELDS = {"incident_type": "drone", "description": "A drone filmed the march.\nThen it followed us.",
          "location": "Phnom Penh"}


@dataclass
class Reviewer:
    """A reviewer with an identity file and a passphrase file, who runs the real intake-review."""

    identity: Identity
    key: Path
    passphrase: Path
    home: Path

    @classmethod
    def make(cls, home: Path, name: str = "alice", passphrase: str = "correct horse battery",
             identity: Identity | None = None) -> Reviewer:
        """Write NAME.key (locked with `passphrase`) and a passphrase file into `home`."""
        home.mkdir(parents=True, exist_ok=True)
        identity = identity or Identity.generate()
        key = home / f"{name}.key"
        write_private(key, lock_identity(identity, passphrase.encode(), "interactive"))
        secret = home / f"{name}.pass"
        secret.write_text(passphrase + "\n")
        return cls(identity, key, secret, home)

    @property
    def recipient(self) -> Recipient:
        """The public half."""
        return self.identity.recipient

    def run(self, *args: str, where: tuple[str, str], check: bool = True, env: dict[str, str] | None = None):
        """Run `intake-review --identity KEY --passphrase-file F (--db URL | --bundle FILE) ARGS`."""
        return run_cli("intake-review", "--identity", str(self.key), "--passphrase-file", str(self.passphrase),
                       *where, *args, cwd=self.home, check=check, env=env)

    def json(self, *args: str, where: tuple[str, str]) -> object:
        """Run a command with --json and parse what it printed."""
        return json.loads(self.run(*args, "--json", where=where).stdout)


def store(engine: Engine, recipients: list[Recipient], files: list[tuple[str, str, bytes]] = (),
          fields: dict[str, str] | None = None) -> str:
    """Seal a report on the server side and store it (sealed_by='server'); return its ref."""
    sealed = seal_report(recipients, fields or FIELDS, [(n, t, [d]) for n, t, d in files])
    streams = [(len(s), [s[i:i + (1 << 20)] for i in range(0, len(s), 1 << 20)]) for s in sealed.streams]
    return store_case(engine, sealed.header, sealed.body, "server", [r.key_id for r in recipients], streams)


def read_vector(name: str) -> tuple[dict[str, list[str]], bytes]:
    """The key lines and the sealed report file of a vector."""
    head, _, data = (VECTORS / name).read_bytes().partition(b"\n\n")
    lines: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        lines.setdefault(key, []).append(value)
    return lines, data


def store_vector(engine: Engine, name: str) -> tuple[str, Identity, dict[str, object]]:
    """Store a success vector's sealed report as a browser-sealed case; return ref, identity and body."""
    lines, data = read_vector(name)
    f = io.BytesIO(data)
    env = read_envelope(f)
    streams = [(length, list(stream_parts(f, offset, length))) for offset, length in env.streams]
    ref = store_case(engine, env.header, env.body, "browser", parse_header(env.header).key_ids, streams)
    return ref, Identity.parse(lines["identity"][0]), json.loads(lines["body"][0])


def damage_body(engine: Engine, ref: str) -> None:
    """Flip one bit of a stored case's sealed body."""
    case = get_case(engine, ref)
    body = bytearray(case.body)
    body[40] ^= 1
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == case.id).values(body=bytes(body)))


def jpeg_with_gps() -> bytes:
    """A small JPEG with GPS position and camera make and model in its EXIF."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS 80D"
    exif[ExifTags.Base.Artist] = "Sok Dara"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (11.0, 33.0, 20.0), 3: "E", 4: (104.0, 55.0, 40.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def pdf_with_author() -> bytes:
    """A one-page PDF whose document information names its author and creator."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": "Sok Dara", "/Creator": "Office Scanner 3000", "/Title": "minutes"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed_keyring(folder: Path, recipients: list[Recipient]) -> tuple[str, str]:
    """A keyring.json of `recipients` in folder/keys, signed by a new admin key: (--keys-dir, --signer)."""
    import nacl.signing

    from intake.keys.keyring import KeyEntry, Keyring, save_keyring

    saved = save_keyring(folder / "keys", Keyring(tuple(KeyEntry(f"r{i}", r) for i, r in enumerate(recipients))),
                         nacl.signing.SigningKey.generate())
    return str(folder / "keys"), saved.signer


def org_key(folder: Path) -> Path:
    """The organisation's ed25519 OpenSSH key, made by the stock ssh-keygen (no passphrase, for the test)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "org", "-f", str(folder / "org")],
                   check=True, capture_output=True)
    return folder / "org"
