"""The bare endpoints: a tiny Flask app on intake's gunicorn configuration that only stores the bytes it gets.

Run by the bench as `python -m bench.bare PORT DATABASE_URL WORKERS`. It opens the database with
intake's own settings (intake.storage.db.connect: WAL, synchronous=FULL on SQLite) and writes one
row per request, in one transaction, as intake does for a small report or a 1 MiB part.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

from flask import Flask, Response, request
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert

from intake.storage.db import connect
from intake.web.serve import Server

metadata = MetaData()
rows = Table("bare", metadata, Column("id", Integer, primary_key=True), Column("data", LargeBinary, nullable=False))


def create_app(url: str) -> Flask:
    """The app: POST /row and PUT /part/N store the body as one row; GET /ping answers."""
    engine = connect(url)
    metadata.create_all(engine)
    app = Flask(__name__)
    app.extensions["intake"] = SimpleNamespace(engine=engine, start_sweeper=lambda: None)  # no uploads to sweep

    def store(data: bytes) -> None:
        with engine.begin() as conn:
            conn.execute(insert(rows).values(data=data))

    @app.post("/row")
    def row() -> tuple[str, int]:
        """Store a small report's bytes."""
        store(request.get_data())
        return "", 201

    @app.put("/part/<int:number>")
    def part(number: int) -> tuple[str, int]:
        """Store one part of an upload."""
        store(request.stream.read())
        return "", 204

    @app.get("/ping")
    def ping() -> Response:
        """Up."""
        return Response("ok")

    return app


if __name__ == "__main__":
    port, url, workers = sys.argv[1:4]
    Server(create_app(url), "127.0.0.1", int(port), int(workers)).run()
