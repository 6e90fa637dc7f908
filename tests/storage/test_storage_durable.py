"""One durable point per report (docs/web.md, "One durable point"): parts commit without waiting for the disk,
the completing commit waits, and no connection is left lazy for the next transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from intake.storage.db import writing


def _level(conn) -> str:
    if conn.dialect.name == "sqlite":
        return {0: "off", 1: "normal", 2: "full", 3: "extra"}[conn.execute(text("PRAGMA synchronous")).scalar()]
    return conn.execute(text("SHOW synchronous_commit")).scalar()


@pytest.mark.parametrize("durable", [True, False])
def test_lazy_only_inside_its_transaction(engine, durable):
    """A part's transaction commits lazily; every other transaction, and the next one on the same connection,
    waits for the disk."""
    lazy = "normal" if engine.dialect.name == "sqlite" else "off"
    full = "full" if engine.dialect.name == "sqlite" else "on"
    with writing(engine, durable=durable) as conn:
        assert _level(conn) == (full if durable else lazy)
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == (1000 if durable else 0)
    for _ in range(3):  # the pool hands the same connection back
        with writing(engine) as conn:
            assert _level(conn) == full
        with engine.connect() as conn:
            assert _level(conn) == full


def test_lazy_transaction_that_fails_leaves_the_connection_durable(engine):
    """A part refused half-way (an exception in its transaction) does not leave its connection lazy."""
    with pytest.raises(RuntimeError), writing(engine, durable=False):
        raise RuntimeError("refused")
    with writing(engine) as conn:
        assert _level(conn) in ("full", "on")
