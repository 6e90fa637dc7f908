"""Replies files: reviewers' replies sealed from a bundle, carried to the server for `intake import-replies`.

Only a reviewer can make a reply the server accepts (docs/bundle.md §6): each reply carries an
authenticator, a libsodium crypto_box from the reviewer's identity (an active key of the verified
keyring) to the server's import key (instance/import.key, whose recipient every bundle carries),
over a hash of the case reference and the sealed message. The server opens the box with its
import key and the reviewer's recipient from the keyring: a box opens only if it was made with
one of those reviewer identities (or the import key itself, which only the server holds).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
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
    from intake.keys.keyring import Keyring

FORMAT = "intake-replies-1"
AUTH_DOMAIN = b"intake-reply-auth-v1"
NONCE = sodium.crypto_box_NONCEBYTES
MAX_FILE = 64 << 20


class RepliesError(IntakeError, ValueError):
    """The replies file is malformed or a reply in it is not from an active reviewer: nothing was imported."""


@dataclass(frozen=True)
class Reply:
    """A reply as the file carries it: the case, the reviewer key id, the sealed message, its authenticator."""

    ref: str
    key_id: str
    header: bytes
    body: bytes
    nonce: bytes
    auth: bytes


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


def _digest(ref: str, header: bytes, body: bytes) -> bytes:
    data = AUTH_DOMAIN + ref.encode() + b"\0" + len(header).to_bytes(4, "big") + header + body
    return generichash(32, data)


def append_reply(path: Path, import_key: Recipient, identities: Sequence[Identity], ref: str, header: bytes,
                 body: bytes) -> None:
    """Add a reply, authenticated by the reviewer's first identity, to a replies file (made if missing)."""
    identity = identities[0]
    nonce = nacl.utils.random(NONCE)
    auth = sodium.crypto_box(_digest(ref, header, body), nonce, import_key.public_key, identity.secret_key)
    replies = [r.__dict__ for r in read_replies(path)] if path.exists() else []
    replies.append({"ref": ref, "key_id": identity.key_id, "header": header, "body": body, "nonce": nonce,
                    "auth": auth})
    text = json.dumps({"format": FORMAT, "replies": [
        {k: b64encode(v) if isinstance(v, bytes) else v for k, v in r.items()} for r in replies]}, indent=1)
    temp = path.with_name(path.name + ".new")
    temp.unlink(missing_ok=True)
    write_private(temp, text + "\n")
    os.replace(temp, path)


def read_replies(path: Path) -> list[Reply]:
    """Parse a replies file; RepliesError if it is not one."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise RepliesError(f"{path} is larger than a replies file can be ({MAX_FILE >> 20} MiB)")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("replies"), list):
            raise ValueError(f"it is not an {FORMAT} file")
        return [Reply(str(r["ref"]), str(r["key_id"]), _b(r["header"]), _b(r["body"]), b64decode(r["nonce"], NONCE),
                      _b(r["auth"])) for r in data["replies"]]
    except OSError as exc:
        raise RepliesError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RepliesError(f"{path} is not a replies file ({exc}): carry the file `intake-review reply --out` "
                           "wrote, unchanged") from None


def _b(text: object) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_FILE:
        raise ValueError("a sealed value is base64url text")
    return b64decode(text, len(text) * 3 // 4)


def verify_reply(reply: Reply, import_identity: Identity, reviewers: dict[str, Recipient]) -> None:
    """Check that an active reviewer's identity made this reply's authenticator; RepliesError otherwise."""
    reviewer = reviewers.get(reply.key_id)
    if reviewer is None:
        raise RepliesError(f"a reply to case {reply.ref} names key {reply.key_id}, which is not an active "
                           "reviewer key: nothing was imported")
    try:
        opened = sodium.crypto_box_open(reply.auth, reply.nonce, reviewer.public_key, import_identity.secret_key)
    except nacl.exceptions.CryptoError:
        opened = b""
    if opened != _digest(reply.ref, reply.header, reply.body):
        raise RepliesError(f"a reply to case {reply.ref} is not authenticated by reviewer key {reply.key_id} "
                           "(forged or altered): nothing was imported")


def import_replies(engine, path: Path, identity: Identity, keyring: Keyring) -> tuple[int, int, list[str]]:  # type: ignore[no-untyped-def]
    """Verify every reply of a file against the verified keyring, then store them all in one transaction.

    Return (stored, already stored, the refs of cases whose full thread took no reply).
    """
    from intake.crypto.envelope import BODY_SIZES, parse_header
    from intake.crypto.errors import CryptoError
    from intake.storage.cases import get_case
    from intake.storage.threads import add_replies

    reviewers = {entry.key_id: entry.recipient for entry in keyring.active}
    found, found_refs = [], []
    for reply in read_replies(path):
        verify_reply(reply, identity, reviewers)
        try:
            parsed = parse_header(reply.header)
        except CryptoError as exc:
            raise RepliesError(f"a reply to case {reply.ref} has a malformed header ({exc}): "
                               "nothing was imported") from None
        key_ids = parsed.key_ids
        if len(key_ids) < 2 or parsed.version != 1 or len(reply.body) not in BODY_SIZES:
            raise RepliesError(f"a reply to case {reply.ref} is not a sealed message: nothing was imported")
        if sorted(key_ids[1:]) != sorted(keyring.key_ids):
            raise RepliesError(f"a reply to case {reply.ref} is sealed to other keys than the keyring in use "
                               f"(serial {keyring.serial}): the reviewer sealed it with an older keyring.json. "
                               "Nothing was imported: give the reviewer the newest keyring and seal the reply again")
        case = get_case(engine, reply.ref)
        if case is None:
            raise RepliesError(f"no case {reply.ref} on this server (deleted since the bundle was made?): "
                               "nothing was imported; remove that reply or import on the right server")
        if key_ids[0] != _reporter(case.header, key_ids[0]):
            raise RepliesError(f"a reply to case {reply.ref} is not sealed to that case's reply key (docs/format.md "
                               "§12.4): nothing was imported; seal the reply again from the case itself")
        found.append((case.id, reply.header, reply.body))
        found_refs.append(case.ref)
    stored, full = add_replies(engine, found)
    refs = {case_id: ref for (case_id, _header, _body), ref in zip(found, found_refs, strict=True)}
    return stored, len(found) - stored - len(full), [refs[case_id] for case_id in full]


def _reporter(header: bytes, otherwise: str) -> str:
    """The key id of a case's reporter's stanza (header version 2), which a reply's stanza 0 must carry, as the
    thread API asks of a follow-up; `otherwise` for a case sent before that stanza existed."""
    from intake.crypto.envelope import parse_header
    from intake.crypto.errors import CryptoError

    try:
        return parse_header(header).reporter or otherwise
    except CryptoError:
        return otherwise
