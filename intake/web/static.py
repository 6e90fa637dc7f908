"""Static files: served by WhiteNoise, in the brotli or gzip copy the browser accepts, with every page's headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask
from whitenoise import WhiteNoise

from intake.web.security import HEADERS

# The form's JavaScript modules, fetched in parallel as soon as the page arrives (docs/web.md, "Page weight"):
# libsodium.js first (the largest), then what js/page.js imports; tests/test_web_weight.py checks the list.
PRELOAD = ("vendor/libsodium-sumo-0.8.4.mjs", "vendor/libsodium-wrappers-sumo-0.8.4.mjs", "js/seal.js", "js/upload.js",
           "js/parts.js", "js/bodyjson.js", "js/files.js", "js/metadata.js", "js/post.js", "js/work.js",
           "js/zawgyi.js", "js/codename.js", "js/derive.js", "js/provenance.js")
DROPPED = {"cache-control", "last-modified", "etag"}


class StaticFiles(WhiteNoise):
    """WhiteNoise whose every answer (file, 304, 405, 416) carries the security headers and `no-store`."""

    def serve(self, static_file: object, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Serve as WhiteNoise does, with its caching headers replaced by ours."""

        def start(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:
            kept = [(k, v) for k, v in headers if k.lower() not in DROPPED]
            return start_response(status, [*kept, *HEADERS.items(), ("Cache-Control", "no-store")], exc_info)

        return WhiteNoise.serve(static_file, environ, start)


def init_app(app: Flask) -> None:
    """Serve `intake/static` (and its precompressed `.br` and `.gz` copies) ahead of the app."""
    app.wsgi_app = StaticFiles(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path, max_age=None,
                               allow_all_origins=False)
    app.jinja_env.globals["preload_modules"] = PRELOAD
