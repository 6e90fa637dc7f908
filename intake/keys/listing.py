"""`intake keys list`: every key of the signed keyring, and how many stored cases each still opens."""

from __future__ import annotations

from intake.keys.admin import current
from intake.settings import Settings
from intake.storage.cases import count_by_key
from intake.storage.instance import database


def listing(settings: Settings) -> dict[str, object]:
    """The keyring's keys, recovery recipient and fingerprint, with case counts from case_keys."""
    keyring = current(settings)
    with database(settings) as engine:
        counts = count_by_key(engine)
    rows = [{**k.as_json(), "cases": counts.pop(k.key_id, 0)} for k in keyring.keys]
    if keyring.recovery:
        rows.append({"name": "(recovery)", "key_id": keyring.recovery.key_id, "recipient": str(keyring.recovery),
                     "status": "recovery", "created": keyring.extra.get("recovery_created", ""), "retired": None,
                     "cases": counts.pop(keyring.recovery.key_id, 0)})
    rows += [{"name": "(not in keyring)", "key_id": kid, "recipient": None, "status": "unknown", "created": "",
              "retired": None, "cases": n} for kid, n in sorted(counts.items())]
    return {"fingerprint": keyring.fingerprint, "serial": keyring.serial, "date": keyring.date, "keys": rows}
