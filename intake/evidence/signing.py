"""Detached SSHSIG signatures of an evidence manifest, made and checked by the stock `ssh-keygen -Y` (OpenSSH).

Nothing of the format is ours: `ssh-keygen -Y sign` writes the signature, `ssh-keygen -Y verify` checks it, so that
anyone can check a package with the tool that ships with Linux, macOS and Windows (docs/review.md "Evidence").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from intake.errors import IntakeError

NAMESPACE = "intake-evidence"
PRINCIPAL = "intake-evidence"
KEY_TYPE = "ssh-ed25519"
TIMEOUT = 120


class SigningError(IntakeError):
    """The signature could not be made or does not verify: the message says which file and why."""


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningError("ssh-keygen is not installed", "install OpenSSH's client (Debian: apt install "
                           "openssh-client); it ships with macOS and Windows 10 and later")
    return found


def _run(args: list[str], data: bytes | None = None, interactive: bool = False) -> subprocess.CompletedProcess:
    """Run ssh-keygen with `args`; a passphrase prompt goes to the terminal when `interactive`."""
    try:
        return subprocess.run([_ssh_keygen(), *args], input=data, capture_output=not interactive,  # noqa: S603
                              stdout=subprocess.PIPE if interactive else None, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SigningError("ssh-keygen took too long", "if it asks for a passphrase, run the command on a "
                           "terminal, or load the key into ssh-agent") from None


def public_key(key: Path) -> str:
    """The OpenSSH public key line of the ed25519 signing key `key` (from KEY.pub, else derived from KEY)."""
    pub = key.with_name(key.name + ".pub")
    if not key.is_file():
        raise SigningError(f"no signing key at {key}", "give --sign-with the organisation's ed25519 OpenSSH key "
                           "(made with `ssh-keygen -t ed25519 -f FILE`)")
    if pub.is_file():
        line = pub.read_text(encoding="ascii", errors="replace").strip()
    else:
        done = _run(["-y", "-f", str(key)], interactive=True)
        line = done.stdout.decode("ascii", "replace").strip() if done.returncode == 0 else ""
    if not line.startswith(KEY_TYPE + " "):
        raise SigningError(f"{key} is not an ed25519 OpenSSH key", "make one with `ssh-keygen -t ed25519 -f FILE` "
                           "and publish its fingerprint")
    return " ".join(line.split()[:2])


def fingerprint(line: str) -> str:
    """The SHA256 fingerprint of a public key line, as `ssh-keygen -l` prints it."""
    with tempfile.TemporaryDirectory(prefix="intake-evidence-") as tmp:
        path = Path(tmp) / "key.pub"
        path.write_text(line + "\n", encoding="ascii")
        done = _run(["-l", "-f", str(path)])
    parts = done.stdout.decode("ascii", "replace").split()
    if done.returncode != 0 or len(parts) < 2:
        raise SigningError("that public key cannot be read", "give an ed25519 OpenSSH public key (ssh-ed25519 ...)")
    return parts[1]


def allowed_signers(line: str) -> str:
    """The allowed_signers line that lets `ssh-keygen -Y verify -I intake-evidence` accept this key only here."""
    return f'{PRINCIPAL} namespaces="{NAMESPACE}" {line}\n'


def sign(key: Path, data: bytes) -> bytes:
    """The armoured SSHSIG signature of `data` by `key` in the intake-evidence namespace."""
    done = _run(["-Y", "sign", "-f", str(key), "-n", NAMESPACE], data=data, interactive=os.isatty(0))
    if done.returncode != 0 or not done.stdout.startswith(b"-----BEGIN SSH SIGNATURE-----"):
        raise SigningError(f"ssh-keygen could not sign with {key}", "check the key and its passphrase (or load it "
                           "into ssh-agent)")
    return done.stdout


def verify(signers: str, data: bytes, signature: Path) -> None:
    """Check `signature` of `data` against the allowed_signers text; SigningError saying why not."""
    with tempfile.TemporaryDirectory(prefix="intake-evidence-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text(signers, encoding="ascii")
        done = _run(["-Y", "verify", "-f", str(allowed), "-I", PRINCIPAL, "-n", NAMESPACE, "-s", str(signature)],
                    data=data)
    if done.returncode != 0:
        said = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise SigningError(f"the signature does not verify ({said[-1] if said else 'ssh-keygen refused it'})")
