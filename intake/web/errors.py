"""Errors as a person or a client can read them: HTML pages for the form, JSON for the API; logs without bodies."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import ClientDisconnected, HTTPException, MethodNotAllowed, RequestEntityTooLarge

from intake.storage.budgets import DaySpent
from intake.web.checks import ReportRefused
from intake.web.guards import GuardError, daily_spent
from intake.web.keyring_watch import KeyringUnavailable
from intake.web.sealing import UploadRefused
from intake.web.slow import SlowClient
from intake.web.state import state
from intake.web.work import WorkRefused

log = logging.getLogger("intake.web")


def titles() -> dict[int, str]:
    """What each status means for the reporter."""
    return {400: _("The report was not accepted"), 403: _("Not allowed"), 404: _("Nothing here"),
            405: _("Not allowed"),
            408: _("The report arrived too slowly"), 411: _("The report was not accepted"),
            409: _("Please try again"), 413: _("The report is too large"), 429: _("Too many reports right now"),
            503: _("The service cannot take reports right now")}


def explanations() -> dict[int, str]:
    """What to do after an error that came without a message of ours (Werkzeug's English descriptions)."""
    return {400: _("The request was not understood. Nothing was stored: go back to the form and send it again."),
            404: _("This address does not exist here. Go back to the report form."),
            409: _("Please send the report again.")}


def respond(status: int, message: str) -> tuple[Response | str, int]:
    """A JSON error for the API, an HTML page for people."""
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    title = titles().get(status, _("Something went wrong"))
    checking = request.path.startswith(("/check", "/receipt"))
    if checking and status in (400, 404):
        title = _("Your codename could not be checked")
    return render_template("error.html", title=title, message=message, status=status, checking=checking), status


def http_error(exc: HTTPException) -> tuple[Response | str, int] | tuple[Response | str, int, dict[str, str]]:
    """Werkzeug's errors, with our messages (and the Allow header a 405 must carry)."""
    status = exc.code or 500
    if isinstance(exc, ClientDisconnected) and isinstance(exc.__context__, SlowClient):
        return too_slow(exc.__context__)
    if isinstance(exc, RequestEntityTooLarge) and exc.description == RequestEntityTooLarge.description:
        limit = state().settings.max_report_bytes // (1 << 20)
        if (request.content_length or 0) <= state().settings.max_report_bytes:
            return respond(413, _("The form arrived with too many parts, or with a field too long for it. Nothing "
                                  "was stored. Send the form as the page shows it."))
        return respond(413, _("The report and its files are larger than %(limit)s MiB, the most this service "
                              "takes. Nothing was stored. Send fewer or smaller files, or send them in a second "
                              "report.", limit=limit))
    ours = exc.description and exc.description != type(exc).description
    message = exc.description if status in (400, 403, 404, 409, 413, 429) and ours else explanations().get(
        status, titles().get(status, _("Something went wrong")))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        return *respond(status, message), {"Allow": ", ".join(exc.valid_methods)}
    return respond(status, message)


def too_slow(_exc: SlowClient) -> tuple[Response | str, int]:
    """A body that stopped arriving (intake/web/slow.py): the connection closes after this answer."""
    return respond(408, _("The report arrived too slowly and the connection was closed. Nothing was stored. "
                          "Send it again, if you can over a better connection."))


def database_busy(exc: OperationalError) -> tuple[Response | str, int]:
    """A database still locked after its timeout (SQLite) or out of reach: a 503; nothing of the request was kept."""
    log.warning("database unavailable: %s", type(exc.orig).__name__)  # never its message: it may quote the SQL
    return respond(503, _("The service is busy. Nothing was stored: try again in a minute."))


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(GuardError, lambda exc: respond(exc.status, str(exc)))
    app.register_error_handler(DaySpent, lambda _exc: respond(503, str(daily_spent())))
    app.register_error_handler(WorkRefused, lambda exc: respond(exc.status, _(str(exc))))
    app.register_error_handler(ReportRefused, lambda exc: respond(exc.status, str(exc)))
    app.register_error_handler(UploadRefused, lambda exc: respond(400, str(exc)))
    app.register_error_handler(SlowClient, too_slow)
    app.register_error_handler(OperationalError, database_busy)
    app.register_error_handler(KeyringUnavailable, lambda exc: respond(503, _(
        "The reviewers' keys cannot be verified right now, so no report can be sealed. Nothing was stored. "
        "Try again later.")))


def log_exception(exc_info: tuple) -> None:
    """Log an unexpected error's type and stack, never its message (which may quote data) nor the request."""
    kind, _value, tb = exc_info
    log.error("unexpected %s in %s:\n%s", kind.__name__ if kind else "error", request.endpoint,
              "".join(traceback.format_tb(tb)))
