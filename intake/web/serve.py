"""`intake serve`: the app under gunicorn, with no access log and an error log that names no request."""

from __future__ import annotations

import errno
import socket
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.http import wsgi

from intake.settings import Settings
from intake.web.slow import Limits
from intake.web.worker import worker_for

WITHHELD = "(request details withheld)"


class QuietLogger(Logger):
    """Gunicorn's logger without the access log, and without addresses or URLs in warnings and errors."""

    def access(self, *args: Any, **kwargs: Any) -> None:
        """Never log requests."""

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log the first words of a warning only (gunicorn puts the client's address after them)."""
        self.error_log.warning("%s %s", str(msg).split(" from ", 1)[0].split("{", 1)[0].strip(), WITHHELD)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log that an error happened, without the URL gunicorn passes as an argument."""
        self.error_log.error("%s %s", str(msg).split("%", 1)[0].strip(), WITHHELD)


class BannerlessResponse(wsgi.Response):
    """Gunicorn's response without the `Server: gunicorn` header: nothing names the software behind the site."""

    def default_headers(self) -> list[str]:
        """The status line, Date and Connection (and Transfer-Encoding), without Server."""
        return [line for line in super().default_headers() if not line.lower().startswith("server:")]


class Server(BaseApplication):
    """`workers` gunicorn processes with 8 threads each; the flood guards they share are in the database.

    The worker (intake/web/worker.py) is gthread's, except that no thread waits for a slow client:
    a request's headers and first body bytes are read in the main loop, and every read has a deadline.
    """

    def __init__(self, app: Flask, host: str, port: int, workers: int, limits: Limits | None = None) -> None:
        self.app = app
        self.options = {"bind": f"{host}:{port}", "workers": workers, "threads": 8,
                        "worker_class": worker_for(limits or Limits()),
                        "accesslog": None, "errorlog": "-", "loglevel": "info", "logger_class": QuietLogger,
                        "timeout": 120, "forwarded_allow_ips": "127.0.0.1", "proc_name": "intake",
                        "post_fork": self.post_fork, "control_socket_disable": True}
        super().__init__()

    def load_config(self) -> None:
        """Apply the options above, and send no Server header (gunicorn's create() builds wsgi.Response)."""
        wsgi.Response = BannerlessResponse
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def post_fork(self, _server: object, _worker: object) -> None:
        """Let the worker open its own database connections, never the master's; start its sweeper."""
        self.app.extensions["intake"].engine.dispose(close=False)
        self.app.extensions["intake"].start_sweeper()

    def load(self) -> Flask:
        """The WSGI app."""
        return self.app


def check_port(host: str, port: int) -> None:
    """Refuse at once, naming the port, when nothing can listen on host:port (gunicorn would retry, then fail)."""
    from intake.errors import IntakeError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no obstacle
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise IntakeError(f"port {port} is in use: try --port {port + 1 if port < 65535 else 8000}, "
                              "or stop what is listening there") from None
        raise IntakeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host and --port") from None


def serve(settings: Settings, host: str, port: int) -> None:
    """Build the app on these settings (refusing a bad keyring or a port in use) and serve it until stopped."""
    from intake.errors import IntakeError
    from intake.web import create_app

    try:
        app = create_app(settings)
    except ValueError as exc:
        raise IntakeError(f"not serving: {exc}") from None
    check_port(host, port)  # before gunicorn, which would log, retry five times, then give up
    Server(app, host, port, settings.workers, Limits.of(settings)).run()
