"""Reviewer errors: each kind has its own exit code, and its message says what to do next."""

from __future__ import annotations

from intake.crypto.errors import CryptoError, DamagedKeyFile, InvalidKey, NoMatchingIdentity, WrongPassphrase
from intake.errors import IntakeError

FAILED = 1
WRONG_PASSPHRASE = 3
BAD_IDENTITY = 4
NO_CASE = 5
NOT_YOURS = 6
DAMAGED_CASE = 7
DAMAGED_BUNDLE = 8
NO_KEYRING = 9


class ReviewError(IntakeError):
    """A reviewer error: a terse message, a hint of what to do next, and its own exit code."""


def from_crypto(exc: CryptoError, what: str = "this case") -> ReviewError:
    """Turn a crypto error into a reviewer error with the exit code and hint of its kind."""
    if isinstance(exc, WrongPassphrase):
        return ReviewError(str(exc), "check it and try again, or give the right one with --passphrase-file",
                           WRONG_PASSPHRASE)
    if isinstance(exc, DamagedKeyFile | InvalidKey):
        return ReviewError(str(exc), "give your identity file (NAME.key, made by `intake keys new`)", BAD_IDENTITY)
    if isinstance(exc, NoMatchingIdentity):
        return ReviewError(f"{what} is not sealed to any of your keys",
                           "give the identity it was sealed to with --identity, or ask who can read it",
                           NOT_YOURS)
    return ReviewError(f"{what} is damaged ({exc.expect}): {exc}",
                       "restore it from a backup or a fresh export; nothing of it was trusted", DAMAGED_CASE)


def no_case(ref: str) -> ReviewError:
    """The error for a reference that names no case."""
    return ReviewError(f"no case {ref!r}", "check the reference with `intake-review ... list`", NO_CASE)
