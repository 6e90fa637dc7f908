"""Web nodes for the scale-out tests: several `intake serve` on one database, each with its own folders."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from intake.web.state import secret_key
from tests.support import run_cli
from tests.support.web import Server, Site

# The files every node holds a copy of (docs/deploy.md, step 16); the rest is in the database and the settings.
SHARED_FILES = ("instance/secret.key", "keys/keyring.json")


def node_folder(site: Site, root: Path, name: str, secret: Path | None) -> dict[str, str]:
    """A node's own instance and keys folders with copies of SHARED_FILES (no admin key); its environment."""
    folder = root / name
    (folder / "instance").mkdir(mode=0o700, parents=True)
    (folder / "keys").mkdir()
    sources = {"instance/secret.key": secret, "keys/keyring.json": site.settings.keys_dir / "keyring.json"}
    for shared in SHARED_FILES:
        if sources[shared] is not None:  # no secret: the node makes its own as it starts
            shutil.copy2(sources[shared], folder / shared)
    env = {k: v for k, v in site.env.items() if k != "INTAKE_SIGNING_KEY"}
    return {**env, "INTAKE_INSTANCE": str(folder / "instance"), "INTAKE_KEYS_DIR": str(folder / "keys"),
            "INTAKE_WORKERS": "2"}


@contextlib.contextmanager
def nodes(site: Site, root: Path, settings: Mapping[str, str], names: tuple[str, ...] = ("node-a", "node-b"),
          share_secret: tuple[bool, ...] = (True, True)) -> Iterator[list[Server]]:
    """Start one `intake serve` per name on the site's database, each passing `intake check`; stop them after.

    A node not sharing the secret makes its own. After a clean run, no node may have logged a traceback.
    """
    secret = site.settings.instance / "secret.key"
    secret_key(site.settings.instance)  # made once, as `intake serve` would on the first node, then copied
    servers = [Server({**node_folder(site, root, name, secret if shared else None), **settings}, root, name)
               for name, shared in zip(names, share_secret, strict=True)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            run_cli("intake", "check", cwd=root, env=server.env)
        yield servers
    finally:
        for server in servers:
            server.stop()
    for server in servers:
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


def deliver(keyring: bytes, server: Server) -> None:
    """Put a keyring.json on a node as a copy tool would: a new file renamed over the old one."""
    keys = Path(server.env["INTAKE_KEYS_DIR"])
    staged = keys / ".keyring.json.new"
    staged.write_bytes(keyring)
    staged.replace(keys / "keyring.json")
