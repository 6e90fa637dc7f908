"""The sealed-report API under /api/v1 (docs/openapi.yaml): proof of work, resumable uploads of sealed parts."""

from __future__ import annotations

import re
from functools import partial

from flask import Blueprint, Response, abort, jsonify, request
from flask_babel import gettext as _

from intake.crypto.carried import carried_id
from intake.crypto.envelope import parse_header
from intake.crypto.errors import CryptoError
from intake.crypto.stream import PART
from intake.keys.keyring import KeyringError
from intake.storage.admission import Refused, admit_case
from intake.storage.cases import StorageError, part_count
from intake.storage.followups import carrier_header, deliver
from intake.storage.lifecycle import (
    Duplicate,
    KeysChanged,
    complete_case,
    discard,
    put_part,
    upload_case,
)
from intake.storage.streams import missing_parts
from intake.storage.threads import ThreadFull
from intake.web.carrying import arriving, check_kit_keys, check_signed_request
from intake.web.checks import check_report
from intake.web.guards import no_space, refusal, thread_full
from intake.web.limits import below_floor
from intake.web.state import state

bp = Blueprint("api", __name__, url_prefix="/api/v1")
TOKEN = re.compile(r"[0-9a-f]{64}")


@bp.get("/challenge")
def challenge() -> Response:
    """A fresh proof-of-work challenge and the number of zero bits its solution needs (more when busy)."""
    challenge_, bits = state().work.challenge()
    return jsonify(challenge=challenge_, bits=bits)


@bp.post("/reports")
def begin() -> tuple[Response, int]:
    """Check a sealed report and store it: complete at once without attachments, else open an upload for them."""
    intake = state()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("send the sealed report as a JSON object (docs/openapi.yaml)"))
    if data.get("website"):
        abort(400, _("this report looks automated and was not stored: leave the `website` field empty"))
    solved = intake.work.verify(data.get("pow_challenge"), data.get("pow_nonce"))
    keyring, carried = intake.keyring.current(), data.get("carried") is True
    kit = partial(check_kit_keys, intake.engine, keyring, kit_days=intake.settings.kit_days) if carried else None
    checked = check_report(data, keyring, intake.settings.max_report_bytes, kit)
    if carried:
        check_signed_request(data, parse_header(checked.header), checked.body, checked.lookup,  # type: ignore[arg-type]
                             checked.lengths)
    if below_floor(intake.disk, len(checked.header) + len(checked.body) + sum(checked.lengths),
                   intake.settings.free_floor):
        raise no_space()
    try:
        admitted = admit_case(intake.commits, solved.spent, solved.day, intake.limits, checked.header,
                              checked.body, checked.key_ids, checked.lengths, checked.lookup,
                              carried_id(checked.header) if carried else None)
    except Refused as exc:
        raise refusal(exc) from None
    except Duplicate as exc:
        if exc.ref is None:
            raise arriving() from None
        return jsonify(ref=exc.ref, new=False), 200
    except StorageError as exc:
        abort(409, str(exc))
    intake.work.load.add()
    new = {"new": True} if carried else {}
    if admitted.token is None:
        return jsonify(ref=admitted.ref, **new), 201
    missing = {str(idx): list(range(part_count(length))) for idx, length in enumerate(checked.lengths)}
    return jsonify(upload=admitted.token, missing=missing, **new), 201


def _case(token: str) -> int:
    case_id = upload_case(state().engine, token) if TOKEN.fullmatch(token) else None
    if case_id is None:
        abort(404, _("no upload waits at this address: it finished, expired or never began; send the report again"))
    return case_id


def _missing(case_id: int) -> dict[str, list[int]]:
    return {str(idx): numbers for idx, numbers in missing_parts(state().engine, case_id).items()}


@bp.get("/uploads/<token>")
def status(token: str) -> Response:
    """Which parts of each stream the server still needs."""
    return jsonify(missing=_missing(_case(token)))


@bp.put("/uploads/<token>/<int:idx>/<int:part>")
def upload_part(token: str, idx: int, part: int) -> tuple[str, int]:
    """Store one sealed part of 1 MiB (the last part of a stream holds the rest)."""
    case_id = _case(token)
    data = request.stream.read(PART + 1)
    if len(data) > PART:
        abort(413, _("a part holds at most %(n)s bytes (docs/format.md §7)", n=PART))
    try:
        settings = state().settings
        put_part(state().engine, case_id, idx, part, data, settings.pending_bytes, settings.daily_bytes)
    except Refused as exc:
        raise refusal(exc) from None
    except StorageError as exc:
        abort(400, _("%(error)s: cut each stream into parts of %(n)s bytes (docs/format.md §7)", error=exc, n=PART))
    return "", 204


@bp.post("/uploads/<token>/complete")
def complete(token: str) -> Response:
    """Make the case visible once every part is stored and return its reference; or, for a follow-up's
    files, append the follow-up to its thread."""
    intake = state()
    case_id = _case(token)
    held = carrier_header(intake.engine, case_id)
    if held is not None:
        return _deliver(case_id, held)
    try:
        ref = complete_case(intake.engine, case_id)
    except StorageError as exc:
        abort(409, _("%(error)s: GET this upload to see which parts are missing", error=exc))
    return jsonify(ref=ref)


def _deliver(carrier_id: int, header: bytes) -> Response:
    """Append an uploaded follow-up to its thread, if the reviewers' keys its `header` seals it to are still the
    active ones (a rewrap while it uploaded would leave it open to a retired key: it is refused and dropped)."""
    engine, watch = state().engine, state().keyring
    keyring = watch.current()
    try:
        keyring.check_key_ids(parse_header(header).key_ids[1:])
        deliver(engine, carrier_id, keys_held=lambda: watch.holds(keyring))
    except (CryptoError, KeyringError, KeysChanged):
        discard(engine, carrier_id)
        abort(409, _("the reviewers' keys changed while your files were uploading, so nothing was stored: send "
                     "the message again"))
    except ThreadFull:
        discard(engine, carrier_id)
        raise thread_full() from None
    except StorageError as exc:
        abort(409, _("%(error)s: GET this upload to see which parts are missing", error=exc))
    return jsonify(sent=True)
