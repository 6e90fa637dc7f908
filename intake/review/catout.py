"""`intake-review cat`: one attachment, decrypted and checked, to a pipe or file (never a terminal)."""

from __future__ import annotations

import sys

from intake.crypto.errors import CryptoError
from intake.review.errors import ReviewError, from_crypto
from intake.review.opening import open_case
from intake.review.session import Session


def cat_attachment(session: Session, ref: str, number: int) -> None:
    """Write attachment `number` (1-based, as `show` lists them) to stdout, as it was sealed."""
    stdout = sys.stdout.buffer
    if stdout.isatty():
        raise ReviewError("refusing to write binary attachment content to a terminal",
                          f"redirect it (> FILE or | PROGRAM), or use `export {ref} --out DIR`")
    case = open_case(session, ref)
    count = len(case.case.lengths)
    if not 1 <= number <= count:
        raise ReviewError(f"case {case.case.ref} has {count} attachments, not {number}",
                          "see them with `show CASE`")
    try:
        for chunk in case.plaintext(number - 1):
            stdout.write(chunk)
    except CryptoError as exc:
        raise from_crypto(exc, f"attachment {number} of case {case.case.ref}") from None
    stdout.flush()
