"""Checks on a sealed report before anything of it is stored (docs/format.md §4, §5, §7; docs/openapi.yaml)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

from intake.crypto.envelope import BODY_SIZES, KIT_VERSION, MAX_ATTACHMENTS, parse_header
from intake.crypto.errors import CryptoError
from intake.crypto.stream import plain_size
from intake.keys.keyring import Keyring, KeyringError


class ReportRefused(Exception):
    """A sealed report was refused; `status` is 400, 409 (keyring changed) or 413 (too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CheckedReport:
    """A checked report request: header, body, stream lengths and the key ids it is sealed to."""

    header: bytes
    body: bytes
    lengths: tuple[int, ...]
    key_ids: tuple[str, ...]
    lookup: bytes | None = None


def from_b64url(value: str) -> bytes | None:
    """The bytes of a base64url text (padding optional), or None when it is not base64url."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _bytes(data: dict[str, object], name: str) -> bytes:
    value = data.get(name)
    if not isinstance(value, str):
        raise ReportRefused(_("`%(name)s` is missing: send it as base64url text", name=name))
    decoded = from_b64url(value)
    if decoded is None:
        raise ReportRefused(_("`%(name)s` is not base64url: send it encoded as base64url", name=name))
    return decoded


def check_report(data: dict[str, object], keyring: Keyring, max_bytes: int,
                 kit_keys: Callable[[object, list[str]], None] | None = None) -> CheckedReport:
    """Check version, sizes, stream framing and key ids against the active keyring, without any key. A report
    carried in from the offline kit has its key ids checked by `kit_keys` (web/carrying.py) instead."""
    header = _bytes(data, "header")
    try:
        parsed = parse_header(header)
    except CryptoError as exc:
        raise ReportRefused(_("the sealed header is not valid (%(error)s): reload the page and send the "
                                "report again", error=exc)) from None
    if parsed.version == KIT_VERSION and kit_keys is None:
        raise ReportRefused(_("the sealed header is not valid (%(error)s): reload the page and send the "
                              "report again", error="version 3 is the offline kit's: send its file on /sealed"))
    try:
        if kit_keys is not None:
            kit_keys(data.get("keyring_serial"), parsed.reviewer_key_ids)
        else:
            keyring.check_key_ids(parsed.reviewer_key_ids)
    except KeyringError as exc:
        if data.get("keyring_serial") != keyring.serial:
            raise ReportRefused(_("the reviewers' keys changed since this page was loaded: load "
                                    "/keyring.json again and seal the report to the new keys"), 409) from None
        raise ReportRefused(str(exc)) from None
    body = _bytes(data, "body")
    if len(body) not in BODY_SIZES:
        raise ReportRefused(_("a sealed body cannot be %(n)s bytes long: pad it as docs/format.md §5 says",
                                n=len(body)))
    lengths = stream_lengths(data.get("lengths"), len(header) + len(body), max_bytes)
    lookup = _bytes(data, "lookup") if data.get("lookup") is not None else None
    if lookup is not None and len(lookup) != 32:
        raise ReportRefused(_("`lookup` must be 32 bytes, the hash of the codename's token (docs/format.md §12.3)"))
    if (parsed.reporter is not None or kit_keys is not None) and lookup is None:
        raise ReportRefused(_("a header with a reporter's stanza needs the codename's `lookup` (docs/format.md "
                              "§4.1): send it, or seal the report without that stanza"))
    return CheckedReport(header, body, lengths, tuple(parsed.reviewer_key_ids), lookup)


def stream_lengths(lengths: object, sealed: int, max_bytes: int) -> tuple[int, ...]:
    """Check `lengths` (at most 32 sealed stream lengths, each framed as §7 says) and the whole size, `sealed`
    bytes of header and body included, against the service's limit."""
    if not isinstance(lengths, list) or len(lengths) > MAX_ATTACHMENTS or not all(
            type(n) is int for n in lengths):
        raise ReportRefused(_("`lengths` must list at most %(n)s stream lengths as integers", n=MAX_ATTACHMENTS))
    for i, length in enumerate(lengths):
        if plain_size(length) is None:
            raise ReportRefused(_("attachment %(i)s cannot be a sealed stream of %(n)s bytes (docs/format.md §7)",
                                    i=i, n=length))
    if sealed + sum(lengths) > max_bytes:
        raise ReportRefused(_("the report is larger than this service takes (%(n)s MiB): leave out some "
                                "files", n=max_bytes // (1 << 20)), 413)
    return tuple(lengths)
