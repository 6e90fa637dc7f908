"""Reviewer errors: each has its own exit code, and its message says what to do next."""

from __future__ import annotations

import click

from intake.crypto.errors import (
    CryptoError,
    DamagedKeyFile,
    InvalidKey,
    NoMatchingIdentity,
    WrongPassphrase,
)

EXIT_CODES: dict[type[Exception], int] = {
    WrongPassphrase: 3,
    DamagedKeyFile: 4,
    InvalidKey: 4,
    NoMatchingIdentity: 6,
    CryptoError: 7,
}


class ReviewError(click.ClickException):
    """A reviewer error with its own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def format_message(self) -> str:
        """Terse and lower-case, like age."""
        return self.message


def from_crypto(exc: CryptoError) -> ReviewError:
    """Turn a crypto error into a reviewer error with the exit code of its kind."""
    for cls, code in EXIT_CODES.items():
        if isinstance(exc, cls):
            return ReviewError(str(exc), code)
    return ReviewError(str(exc), 1)
