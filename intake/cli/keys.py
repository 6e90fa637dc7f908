"""`intake keys`: make reviewer keys, and manage the signed keyring, rewrap and recovery (docs/keys.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from intake.cli.passphrase import PASSPHRASE_FILE, read_passphrase
from intake.keys.keyring import grouped
from intake.settings import Settings
from intake.text.counts import count

OUT_DIR = click.Path(file_okay=False, path_type=Path)


@click.group()
def keys() -> None:
    """Make and manage reviewer keys."""


@keys.command("new")
@click.argument("name")
@click.option("--out", "out_dir", type=OUT_DIR, default=Path("."), show_default=True,
              help="Folder to write NAME.pub and NAME.key into.")
@PASSPHRASE_FILE
def keys_new(name: str, out_dir: Path, passphrase_file: Path | None) -> None:
    """Make a reviewer key pair: NAME.pub to share, NAME.key (passphrase-protected) to keep."""
    from intake.keys.pair import new_key_pair

    passphrase = read_passphrase(passphrase_file, confirm=True, prompt="passphrase for the new key")
    pub, key, key_id = new_key_pair(name, out_dir, passphrase, Settings.from_env().kdf_profile)
    click.echo(grouped(key_id))
    click.echo(f"wrote {pub} (share it with the admin) and {key} (keep it private, never commit it)", err=True)


@keys.command("init")
@PASSPHRASE_FILE
def keys_init(passphrase_file: Path | None) -> None:
    """Create the admin signing key (passphrase-protected) and an empty signed keyring."""
    from intake.keys.admin import init_keyring

    signer = init_keyring(Settings.from_env(), read_passphrase(passphrase_file, confirm=True,
                                                               prompt="passphrase for the admin signing key"))
    click.echo(signer)
    click.echo(f"keyring created. Now set INTAKE_KEYRING_SIGNER={signer} for the server and every `intake` "
               "command (or put that line in a file the server cannot write and set INTAKE_KEYRING_SIGNER to its "
               "path); then add reviewer keys with `intake keys add NAME.pub`", err=True)


@keys.command("add")
@click.argument("pubfile", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--name", help="Reviewer name (default: the file name without .pub).")
@PASSPHRASE_FILE
def keys_add(pubfile: Path, name: str | None, passphrase_file: Path | None) -> None:
    """Add a reviewer's public key (NAME.pub) to the active keyring."""
    from intake.keys.admin import add_key

    entry = add_key(Settings.from_env(), pubfile, name, read_passphrase(passphrase_file, prompt="admin passphrase"))
    click.echo(grouped(entry.key_id))
    click.echo(f"added {entry.name}: new reports are sealed to this key from now on", err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def keys_list(as_json: bool) -> None:
    """List every key, its status and how many stored cases and messages it opens, and the keyring fingerprint."""
    from intake.keys.listing import listing

    data = listing(Settings.from_env())
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{'name':<16} {'status':<8} {'created':<10} {'retired':<10} {'cases':>6} {'messages':>8}  key id")
    for row in data["keys"]:
        click.echo(f"{row['name']:<16} {row['status']:<8} {row['created']:<10} {row['retired'] or '-':<10} "
                   f"{row['cases']:>6} {row['messages']:>8}  {grouped(row['key_id'])}")
    click.echo(f"keyring fingerprint: {data['fingerprint']} (serial {data['serial']}, signed {data['date'] or '?'})")
    stale = [r["name"] for r in data["keys"] if r["status"] in ("retired", "unknown") and (r["cases"] or r["messages"])]
    if stale:
        click.echo(f"keys no longer current still open stored cases or messages ({', '.join(stale)}): run "
                   "`intake keys rewrap`", err=True)


@keys.command("retire")
@click.argument("name")
@PASSPHRASE_FILE
def keys_retire(name: str, passphrase_file: Path | None) -> None:
    """Stop sealing new reports to NAME's active key (run `keys rewrap` to re-seal stored ones)."""
    from intake.keys.admin import retire_key

    entry, stored, messages = retire_key(Settings.from_env(), name,
                                         read_passphrase(passphrase_file, prompt="admin passphrase"))
    click.echo(grouped(entry.key_id))
    hint = (f"{count(stored, 'stored case')} and {count(messages, 'message')} still open with it: run "
            "`intake keys rewrap`" if stored or messages else "it opens no case and no message")
    click.echo(f"retired {name}'s key: new reports are no longer sealed to it; {hint}", err=True)


@keys.command("rotate")
@click.argument("name")
@click.option("--out", "out_dir", type=OUT_DIR, default=Path("."), show_default=True,
              help="Folder to write the new NAME.pub and NAME.key into.")
@click.option("--pub", "pubfile", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Use the NAME.pub the reviewer made with `intake keys new` instead of making a key here.")
@click.option("--key-passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the new key's passphrase from the first line of FILE instead of asking.")
@PASSPHRASE_FILE
def keys_rotate(name: str, out_dir: Path, pubfile: Path | None, key_passphrase_file: Path | None,
                passphrase_file: Path | None) -> None:
    """Give NAME a new active key and retire the old one (then run `keys rewrap`)."""
    from intake.keys.admin import rotate_key

    admin = read_passphrase(passphrase_file, prompt="admin passphrase")
    secret = None if pubfile else read_passphrase(key_passphrase_file, confirm=True, option="--key-passphrase-file",
                                                  prompt=f"passphrase for {name}'s new key")
    old, new, written = rotate_key(Settings.from_env(), name, admin, out_dir, secret, pubfile)
    click.echo(grouped(new.key_id))
    if written:
        click.echo(f"wrote {written[0]} and {written[1]} (give the key file to {name}, never commit it)", err=True)
    click.echo(f"{name}: key {grouped(new.key_id)} active, {grouped(old.key_id)} retired; now run "
               "`intake keys rewrap` so the old key opens nothing stored", err=True)


@keys.command("rewrap")
@click.option("--identity", "identity_files", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="An identity file (or recovery sheet) that opens the stored cases; repeat as needed.")
@PASSPHRASE_FILE
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes for the key work (default: one per CPU).")
def keys_rewrap(identity_files: tuple[Path, ...], passphrase_file: Path | None, jobs: int | None) -> None:
    """Re-seal every stored case to exactly the current keyring; safe to stop and run again."""
    from intake.cli.progress import rewrap_with_progress

    rewrap_with_progress(Settings.from_env(), identity_files, lambda: read_passphrase(passphrase_file), jobs)


@keys.command("recovery")
@click.option("--out", "out_dir", type=OUT_DIR, default=Path("."), show_default=True,
              help="Folder for the recovery sheet (text and QR code): removable media.")
@click.option("--replace", "replace_old", is_flag=True, help="Replace the recovery key already set.")
@PASSPHRASE_FILE
def keys_recovery(out_dir: Path, replace_old: bool, passphrase_file: Path | None) -> None:
    """Make an offline recovery key that every new case (and every rewrap) is sealed to."""
    from intake.keys.recovery import make_recovery

    passphrase = read_passphrase(passphrase_file, prompt="admin passphrase")
    key_id, written = make_recovery(Settings.from_env(), out_dir, passphrase, replace_old)
    click.echo(grouped(key_id))
    click.echo(f"wrote {written[0]} and {written[1]}: print them, lock the paper away, then delete both files; "
               "run `intake keys rewrap` to add the recovery key to stored cases", err=True)

