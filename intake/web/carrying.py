"""Which keyrings a report carried in from the offline kit may be sealed to (docs/format.md §13.3), and its
signature (§13.2), for both ways in: the /sealed form without JavaScript (web/sealed.py) and the API with
`carried` (web/api.py)."""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import Engine

from intake.clock import today
from intake.crypto.carried import VERSION, check_carried
from intake.crypto.envelope import Header
from intake.crypto.errors import CryptoError
from intake.crypto.kitsign import SIGNATURE_BYTES, SIGNER_BYTES
from intake.keys.keyring import Keyring
from intake.storage.keyring_state import kept
from intake.web.checks import ReportRefused, from_b64url


def not_whole(detail: object) -> str:
    """What to tell whoever sends a file that is not a whole carried file, or one changed on the way."""
    return _("This is not a whole report file from the kit. Nothing was stored. Send the file the kit saved, as it "
             "is.") + f" ({detail})"


def old_kit() -> str:
    """What to tell whoever sends a file made by a kit whose files were not signed (format.md §13.1 version 1)."""
    return _("This file was made by an older kit, which did not protect the file on its way. Nothing was stored. "
             "Get a new kit from this site, seal the report again with it and send the new file.")


def check_signed_request(data: dict[str, object], header: Header, body: bytes, lookup: bytes,
                         lengths: Sequence[int]) -> None:
    """The API's carried report: its `signer` and `signature` sign the serial, lookup, header, body and stream
    lengths as the file's prefix did (format.md §13.2 steps 6-7); a request without them is an older kit's."""
    signer, signature = data.get("signer"), data.get("signature")
    if not isinstance(signer, str) or not isinstance(signature, str):
        raise ReportRefused(old_kit())
    raw = [from_b64url(signer), from_b64url(signature)]
    if raw[0] is None or raw[1] is None or len(raw[0]) != SIGNER_BYTES or len(raw[1]) != SIGNATURE_BYTES:
        raise ReportRefused(not_whole("`signer` and `signature` are base64url of 32 and 64 bytes"))
    fields = bytes([VERSION]) + struct.pack(">Q", data["keyring_serial"]) + lookup + raw[0]  # type: ignore[arg-type]
    try:
        check_carried(fields, raw[1], header, body, lengths)
    except CryptoError as exc:
        raise ReportRefused(not_whole(exc)) from None


def out_of_date(serial: int) -> ReportRefused:
    """The 409 of a file sealed by a kit whose keys are no longer all in use."""
    return ReportRefused(_("This report was sealed by a kit that is out of date (keyring %(serial)s): the reviewers' "
                           "keys changed since. Nothing was stored. Get a new kit from this site, seal the report "
                           "again with it and send the new file.", serial=serial), 409)


def arriving() -> ReportRefused:
    """The 409 of a carried file whose copy is arriving right now (sent by someone else at the same moment)."""
    return ReportRefused(_("This file is arriving already, sent by someone else at the same moment. Nothing more "
                           "was stored. Wait a few minutes, then send it again to see whether it arrived."), 409)


def other_keys() -> ReportRefused:
    """The 400 of a file sealed to keys its keyring does not list."""
    return ReportRefused(_("This file is sealed to other keys than the reviewers' keyring it names: it was not made "
                           "by this site's kit. Nothing was stored. Seal the report with a kit from this site."))


def check_kit_keys(engine: Engine, keyring: Keyring, serial: object, reviewer_key_ids: list[str],
                   kit_days: int, day: dt.date | None = None) -> None:
    """Refuse a carried report unless its header's reviewer key ids are those of the keyring of `serial`, and that
    keyring is the one in use, or was replaced at most `kit_days` ago with all its keys still in use."""
    if type(serial) is not int or serial < 0:
        raise ReportRefused(_("`keyring_serial` must be the serial of the keyring the report is sealed to"))
    if serial > keyring.serial:
        raise ReportRefused(_("This file names keyring %(serial)s, newer than this site's (%(current)s): it was not "
                              "sealed by a kit from this site. Nothing was stored.", serial=serial,
                              current=keyring.serial))
    if serial == keyring.serial:
        if sorted(reviewer_key_ids) != sorted(keyring.key_ids):
            raise other_keys()
        return
    history = kept(engine, keyring.signer, serial)
    if history is None:
        raise out_of_date(serial)
    key_ids, replaced = history
    if sorted(reviewer_key_ids) != sorted(key_ids):
        raise other_keys()
    late = replaced is not None and (day or today()) > replaced + dt.timedelta(days=kit_days)
    if late or not set(key_ids) <= set(keyring.key_ids):
        raise out_of_date(serial)
