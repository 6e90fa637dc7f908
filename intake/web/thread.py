"""Checking back with a codename (format.md §12): the thread read and answered, with or without JavaScript.

With JavaScript the page derives the keys and sends only the token (`/api/v1/thread`); it opens the
thread and seals follow-ups itself. Without JavaScript `POST /check` derives the keys in memory for
that one request, opens the thread, seals a follow-up, and keeps nothing.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from dataclasses import dataclass

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import gettext as _

from intake.crypto.codename import CodenameKeys, InvalidCodename, derive_keys, lookup_of
from intake.crypto.envelope import BODY_SIZES, parse_header
from intake.crypto.errors import CryptoError, InvalidKey
from intake.crypto.keys import Identity
from intake.crypto.message import open_message, seal_message
from intake.keys.keyring import KeyringError
from intake.storage.admission import Refused
from intake.storage.cases import StorageError
from intake.storage.threads import add_follow_up, case_by_lookup, salt, thread
from intake.web.boxes import open_value, seal_value
from intake.web.guards import form_expired, no_space, nojs_busy, refusal
from intake.web.limits import below_floor
from intake.web.state import state

bp = Blueprint("thread", __name__)
MAX_MESSAGE = 20000
DERIVING = threading.BoundedSemaphore(2)  # Argon2id takes 64 MiB: at most two at once per process
WAIT = 20.0
PURPOSE = b"thread keys"
PAGE_LIFETIME = 3600  # a thread page can send a follow-up for an hour; then the codename is asked again


def status_words(status: str) -> str:
    """The case's status as the reporter reads it."""
    if status == "new":
        return _("Received: no reviewer has marked it yet.")
    if status in ("closed", "spam"):
        return _("Closed.")
    return _("Being reviewed.")


def wrong_codename() -> str:
    """The one answer to a codename that finds no case: it says nothing about whether a case exists."""
    return _("No report was found for this codename. Check each group of digits against your paper and "
             "try again.")


@dataclass(frozen=True)
class Shown:
    """One message as the page shows it."""

    sender: str
    day: str
    text: str


@bp.get("/check")
def check_page() -> tuple[str, int]:
    """The form where a reporter types the codename back."""
    return render_template("check.html", shown=None, form_token=state().tokens.issue()), 200


def derive_in_turn(typed: str) -> CodenameKeys:
    """A codename's keys, with at most two derivations at once in this process (429 after a wait)."""
    if not DERIVING.acquire(timeout=WAIT):
        abort(429, _("Too many people are checking right now. Wait a minute and try again."))
    try:
        return derive_keys(typed, salt(state().engine))
    except InvalidCodename:
        abort(400, _("A codename is 25 digits in 5 groups. Type only the digits, with spaces or dashes "
                     "between the groups."))
    finally:
        DERIVING.release()


def _spend_nojs() -> None:
    """Spend one unit of this worker's no-JS budget (web/limits.py), or refuse with a 429."""
    if not state().nojs.take():
        raise nojs_busy()


def _derive(typed: str) -> CodenameKeys:
    """The codename's keys, once the no-JS budget paid for the derivation (cheap checks first)."""
    _spend_nojs()
    return derive_in_turn(typed)


def _form_keys() -> CodenameKeys:
    """The keys from the typed codename, or from the sealed keys a thread page carries."""
    if "sealed" not in request.form:
        return _derive(request.form.get("codename", ""))
    try:
        value = open_value(PURPOSE, request.form["sealed"])
        keys = CodenameKeys(base64.b64decode(str(value["token"])), Identity(base64.b64decode(str(value["reply"]))))
        fresh = float(value["until"]) >= time.time()  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError, InvalidKey):
        abort(400, _("This page was not made by this service, or it is damaged. Open the check page and type "
                     "your codename again."))
    if not fresh:
        abort(400, _("This page has expired. Open the check page and type your codename again."))
    return keys


