"""`intake keys list`: every key of the signed keyring, and how many stored cases and thread messages each still
opens."""

from __future__ import annotations

from intake.keys.admin import current
from intake.settings import Settings
from intake.storage.cases import count_by_key
from intake.storage.instance import database
from intake.storage.threads import messages_by_key


def listing(settings: Settings) -> dict[str, object]:
    """The keyring's keys, recovery recipient and fingerprint, with case counts from case_keys and message counts
    from the messages' headers."""
    keyring = current(settings)
    with database(settings) as engine:
        counts, messages = count_by_key(engine), messages_by_key(engine)

    def opens(key_id: str) -> dict[str, int]:
        return {"cases": counts.pop(key_id, 0), "messages": messages.pop(key_id, 0)}

    rows = [{**k.as_json(), **opens(k.key_id)} for k in keyring.keys]
    if keyring.recovery:
        rows.append({"name": "(recovery)", "key_id": keyring.recovery.key_id, "recipient": str(keyring.recovery),
                     "status": "recovery", "created": keyring.extra.get("recovery_created", ""), "retired": None,
                     **opens(keyring.recovery.key_id)})
    rows += [{"name": "(not in keyring)", "key_id": kid, "recipient": None, "status": "unknown", "created": "",
              "retired": None, **opens(kid)} for kid in sorted(set(counts) | set(messages))]
    return {"fingerprint": keyring.fingerprint, "serial": keyring.serial, "date": keyring.date, "keys": rows}
