"""docs/format.md §6: passphrase-protected identity files."""

from __future__ import annotations

import stat

import nacl.pwhash.argon2id as argon2id
import pytest

from intake.crypto.errors import DamagedKeyFile, WrongPassphrase
from intake.crypto.keyfile import lock_identity, read_identity_file, unlock_identity, write_private
from intake.crypto.keys import Identity


@pytest.fixture(scope="module")
def locked() -> tuple[Identity, str]:
    """An identity and its locked text."""
    identity = Identity.generate()
    return identity, lock_identity(identity, b"pass phrase")


def test_layout_and_round_trip(locked) -> None:
    """The file names its type, key id and recipient in clear, and unlocks to the same key."""
    identity, text = locked
    lines = text.splitlines()
    assert lines[0] == "intake-identity-file-1"
    assert lines[1] == f"key-id: {identity.key_id}"
    assert lines[2] == f"recipient: {identity.recipient}"
    assert lines[3].startswith("kdf: argon2id opslimit=")
    assert lines[-1].startswith("secret: ")
    assert unlock_identity(text, b"pass phrase") == identity


def test_moderate_limits_by_default() -> None:
    """Without the test profile, new files use libsodium's MODERATE limits."""
    text = lock_identity(Identity.generate(), b"x")
    assert f"opslimit={argon2id.OPSLIMIT_MODERATE} memlimit={argon2id.MEMLIMIT_MODERATE}" in text


def test_wrong_passphrase(locked) -> None:
    """A wrong passphrase is one clear error."""
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        unlock_identity(locked[1], b"pass phrasE")


@pytest.mark.parametrize(("old", "new"), [
    ("key-id: ", "key-id: 00"),
    ("recipient: intake-recipient-1:", "recipient: intake-recipient-1:A"),
])
def test_public_lines_are_authenticated(locked, old: str, new: str) -> None:
    """Changing a clear line makes the file fail to unlock (they are the AEAD's data)."""
    with pytest.raises(WrongPassphrase):
        unlock_identity(locked[1].replace(old, new, 1), b"pass phrase")


@pytest.mark.parametrize("kdf", ["kdf: argon2id opslimit=5 memlimit=67108864",
                                 "kdf: argon2id opslimit=2 memlimit=4294967296",
                                 "kdf: scrypt opslimit=2 memlimit=67108864"])
def test_limits_outside_bounds_refused(locked, kdf: str) -> None:
    """Limits above SENSITIVE, or another KDF, are refused before any work (§6)."""
    text = "\n".join(kdf if ln.startswith("kdf:") else ln for ln in locked[1].splitlines())
    with pytest.raises(DamagedKeyFile, match="key derivation"):
        unlock_identity(text, b"pass phrase")


@pytest.mark.parametrize("text", ["", "intake-signing-key-file-1\n", "garbage\n",
                                  "intake-identity-file-1\nkey-id: x\n"])
def test_wrong_or_damaged_files(text: str) -> None:
    """Empty, other-typed and incomplete files are told apart from a wrong passphrase."""
    with pytest.raises(DamagedKeyFile):
        unlock_identity(text, b"x")


def test_write_private_mode_and_no_overwrite(tmp_path) -> None:
    """Key files are created 0600 and never overwrite."""
    path = tmp_path / "k.key"
    write_private(path, "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_private(path, "y")


def test_unreadable_file_is_named(tmp_path) -> None:
    """A missing identity file is a clear, named error."""
    with pytest.raises(DamagedKeyFile, match="cannot read identity file"):
        read_identity_file(tmp_path / "missing.key", b"x")
