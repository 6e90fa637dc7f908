"""`intake-review evidence` and `intake-review verify`: signed evidence packages (docs/review.md "Evidence")."""

from __future__ import annotations

from pathlib import Path

import click

from intake.cli.review import custody, session_command
from intake.review.session import Session


@click.command()
@click.argument("case")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new folder for the package (evidence/, working-copies/, manifest.json and its signature).")
@click.option("--sign-with", "key", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The organisation's ed25519 OpenSSH private key (KEY.pub beside it, or ssh-keygen derives it).")
@session_command
def evidence(session: Session, case: str, out_dir: Path, key: Path) -> None:
    """Write a signed evidence package of CASE: the files as sealed, cleaned working copies, the custody record."""
    from intake.evidence.package import write_package

    write_package(session, case, out_dir, key, custody(required=True))


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--key", "key_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The organisation's public key (KEY.pub) to check the signature with, instead of the package's "
                   "own signer.pub.")
@click.option("--tsa-ca", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The CA certificate (PEM) of the timestamping authority that stamped the anchor, got from the "
                   "TSA itself: without it the timestamp's signature is not checked (and verify says so).")
def verify(folder: Path, key_file: Path | None, tsa_ca: Path | None) -> None:
    """Check an evidence package offline: its signature, every file's SHA-256, its custody chain and its anchor."""
    from intake.evidence.verify import verify_package
    from intake.review.names import terminal_text
    from intake.review.terminal import echo

    key = " ".join(key_file.read_text(encoding="ascii", errors="replace").split()[:2]) if key_file else None
    signer, said = verify_package(folder, key, tsa_ca.read_bytes()[:1 << 20] if tsa_ca else None)
    for line in said:
        echo(terminal_text(line), err=True)
    echo(terminal_text(f"package {folder} verified: signed by {signer}"
                       + ("" if key else " (the key in its signer.pub: compare this fingerprint with the one the "
                          "organisation publishes, or give --key)")), err=True)
