"""The reporting web app: the form, the sealed-report API and the keyring, behind strict headers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel, get_locale

from intake.settings import Settings
from intake.web.language import select_locale
from intake.web.sealing import SealingRequest

PACKAGE = Path(__file__).resolve().parents[1]
_IN_WHEEL = PACKAGE / "templates"
TEMPLATES = _IN_WHEEL if _IN_WHEEL.is_dir() else PACKAGE.parent / "templates"  # a checkout keeps them at the top
babel = Babel()


class IntakeFlask(Flask):
    """Flask with requests that seal uploads as they are parsed, and error logs without request data."""

    request_class = SealingRequest

    def log_exception(self, exc_info) -> None:  # type: ignore[no-untyped-def]
        """Log the error's type and stack only."""
        from intake.web.errors import log_exception

        log_exception(exc_info)


def create_app(settings: Settings | None = None, test_config: dict | None = None) -> Flask:
    """Make the app: settings from the environment unless given, then blueprints by feature."""
    settings = settings or Settings.from_env()
    app = IntakeFlask(__name__, template_folder=str(TEMPLATES), static_folder=str(PACKAGE / "static"))
    from intake.web import (
        api,
        errors,
        guards,
        keyring_json,
        kit,
        language,
        receipt,
        report,
        sealed,
        security,
        state,
        static,
        thread,
        thread_api,
    )

    # No SECRET_KEY: Flask's session stays a NullSession that sets no cookie and refuses writes. The
    # form token (web/tokens.py) replaces Flask-WTF's session-bound CSRF token.
    app.config.update(MAX_CONTENT_LENGTH=settings.max_report_bytes, MAX_FORM_MEMORY_SIZE=200_000,
                      WTF_CSRF_ENABLED=False, BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE / "translations"))
    app.config.update(test_config or {})
    app.jinja_env.globals.pop("config", None)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals.update(max_bytes=settings.max_report_bytes, max_mib=settings.max_report_bytes >> 20)
    state.init_app(app, settings)
    security.init_app(app)
    static.init_app(app)
    errors.init_app(app)
    guards.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    language.init_app(app)
    for module in (report, api, keyring_json, receipt, thread, thread_api, sealed, kit):
        app.register_blueprint(module.bp)
    return app
