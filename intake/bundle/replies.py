"""Replies files: reviewers' replies sealed from a bundle, carried to the server for `intake import-replies`.

Only a reviewer can make a reply the server accepts (docs/bundle.md §6): each reply carries an
authenticator, a libsodium crypto_box from the reviewer's identity (an active key of the verified
keyring) to the server's import key (instance/import.key, whose recipient every bundle carries),
over a hash of the case reference and the sealed message. The server opens the box with its
import key and the reviewer's recipient from the keyring: a box opens only if it was made with
one of those reviewer identities (or the import key itself, which only the server holds).
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from intake.bundle.read import BundleError
from intake.crypto.keyfile import write_private
from intake.crypto.keys import Identity, Recipient, b64decode, b64encode, generichash
from intake.errors import IntakeError

if TYPE_CHECKING:
    pass

FORMAT = "intake-replies-2"
FORMATS = ("intake-replies-1", FORMAT)  # 1: replies only, each authenticated without a kind
KINDS = ("reply", "note", "tags", "custody")
AUTH_DOMAIN = b"intake-reply-auth-v1"
AUTH_DOMAIN_2 = b"intake-replies-auth-v2"
NONCE = sodium.crypto_box_NONCEBYTES
MAX_FILE = 64 << 20


class RepliesError(IntakeError, ValueError):
    """The replies file is malformed or a reply in it is not from an active reviewer: nothing was imported."""


@dataclass(frozen=True)
class Reply:
    """An item of a replies file: a reply, a note (a status change), a tag change or a custody entry of a case,
    sealed, with the reviewer's key id and authenticator; `day`, `state` and `was` (the case's state in the bundle)
    for a note, `day` for tags and custody. Items of an intake-replies-1 file are replies with the version 1
    authenticator."""

    ref: str
    key_id: str
    header: bytes
    body: bytes
    nonce: bytes
    auth: bytes
    kind: str = "reply"
    day: str | None = None
    state: str | None = None
    was: str | None = None
    version: int = 2

    def digest(self) -> bytes:
        """What the authenticator's box holds: a hash of every member the server acts on (docs/bundle.md §6)."""
        if self.version == 1:
            data = AUTH_DOMAIN + self.ref.encode() + b"\0"
        else:
            plain = {"kind": self.kind, "ref": self.ref, "day": self.day, "state": self.state, "was": self.was}
            data = AUTH_DOMAIN_2 + json.dumps(plain, sort_keys=True, separators=(",", ":")).encode() + b"\0"
        return generichash(32, data + len(self.header).to_bytes(4, "big") + self.header + self.body)


def import_identity(instance: Path) -> Identity:
    """The server's import identity, made on first use in instance/import.key (mode 0600)."""
    path = instance / "import.key"
    if not path.exists():
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_private(path, Identity.generate().text() + "\n")
        except FileExistsError:
            pass
    return Identity.parse(path.read_text(encoding="ascii"))


def bundle_import_key(manifest: dict[str, object]) -> Recipient:
    """The import recipient a bundle carries, or a BundleError saying the bundle is too old for replies."""
    text = manifest.get("import_key")
    if not isinstance(text, str):
        raise BundleError("this bundle carries no import key, so replies from it cannot be imported: "
                          "ask for a new bundle (`intake export-sealed`)")
    return Recipient.parse(text)


def append_reply(path: Path, import_key: Recipient, identities: Sequence[Identity], ref: str, header: bytes,
                 body: bytes) -> None:
    """Add a reply, authenticated by the reviewer's first identity, to a replies file (made if missing)."""
    append_item(path, import_key, identities, Reply(ref, "", header, body, b"", b""))


def append_item(path: Path, import_key: Recipient, identities: Sequence[Identity], item: Reply) -> None:
    """Add an item (its key id, nonce and auth are made here, with the reviewer's first identity) to a replies
    file (made if missing, written as intake-replies-2; the items already there keep their authenticators)."""
    identity = identities[0]
    nonce = nacl.utils.random(NONCE)
    item = replace(item, key_id=identity.key_id, nonce=nonce, version=2, auth=b"")
    item = replace(item, auth=sodium.crypto_box(item.digest(), nonce, import_key.public_key, identity.secret_key))
    items = [*(read_replies(path) if path.exists() else []), item]
    text = json.dumps({"format": FORMAT, "replies": [_written(r) for r in items]}, indent=1, ensure_ascii=False)
    temp = path.with_name(path.name + ".new")
    temp.unlink(missing_ok=True)
    write_private(temp, text + "\n")
    os.replace(temp, path)


def _written(item: Reply) -> dict[str, object]:
    found = {k: b64encode(v) if isinstance(v, bytes) else v for k, v in item.__dict__.items() if k != "version"}
    if item.version == 1:  # an item of a version 1 file: its authenticator covers no kind
        found = {k: found[k] for k in ("ref", "key_id", "header", "body", "nonce", "auth")}
    return {k: v for k, v in found.items() if v is not None}


def read_replies(path: Path) -> list[Reply]:
    """Parse a replies file (version 1 or 2); RepliesError if it is not one."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise RepliesError(f"{path} is larger than a replies file can be ({MAX_FILE >> 20} MiB)")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") not in FORMATS or not isinstance(data.get("replies"), list):
            raise ValueError(f"it is not an {FORMAT} file")
        return [_item(r) for r in data["replies"]]
    except OSError as exc:
        raise RepliesError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RepliesError(f"{path} is not a replies file ({exc}): carry the file `intake-review reply --out` "
                           "wrote, unchanged") from None


def _item(r: dict) -> Reply:
    sealed = (str(r["ref"]), str(r["key_id"]), _b(r["header"]), _b(r["body"]), b64decode(r["nonce"], NONCE),
              _b(r["auth"]))
    if "kind" not in r:
        return Reply(*sealed, version=1)
    kind = r["kind"]
    if kind not in KINDS:
        raise ValueError(f"an item's kind is not one of {', '.join(KINDS)}")
    plain = [r.get(k) for k in ("day", "state", "was")]
    if not all(v is None or isinstance(v, str) for v in plain):
        raise ValueError("day, state and was are strings")
    return Reply(*sealed, kind, *plain)


def _b(text: object) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_FILE:
        raise ValueError("a sealed value is base64url text")
    return b64decode(text, len(text) * 3 // 4)


def verify_reply(reply: Reply, import_identity: Identity, reviewers: dict[str, Recipient]) -> None:
    """Check that an active reviewer's identity made this item's authenticator; RepliesError otherwise."""
    label = {"reply": f"a reply to case {reply.ref}", "note": f"a status change of case {reply.ref}",
             "tags": f"a tag change of case {reply.ref}", "custody": f"a custody entry of case {reply.ref}"}[reply.kind]
    reviewer = reviewers.get(reply.key_id)
    if reviewer is None:
        raise RepliesError(f"{label} names key {reply.key_id}, which is not an active reviewer key: nothing was "
                           "imported")
    try:
        opened = sodium.crypto_box_open(reply.auth, reply.nonce, reviewer.public_key, import_identity.secret_key)
    except nacl.exceptions.CryptoError:
        opened = b""
    if not hmac.compare_digest(opened, reply.digest()):
        raise RepliesError(f"{label} is not authenticated by reviewer key {reply.key_id} (forged or altered): "
                           "nothing was imported")
