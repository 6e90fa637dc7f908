"""The highest keyring serial (and its hash) the instance has used, per signer: a keyring only moves forward.
Every keyring put in use is also kept in its history (key ids, the day it was replaced) for the offline kit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from intake.clock import today
from intake.errors import IntakeError
from intake.storage.db import writing
from intake.storage.schema import keyring_history, keyring_state


class KeyringRollback(IntakeError, ValueError):
    """The keyring is older than one already in use, or a different keyring with the same serial."""


def highest(engine: Engine, signer: str) -> tuple[int, str] | None:
    """The (serial, hash) of the newest keyring this signer has put in use, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(keyring_state.c.serial, keyring_state.c.hash)
                           .where(keyring_state.c.signer == signer)).first()
    return (row.serial, row.hash) if row else None


def in_use(engine: Engine) -> list[dict[str, object]]:
    """Every signer's newest keyring in use, as a bundle carries them (docs/bundle.md §3 `keyrings`)."""
    with engine.connect() as conn:
        rows = conn.execute(select(keyring_state.c.signer, keyring_state.c.serial, keyring_state.c.hash)
                            .order_by(keyring_state.c.signer)).all()
    return [{"signer": r.signer, "serial": r.serial, "hash": r.hash} for r in rows]


def advance(engine: Engine, signer: str, serial: int, digest: str, where: str,
            key_ids: Sequence[str] | None = None) -> None:
    """Record (serial, digest) as the newest keyring, or raise KeyringRollback if it is older or differs; with
    `key_ids` (its recipients'), keep it in the history too, and date the replacement of older ones."""
    for _ in range(3):
        try:
            with writing(engine) as conn:
                row = conn.execute(select(keyring_state.c.serial, keyring_state.c.hash)
                                   .where(keyring_state.c.signer == signer).with_for_update()).first()
                if row is None:
                    conn.execute(insert(keyring_state).values(signer=signer, serial=serial, hash=digest))
                else:
                    refuse_older(row.serial, row.hash, serial, digest, where)
                    if serial > row.serial:
                        conn.execute(update(keyring_state).where(keyring_state.c.signer == signer)
                                     .values(serial=serial, hash=digest))
                if key_ids is not None:
                    _keep(conn, signer, serial, key_ids)
                return
        except IntegrityError:
            continue  # another process inserted the first row meanwhile: read it again
    raise IntakeError("the keyring state kept changing under this process: run the command again")


def refuse_older(known: int, known_hash: str, serial: int, digest: str, where: str) -> None:
    """Raise KeyringRollback if (serial, digest) is older than (known, known_hash), or differs at the same serial."""
    if serial < known:
        raise KeyringRollback(f"the keyring {where} has serial {serial}, older than serial {known} already in use: "
                              "someone put an old copy back; restore the newest keyring.json from a backup "
                              "(or re-sign it with `intake keys` commands) and find out who replaced it")
    if serial == known and digest != known_hash:
        raise KeyringRollback(f"the keyring {where} has serial {serial} but differs from the serial {known} "
                              "keyring already in use: restore the keyring in use from a backup")


def _keep(conn: Connection, signer: str, serial: int, key_ids: Sequence[str]) -> None:
    """Keep the keyring in use in the history, and date today the replacement of every older one still undated."""
    known = conn.execute(select(keyring_history.c.serial).where(keyring_history.c.signer == signer,
                                                                 keyring_history.c.serial == serial)).first()
    if known is None:
        conn.execute(insert(keyring_history).values(signer=signer, serial=serial, key_ids=" ".join(key_ids)))
    conn.execute(update(keyring_history).where(keyring_history.c.signer == signer, keyring_history.c.serial < serial,
                                               keyring_history.c.replaced.is_(None)).values(replaced=today()))


def kept(engine: Engine, signer: str, serial: int) -> tuple[list[str], dt.date | None] | None:
    """The key ids of the keyring of that serial and the day a newer one replaced it (None: still in use), or None
    when it was never put in use here."""
    with engine.connect() as conn:
        row = conn.execute(select(keyring_history.c.key_ids, keyring_history.c.replaced).where(
            keyring_history.c.signer == signer, keyring_history.c.serial == serial)).first()
    return (row.key_ids.split(), row.replaced) if row else None