@bp.post("/check")
def check_post() -> tuple[str, int]:
    """Derive the keys in memory, send the follow-up if any, show the thread; keep nothing."""
    intake = state()
    if not intake.tokens.valid(request.form.get("csrf_token")):
        raise form_expired()
    text = request.form.get("message", "").strip()
    if len(text) > MAX_MESSAGE:
        abort(400, _("Shorten your message to at most 20,000 characters and send it again."))
    keys = _form_keys()
    found = case_by_lookup(intake.engine, keys.lookup)
    if found is None:
        abort(404, wrong_codename())
    case_id, _ref, status = found
    if text:
        if "sealed" in request.form:
            _spend_nojs()
        if below_floor(intake.disk, len(text.encode()), intake.settings.free_floor):
            raise no_space()
        try:
            sealed = seal_message(intake.keyring.current().recipients(), keys.identity.recipient, "reporter", text)
            add_follow_up(intake.engine, case_id, sealed.header, sealed.body, "server", intake.settings.daily_bytes)
        except Refused as exc:
            raise refusal(exc) from None
        except (StorageError, ValueError) as exc:
            abort(409, str(exc))
    shown = []
    for message in thread(intake.engine, case_id):
        try:
            opened = open_message(message.header, message.body, 0, [keys.identity], keys.identity.recipient,
                                  message.sender)
            shown.append(Shown(message.sender, message.day.isoformat(), opened.body.text))
        except (CryptoError, ValueError, TypeError, RecursionError):  # one damaged message never hides the others
            shown.append(Shown(message.sender, message.day.isoformat(),
                               _("(This message could not be opened: it is damaged.)")))
    carried = seal_value(PURPOSE, {"token": base64.b64encode(keys.token).decode(), "until": time.time() + PAGE_LIFETIME,
                                   "reply": base64.b64encode(keys.identity.secret_key).decode()})
    return render_template("check.html", shown=shown, status=status_words(status), sent=bool(text),
                           sealed=carried, form_token=intake.tokens.issue()), 200


def _token() -> tuple[dict, bytes]:
    """The JSON request and the lookup of its token; 400 on a malformed one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("send a JSON object with the token the page derived from the codename"))
    value = data.get("token")
    try:
        token = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        token = b""
    if len(token) != 32:
        abort(400, _("`token` must be 32 bytes in base64url, as the page derives it (docs/format.md §12.3)"))
    return data, lookup_of(token)


def _found(lookup: bytes) -> tuple[int, str, str]:
    found = case_by_lookup(state().engine, lookup)
    if found is None:
        abort(404, wrong_codename())
    return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@bp.post("/api/v1/thread")
def thread_json() -> Response:
    """The sealed thread of the case whose token this is, with its status in words."""
    data, lookup = _token()
    if set(data) != {"token"}:
        abort(400, _("send only `token`"))
    case_id, _ref, status = _found(lookup)
    messages = [{"from": m.sender, "day": m.day.isoformat(), "header": _b64(m.header), "body": _b64(m.body)}
                for m in thread(state().engine, case_id)]
    return jsonify(status=status_words(status), thread=messages)


@bp.post("/api/v1/thread/messages")
def post_message() -> tuple[Response, int]:
    """Store a follow-up the page sealed to the reply key and the active reviewer keys (§12.4)."""
    intake = state()
    data, lookup = _token()
    solved = intake.work.verify(data.get("pow_challenge"), data.get("pow_nonce"))
    header, body = _field(data, "header"), _field(data, "body")
    try:
        parsed = parse_header(header)
        if len(parsed.key_ids) < 2:
            raise CryptoError("a follow-up has the reporter's stanza and the reviewers'")
        intake.keyring.current().check_key_ids(parsed.key_ids[1:])
    except (CryptoError, KeyringError) as exc:
        abort(400, _("the sealed header is not valid (%(error)s): reload the page and send it again", error=exc))
    if len(body) not in BODY_SIZES:
        abort(400, _("a sealed body cannot be %(n)s bytes long: pad it as docs/format.md §5 says", n=len(body)))
    case_id = _found(lookup)[0]
    if below_floor(intake.disk, len(header) + len(body), intake.settings.free_floor):
        raise no_space()
    try:
        add_follow_up(intake.engine, case_id, header, body, "browser", intake.settings.daily_bytes, solved.spent,
                      solved.day)
    except Refused as exc:
        raise refusal(exc) from None
    except StorageError as exc:
        abort(409, str(exc))
    intake.work.load.add()
    return jsonify(sent=True), 201


def _field(data: dict, name: str) -> bytes:
    value = data.get(name)
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        abort(400, _("`%(name)s` is not base64url: send it encoded as base64url", name=name))
