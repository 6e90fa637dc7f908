"""The thread API for pages with JavaScript (docs/openapi.yaml): the sealed thread fetched with the token the
page derived, and follow-ups the page sealed; a follow-up's files upload through /api/v1/uploads."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, abort, jsonify, request
from flask_babel import gettext as _

from intake.crypto.codename import lookup_of
from intake.crypto.envelope import BODY_SIZES, REPORTER_VERSIONS, parse_header
from intake.crypto.errors import CryptoError
from intake.keys.keyring import KeyringError
from intake.storage.admission import Refused
from intake.storage.cases import Case, StorageError, get_case, part_count
from intake.storage.followups import admit_follow_up
from intake.storage.threads import MAX_MESSAGES, ThreadFull, case_by_lookup, reporter_key_id, thread_page
from intake.web.checks import ReportRefused, from_b64url, stream_lengths
from intake.web.guards import no_space, refusal, someone_elses, thread_full
from intake.web.limits import below_floor
from intake.web.reads import READS
from intake.web.state import state
from intake.web.thread import status_words, wrong_codename

bp = Blueprint("thread_api", __name__, url_prefix="/api/v1/thread")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decoded(value: object) -> bytes | None:
    """The bytes of a base64url text (none when it is missing), or None when it is not base64url."""
    return from_b64url(value) if isinstance(value, str) else b""


def _field(data: dict, name: str) -> bytes:
    value = _decoded(data.get(name))
    if value is None:
        abort(400, _("`%(name)s` is not base64url: send it encoded as base64url", name=name))
    return value


def _token() -> tuple[dict, bytes]:
    """The JSON request and the lookup of its token; 400 on a malformed one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("send a JSON object with the token the page derived from the codename"))
    token = _decoded(data.get("token"))
    if token is None or len(token) != 32:
        abort(400, _("`token` must be 32 bytes in base64url, as the page derives it (docs/format.md §12.3)"))
    return data, lookup_of(token)


def _found(lookup: bytes) -> tuple[int, str, str]:
    found = case_by_lookup(state().engine, lookup)
    if found is None:
        abort(404, wrong_codename())
    return found


@bp.post("")
def thread_json() -> Response:
    """One page of the sealed thread of the case whose token this is (the messages after place `after`, oldest
    first, at most PAGE_BYTES sealed bytes), whether more follow, and the case's status in words."""
    data, lookup = _token()
    if not set(data) <= {"token", "after"}:
        abort(400, _("send only `token` and `after`"))
    after = data.get("after", 0)
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_MESSAGES:
        abort(400, _("`after` is the place of the last message the page has (0 for the first page)"))
    case_id, ref, status = _found(lookup)
    with READS.page(case_id) as budget:
        case = get_case(state().engine, ref) if after == 0 else None  # the report itself comes with the first page
        page, more = thread_page(state().engine, case_id, after, budget=budget)
        READS.charge(case_id, sum(len(m.header) + len(m.body) for m in page + ([case] if case else [])))
        report = _report(case)
        messages = [{"seq": m.seq, "from": m.sender, "day": m.day.isoformat(), "header": _b64(m.header),
                     "body": _b64(m.body), "lengths": list(m.lengths)} for m in page]
        del page
        return jsonify(status=status_words(status), thread=messages, more=more, report=report)


def _report(case: Case | None) -> dict[str, object] | None:
    """The sealed header and body of a report the codename opens (header version 2 or 3, format.md §4.1), for the page
    to open; None for a report sent before (its files are never sent back, only their lengths)."""
    if case is None or case.header[4] not in REPORTER_VERSIONS:
        return None
    return {"header": _b64(case.header), "body": _b64(case.body), "lengths": list(case.lengths)}


@bp.post("/messages")
def post_message() -> tuple[Response, int]:
    """Store a follow-up the page sealed to the reply key and the active reviewer keys (§12.4); with files,
    open an upload for their sealed streams."""
    intake = state()
    data, lookup = _token()
    solved = intake.work.verify(data.get("pow_challenge"), data.get("pow_nonce"))
    header, body = _field(data, "header"), _field(data, "body")
    try:
        parsed = parse_header(header)
        if len(parsed.key_ids) < 2 or parsed.version != 1:
            raise CryptoError("a follow-up's header is version 1, with the reporter's stanza and the reviewers'")
        intake.keyring.current().check_key_ids(parsed.key_ids[1:])
    except (CryptoError, KeyringError) as exc:
        abort(400, _("the sealed header is not valid (%(error)s): reload the page and send it again", error=exc))
    if len(body) not in BODY_SIZES:
        abort(400, _("a sealed body cannot be %(n)s bytes long: pad it as docs/format.md §5 says", n=len(body)))
    try:
        lengths = stream_lengths(data.get("lengths", []), len(header) + len(body), intake.settings.max_report_bytes)
    except ReportRefused as exc:
        abort(exc.status, str(exc))
    case_id = _found(lookup)[0]
    if reporter_key_id(intake.engine, case_id) not in (None, parsed.key_ids[0]):
        raise someone_elses()  # the page seals to its codename's reply key: this case's report is not that codename's
    if below_floor(intake.disk, len(header) + len(body) + sum(lengths), intake.settings.free_floor):
        raise no_space()
    try:
        token = admit_follow_up(intake.engine, case_id, header, body, lengths, "browser", intake.limits,
                                solved.spent, solved.day)
    except Refused as exc:
        raise refusal(exc) from None
    except ThreadFull:
        raise thread_full() from None
    except StorageError as exc:
        abort(409, str(exc))
    intake.work.load.add()
    if token is None:
        return jsonify(sent=True), 201
    return jsonify(upload=token, missing={str(i): list(range(part_count(n))) for i, n in enumerate(lengths)}), 201
