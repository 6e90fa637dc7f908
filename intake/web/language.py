"""The page's language without cookies: `?lang=` on the URL first, then Accept-Language; links keep `?lang=`."""

from __future__ import annotations

from flask import Flask, has_request_context, request, url_for
from flask_babel import force_locale, get_locale, gettext

LOCALES = ("en", "km", "my")
NAMES = {"en": "English", "km": "ខ្មែរ", "my": "မြန်မာ"}


def chosen() -> str | None:
    """The language asked for with `?lang=` on this request, if it is one we have."""
    lang = request.args.get("lang")
    return lang if lang in LOCALES else None


def select_locale() -> str:
    """`?lang=` if given, else the reporter's most preferred of our languages, else English.

    By primary subtag in order of preference: a phone sending `my-MM,en;q=0.5` gets Burmese (Werkzeug's
    best_match would pick the exact `en` first).
    """
    asked = chosen()
    if asked:
        return asked
    for tag, quality in request.accept_languages:
        primary = tag.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in LOCALES:
            return primary
    return "en"


def keep_lang(endpoint: str, values: dict[str, object]) -> None:
    """Add the page's `?lang=` to every URL built for it (links, form actions), except static files."""
    if endpoint != "static" and "lang" not in values and has_request_context() and chosen():
        values["lang"] = chosen()


def switch_url(lang: str) -> str:
    """This page in another language: the same GET address with `?lang=`, or the form for anything else."""
    if request.method == "GET" and request.endpoint and request.endpoint != "static":
        return url_for(request.endpoint, **(request.view_args or {}), lang=lang)
    return url_for("report.index", lang=lang)


def languages() -> list[dict[str, str | bool]]:
    """The language links every page shows, each language named in its own script."""
    current = str(get_locale())
    return [{"code": code, "name": NAMES[code], "url": switch_url(code), "current": code == current}
            for code in LOCALES]


def zawgyi_texts() -> dict[str, str]:
    """The offer shown when Burmese is typed in Zawgyi: always in Burmese, whatever the page's language."""
    with force_locale("my"):
        return {"notice": gettext("This looks like Burmese typed with a Zawgyi keyboard. The reviewers may not be "
                                  "able to read it. Change it to Unicode?"),
                "convert": gettext("Change it to Unicode"), "keep": gettext("Send it as it is")}


def init_app(app: Flask) -> None:
    """Keep `?lang=` in built URLs and give templates the language links."""
    app.url_defaults(keep_lang)
    app.jinja_env.globals.update(languages=languages, zawgyi_texts=zawgyi_texts)
