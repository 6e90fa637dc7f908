"""The cheap checks every write passes before it can spend anything shared (docs/web.md, "Floods").

In this order, each refusing before the next costs anything: the method and size (routing and
MAX_CONTENT_LENGTH; a write must declare its length: a chunked body gets a 411), another origin
(web/origin.py), the form token (web/tokens.py: in the `X-CSRFToken` header for the API, in the
form's first field for the no-JS post), then the honeypot, then per path: the proof of work (API)
or the no-JS budget, the free-space floor and the daily bytes; only then is anything sealed or stored.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import gettext as _

from intake.storage.admission import Refused
from intake.storage.budgets import left_today
from intake.storage.threads import MAX_MESSAGES, MAX_THREAD_BYTES
from intake.web.limits import below_floor
from intake.web.origin import cross_origin
from intake.web.state import state

WRITES = ("POST", "PUT", "PATCH", "DELETE")
JSON_LIMIT = 2 << 20  # the longest JSON body an API POST takes: a sealed header and body (format.md §5)


class GuardError(Exception):
    """A report was refused by a guard; `status` is its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def form_expired() -> GuardError:
    """The 400 of a missing, forged or old form token."""
    return GuardError(_("The form expired. Copy your text, reload the page and send it again."))


def report_resent() -> GuardError:
    """The 409 of a report page posted again (a reload): its report was stored the first time."""
    return GuardError(_("This report was already received from this page. Nothing more was stored. Keep the "
                        "codename you were shown when you sent it: it is the only one for this report."), 409)


def follow_up_resent() -> GuardError:
    """The 409 of a thread page's follow-up posted again (a reload): it was stored the first time."""
    return GuardError(_("This message was already sent from this page. Nothing more was stored. To see your "
                        "messages, open the check page and type your codename."), 409)


def automated() -> GuardError:
    """The 400 of a filled honeypot."""
    return GuardError(_("This report looks automated and was not stored. If you are a person, leave the last "
                        "field empty and send it again."))


def refusal(refused: Refused) -> GuardError:
    """What to tell a reporter whose report a guard refused as it was stored."""
    if refused.reason == "replayed":
        return GuardError(_("this proof of work was already used: reload the page and send the report again"))
    if refused.reason == "held":
        return GuardError(_("Your earlier follow-up with files is still uploading. Nothing was stored: let it "
                            "finish, or send this one again in an hour."), 429)
    if refused.reason == "pending":
        return GuardError(_("Many uploads are under way right now. Nothing was stored: send your report again in "
                            "an hour, or without its largest files now."), 503)
    return daily_spent()


def daily_spent() -> GuardError:
    """The 503 of a spent daily byte budget."""
    return GuardError(_("The service has taken all the data it can store today. Nothing was stored: send your "
                        "report again tomorrow, or without files now."), 503)


def no_space() -> GuardError:
    """The 503 of a disk near its free-space floor."""
    return GuardError(_("The server is short of disk space. Nothing was stored: send your report without large "
                        "files, or again later."), 503)


def thread_full() -> GuardError:
    """A follow-up to a thread that holds as many messages or bytes as one case keeps (storage/threads.py)."""
    return GuardError(_("This conversation is full: it keeps at most %(n)s messages and %(mib)s MiB. Nothing was "
                        "stored. To tell the reviewers more, send a new report and say in it that it follows an "
                        "earlier one.", n=MAX_MESSAGES, mib=MAX_THREAD_BYTES >> 20), 413)


def someone_elses() -> GuardError:
    """The 409 of a follow-up to a case whose report another kit sealed under this codename's lookup (a carrier's
    report, docs/web.md "What a carrier can do"): it takes no follow-up from this codename (format.md §12.4)."""
    return GuardError(_("The report under this codename was sent by someone else who had a copy of your sealed "
                        "file, so it cannot take your messages. Nothing was stored. Keep your codename secret. To "
                        "reach the reviewers, send a new report and say in it what happened."), 409)


def nojs_busy() -> GuardError:
    """The 429 of a spent no-JS budget."""
    return GuardError(_("The service is receiving many reports without JavaScript right now. Nothing was "
                        "stored: wait a minute and send yours again, or turn JavaScript on."), 429)


def check_server_post(declared: int) -> None:
    """Refuse a post the server would seal when its declared size would pass the free-disk floor or what is left
    of today's bytes: a check that spends nothing, as the bytes are counted when they are stored."""
    intake = state()
    if below_floor(intake.disk, declared, intake.settings.free_floor):
        raise no_space()
    with intake.engine.connect() as conn:
        if declared > left_today(conn, "server", intake.settings.daily_bytes):
            raise daily_spent()


def length_required() -> GuardError:
    """The 411 of a write whose body is chunked: every size check and budget starts from the declared length."""
    return GuardError(_("This service takes a form or an upload only with its length given in advance. Nothing was "
                        "stored: send it again from the site's own page."), 411)


def check_write() -> None:
    """Refuse a chunked write, an API post declaring more than JSON_LIMIT (before a byte of it is read), a write
    from another origin, and an API write without the form token in its header."""
    if request.method not in WRITES:
        return
    if "Transfer-Encoding" in request.headers:
        raise length_required()
    if request.method == "POST" and request.path.startswith("/api/") and (request.content_length or 0) > JSON_LIMIT:
        abort(413, _("the sealed header and body must fit in %(n)s bytes (docs/format.md §5)", n=JSON_LIMIT))
    if cross_origin(request):
        abort(403, _("A page of another website tried to send this. Nothing was stored: open this site's own "
                     "page and send your report from there."))
    if request.path.startswith("/api/") and not state().tokens.valid(request.headers.get("X-CSRFToken")):
        raise form_expired()  # the page's words: the API's clients are the pages (docs/openapi.yaml names the header)


def init_app(app: Flask) -> None:
    """Run the checks before every request."""
    app.before_request(check_write)
