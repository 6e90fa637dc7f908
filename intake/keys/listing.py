"""`intake keys list`: every key of the signed keyring, and how many stored cases each still opens."""

from __future__ import annotations

import json

import click

from intake.settings import Settings
from intake.storage.instance import database
from intake.keys.admin import current
from intake.storage.cases import count_by_key


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
    return {"fingerprint": keyring.fingerprint, "serial": keyring.serial, "keys": rows}


def print_listing(settings: Settings, as_json: bool) -> None:
    """Print the listing as JSON, or as a table with the fingerprint and a hint where a rewrap is due."""
    data = listing(settings)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{'name':<16} {'status':<8} {'created':<10} {'retired':<10} {'cases':>6}  key id")
    for row in data["keys"]:
        click.echo(f"{row['name']:<16} {row['status']:<8} {row['created']:<10} {row['retired'] or '-':<10} "
                   f"{row['cases']:>6}  {row['key_id']}")
    click.echo(f"keyring fingerprint: {data['fingerprint']}")
    stale = [r["name"] for r in data["keys"] if r["status"] in ("retired", "unknown") and r["cases"]]
    if stale:
        click.echo(f"keys no longer current still open stored cases ({', '.join(stale)}): run `intake keys rewrap`",
                   err=True)
