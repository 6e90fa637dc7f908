"""`intake purge`: delete old cases for good, audit-logged (docs/keys.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from intake.settings import Settings
from intake.storage.instance import database
from intake.storage.retention import delete_cases, old_cases, vacuum

Old = tuple[int, str, dt.date, str]  # case id, reference, day received, status


def find_old(settings: Settings, older_than: int, status: str | None) -> list[Old]:
    """The complete cases received more than `older_than` days ago (with this status, if given)."""
    with database(settings) as engine:
        return list(old_cases(engine, older_than, status))


def purge(settings: Settings, found: list[Old], older_than: int, status: str | None,
          passphrase: Callable[[], bytes]) -> None:
    """Delete the cases found, reclaim the space, and record it in the audit log signed with the admin key."""
    from intake.keys.admin import commit, current
    from intake.keys.trust import admin_signing_key

    keyring = current(settings)
    key = admin_signing_key(settings, passphrase())
    with database(settings) as engine:
        delete_cases(engine, [case_id for case_id, *_ in found])
        vacuum(engine)
        commit(settings, engine, keyring, key, "purge", {"older_than_days": older_than, "status": status,
                                                         "cases": len(found)})
