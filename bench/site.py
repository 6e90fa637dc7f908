"""The bench's own throwaway instance and `intake serve` process (the bench imports nothing from tests/)."""

from __future__ import annotations

import base64
import itertools
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.common import MIB, wait_until_up
from intake.crypto.keys import Identity, generichash
from intake.keys.keyring import KeyEntry, Keyring, create_signing_key, save_keyring, unlock_signing_key
from intake.web.work import DOMAIN, leading_zero_bits

PASSPHRASE = b"bench admin passphrase"
BIN = Path(sys.executable).parent


@dataclass
class Site:
    """An instance folder with an admin key, a keyring of two reviewers, and the environment to serve it."""

    root: Path
    identities: list[Identity]
    env: dict[str, str]


def make_site(root: Path, max_mib: int = 512) -> Site:
    """An instance for `intake serve`: two reviewers, proof of work at 4 bits, a budget no bench reaches."""
    instance = root / "instance"
    instance.mkdir(mode=0o700, parents=True)
    signing = instance / "admin-signing.key"
    signer = create_signing_key(signing, PASSPHRASE, "interactive")
    identities = [Identity.generate() for _ in range(2)]
    keyring = Keyring(tuple(KeyEntry(f"r{i}", x.recipient) for i, x in enumerate(identities)), signer=signer)
    save_keyring(root / "keys", keyring, unlock_signing_key(signing, PASSPHRASE))
    env = {"INTAKE_INSTANCE": str(instance), "INTAKE_KEYS_DIR": str(root / "keys"),
           "INTAKE_DATABASE_URL": f"sqlite:///{instance / 'intake.db'}", "INTAKE_SIGNING_KEY": str(signing),
           "INTAKE_KEYRING_SIGNER": signer,
           # The effort stays at 4 bits however many reports arrive (the load rule would raise it, and the
           # bench would time its own Python solver), and the no-JS budget never refuses.
           "INTAKE_POW_BITS": "4", "INTAKE_POW_EASY_RATE": "1000000", "INTAKE_NOJS_PER_MINUTE": "100000",
           "INTAKE_MAX_REPORT_BYTES": str(max_mib * MIB)}
    return Site(root, identities, env)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`intake serve` on 127.0.0.1 in its own process, its output discarded."""

    def __init__(self, site: Site) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([str(BIN / "intake"), "serve", "--port", str(self.port)], cwd=site.root,
                                        env={**os.environ, **site.env}, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until_up(f"http://127.0.0.1:{self.port}/keyring.json", self.process, "intake serve")

    def stop(self) -> None:
        """Stop gunicorn's master (it stops its workers) and wait."""
        self.process.terminate()
        self.process.wait(timeout=30)


def b64(data: bytes) -> str:
    """Base64url without padding, as the API takes it."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def solve(challenge: str, bits: int) -> str:
    """A proof-of-work nonce for `challenge` (docs/web.md)."""
    for n in itertools.count():
        nonce = format(n, "x")
        if leading_zero_bits(generichash(32, DOMAIN + challenge.encode() + nonce.encode())) >= bits:
            return nonce
    raise AssertionError("unreachable")
