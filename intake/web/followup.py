"""A no-JavaScript follow-up, sealed by the server: text alone, or in multipart with its files sealed as they
arrive into a carrier, as a report's are.

`POST /check` reads the text fields before the first file ahead (web/ahead.py): the form token and
the sealed keys a thread page carries come first (templates/check.html), so a forged post or an
unknown codename is refused before a byte is sealed. The files go through the same sealing writer as
a report's (web/sealing.py), unpadded as format.md §12.4 says, into a carrier
(storage/followups.py), which `deliver` moves into the thread once the message is sealed.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, request
from flask_babel import gettext as _

from intake.crypto.codename import CodenameKeys
from intake.crypto.message import seal_message, seal_message_around
from intake.storage.admission import Refused
from intake.storage.budgets import Resent
from intake.storage.cases import StorageError
from intake.storage.followups import admit_follow_up, deliver
from intake.storage.lifecycle import KeysChanged, discard
from intake.storage.threads import ThreadFull, has_room, reporter_key_id
from intake.web.guards import check_server_post, follow_up_resent, nojs_busy, refusal, someone_elses, thread_full
from intake.web.sealing import Arrival, UploadRefused
from intake.web.state import state

LEADING = 256 * 1024  # the text fields before a follow-up's files, read ahead (web/ahead.py)
MAX_MESSAGE = 20000
SMALLEST = 1024  # a sealed body is never smaller: a thread without that much room refuses before any file arrives


def spend_nojs() -> None:
    """Spend one unit of this worker's no-JS budget (web/limits.py), or refuse with a 429."""
    if not state().nojs.take():
        raise nojs_busy()


def message_text(fields: Mapping[str, str]) -> str:
    """The follow-up's text, stripped; 400 when too long."""
    text = fields.get("message", "").strip()
    if len(text) > MAX_MESSAGE:
        abort(400, _("Shorten your message to at most 20,000 characters and send it again."))
    return text


def store_text(case_id: int, keys: CodenameKeys, text: str, path: str, form: tuple[bytes, int] | None = None) -> None:
    """Seal a follow-up of text alone and store it, its sealed bytes counted on `path` as it is stored (and a no-JS
    page's `form` token spent with it)."""
    intake = state()
    check_reporter(case_id, keys)
    try:
        sealed = seal_message(intake.keyring.current().recipients(), keys.identity.recipient, "reporter", text)
        admit_follow_up(intake.engine, case_id, sealed.header, sealed.body, (), path, intake.limits, form=form)
    except Resent:
        raise follow_up_resent() from None
    except Refused as exc:
        raise refusal(exc) from None
    except ThreadFull:
        raise thread_full() from None
    except (StorageError, ValueError) as exc:
        abort(409, str(exc))


def check_reporter(case_id: int, keys: CodenameKeys) -> None:
    """§12.4: a follow-up's stanza 0 carries the key id of the case's reporter's stanza; a case another kit sealed
    under this codename's lookup (a carrier's report, docs/web.md) takes no follow-up from it: 409, nothing stored."""
    if reporter_key_id(state().engine, case_id) not in (None, keys.identity.recipient.key_id):
        raise someone_elses()


def receive_follow_up(case_id: int, keys: CodenameKeys, spent: tuple[bytes, int]) -> bool:
    """Seal a multipart follow-up (text, files or both) to the thread of `case_id`, spending its page's form token
    (`spent`: web/tokens.py) with it; False when it was empty."""
    intake = state()
    check_reporter(case_id, keys)
    if not has_room(intake.engine, case_id, SMALLEST):
        raise thread_full()
    spend_nojs()
    check_server_post(request.content_length or 0)
    keyring = intake.keyring.current()
    arrival = Arrival(intake.engine, keyring.recipients(), follow_up=True, daily=intake.settings.daily_bytes)
    request.arrival = arrival  # type: ignore[attr-defined]
    delivered = False
    try:
        try:
            form, files = request.form, request.files
        except UploadRefused as exc:
            abort(400, str(exc))
        if set(files) - {"attachments"}:
            abort(400, _("A file arrived in place of a text field. Nothing was stored: send the form as the page "
                         "shows it."))
        if any(not w.closed for w in arrival.writers):
            abort(400, _("A file arrived incomplete: choose it again and send the report again."))
        text = message_text(form)
        if not arrival.writers:
            if text:
                store_text(case_id, keys, text, "server", spent)
            return bool(text)
        try:
            header, body = seal_message_around(arrival.sealer, keys.identity.recipient, "reporter", text)
            deliver(intake.engine, arrival.case_id, header, body, arrival.lengths, case_id,  # type: ignore[arg-type]
                    intake.settings.daily_bytes, keys_held=lambda: intake.keyring.holds(keyring), form=spent)
        except Resent:
            raise follow_up_resent() from None
        except KeysChanged:
            abort(409, _("The reviewers' keys changed while your message was arriving, so nothing was stored. Send "
                         "it again."))
        except ThreadFull:
            raise thread_full() from None
        except (StorageError, ValueError) as exc:
            abort(409, str(exc))
        delivered = True
    finally:
        arrival.close()
        if not delivered and arrival.case_id is not None:
            discard(intake.engine, arrival.case_id)
    return True
