"""Sizes that are declared but never arrive (issue 19, findings 1, 4 and 12): a chunked write is refused before
it costs anything, and the no-JS daily budget counts only the sealed bytes actually stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.storage.schema import stored_bytes
from tests.support.web import csrf_token, rows


def charged(engine) -> int:  # noqa: ANN001
    """The bytes counted today on every path."""
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(stored_bytes.c.bytes), 0))).scalar_one()


@pytest.mark.parametrize("path", ["/report", "/check", "/api/v1/reports", "/api/v1/uploads/aa/0/0"])
def test_a_chunked_write_is_refused_before_anything(client, site, path: str) -> None:
    """A write without a declared length (Transfer-Encoding): a 411 that says what to do; nothing stored or
    charged (under `intake serve` the worker's main loop refuses it first: tests/proof/test_proof_hostile_heads.py)."""
    token = csrf_token(client)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() +
            b"\r\n--b--\r\n")
    before = rows(site.engine)
    method = client.put if path.startswith("/api/v1/uploads") else client.post
    r = method(path, data=body, headers={"Transfer-Encoding": "chunked", "X-CSRFToken": token,
                                         "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 411
    assert "length given in advance" in r.get_data(as_text=True)
    assert rows(site.engine) == before
    assert charged(site.engine) == 0
