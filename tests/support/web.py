"""Helpers for the web and proof tests: an instance with a signed keyring, the app, a live `intake serve`."""

from __future__ import annotations

import base64
import http.client
import itertools
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from nacl.signing import SigningKey
from sqlalchemy import Engine, func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from intake.crypto.keyfile import write_private
from intake.crypto.keys import Identity, generichash
from intake.crypto.report import open_report, seal_report
from intake.crypto.stream import PART
from intake.keys.keyring import (
    KeyEntry,
    Keyring,
    create_signing_key,
    load_keyring,
    read_signer,
    save_keyring,
    unlock_signing_key,
)
from intake.settings import Settings
from intake.storage.cases import get_case, iter_parts
from intake.storage.db import connect
from intake.storage.schema import attachments, case_keys, cases, parts
from intake.web.work import DOMAIN, leading_zero_bits
from tests.support.migrated import copy_sqlite

PASSPHRASE = b"admin passphrase for tests"
BIN = Path(os.sys.executable).parent


@dataclass
class Site:
    """A test instance: its settings, reviewer identities and an engine to inspect the database."""

    settings: Settings
    identities: list[Identity]
    engine: Engine
    env: dict[str, str]

    def add_reviewer(self) -> Identity:
        """Add a new reviewer key to the keyring, re-signed, as an admin would."""
        identity = Identity.generate()
        key = unlock_signing_key(self.settings.instance / "admin-signing.key", PASSPHRASE)
        from intake.keys.keyring import load_keyring, read_signer

        keyring = load_keyring(self.settings.keys_dir, read_signer(self.settings.instance / "admin-signing.key"))
        entry = KeyEntry(f"r{len(keyring.keys)}", identity.recipient)
        save_keyring(self.settings.keys_dir, Keyring(keyring.keys + (entry,), signer=keyring.signer,
                                                     serial=keyring.serial), key)
        self.identities.append(identity)
        return identity


_SIGNING: list[tuple[str, str, SigningKey]] = []  # this process's admin signing key: file, public text, key


def signing_key(path: Path) -> tuple[str, SigningKey]:
    """Write an admin signing key file at `path` (PASSPHRASE); return its public text and the unlocked key. The key
    is made and unlocked once per test process (two Argon2id runs) and copied: a site's signer is what no test
    here varies (tests/keys make their own signers)."""
    if not _SIGNING:
        made = path.with_name(path.name + ".first")
        signer = create_signing_key(made, PASSPHRASE, "interactive")
        _SIGNING.append((made.read_text(), signer, unlock_signing_key(made, PASSPHRASE)))
        made.unlink()
    data, signer, key = _SIGNING[0]
    write_private(path, data)
    return signer, key


def make_site(root: Path, db_url: str, **limits: object) -> Site:
    """An instance folder with an admin signing key and a keyring of two reviewers; a SQLite database not there yet
    is made at the newest migration (tests/support/migrated.py)."""
    instance = root / "instance"
    instance.mkdir(mode=0o700)
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).exists():
        copy_sqlite(Path(db_url[len("sqlite:///"):]))
    signing = instance / "admin-signing.key"
    signer, key = signing_key(signing)
    identities = [Identity.generate() for _ in range(2)]
    keyring = Keyring(tuple(KeyEntry(f"r{i}", x.recipient) for i, x in enumerate(identities)), signer=signer)
    save_keyring(root / "keys", keyring, key)
    settings = Settings(instance, db_url, root / "keys", keyring_signer=signer,
                        **{"kdf_profile": "interactive", "pow_bits": 4, "nojs_per_minute": 1000, **limits})
    env = {"INTAKE_INSTANCE": str(instance), "INTAKE_KEYS_DIR": str(root / "keys"), "INTAKE_DATABASE_URL": db_url,
           "INTAKE_SIGNING_KEY": str(signing), "INTAKE_KEYRING_SIGNER": signer,
           "INTAKE_POW_BITS": str(settings.pow_bits),
           "INTAKE_NOJS_PER_MINUTE": str(settings.nojs_per_minute), "INTAKE_POW_EASY_RATE": str(settings.pow_easy_rate),
           "INTAKE_MAX_REPORT_BYTES": str(settings.max_report_bytes)}
    return Site(settings, identities, connect(db_url), env)


def default_site(root: Path, db_url: str) -> Site:
    """A site with the default flood settings (make_site lowers them for the other tests)."""
    return make_site(root, db_url, pow_bits=Settings.pow_bits, nojs_per_minute=Settings.nojs_per_minute,
                     pow_easy_rate=Settings.pow_easy_rate)


def csrf_token(client) -> str:
    """Load the form and return its form token (there is no cookie)."""
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def rows(engine: Engine) -> dict[str, int]:
    """How many rows each case table holds, complete or not."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (cases, attachments, parts, case_keys)}


def solve(challenge: str, bits: int) -> str:
    """A proof-of-work nonce for `challenge`."""
    for n in itertools.count():
        nonce = format(n, "x")
        if leading_zero_bits(generichash(32, DOMAIN + challenge.encode() + nonce.encode())) >= bits:
            return nonce
    raise AssertionError("unreachable")


def b64(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def open_stored(engine: Engine, ref: str, identities: list[Identity]) -> tuple[dict, list[tuple[str, bytes]], str]:
    """Open a stored case: its fields, its files (name, bytes) and who sealed it."""
    case = get_case(engine, ref)
    assert case is not None, f"no complete case {ref}"
    report = open_report(case.header, case.body, len(case.lengths), identities)
    files = [(entry.name, b"".join(report.attachment(i, iter_parts(engine, case.id, i), case.lengths[i])))
             for i, entry in enumerate(report.body.attachments)]
    return report.body.fields, files, case.sealed_by


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `intake serve` in its own process group, with its own TMPDIR and its stdout and stderr in files."""

    def __init__(self, env: dict[str, str], root: Path, name: str = "server", wrap: tuple[str, ...] = ()) -> None:
        self.env, self.root, self.name, self.wrap = env, root, name, wrap
        self.tmp = root / f"{name}-tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.logs: list[Path] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        """Start the server and wait until it answers."""
        n = len(self.logs) // 2
        out, err = self.root / f"{self.name}.{n}.stdout", self.root / f"{self.name}.{n}.stderr"
        self.logs += [out, err]
        full = {**os.environ, **self.env, "TMPDIR": str(self.tmp)}
        with out.open("wb") as o, err.open("wb") as e:
            command = [*self.wrap, str(BIN / "intake"), "serve", "--port", str(self.port)]  # wrap: e.g. prlimit
            self.process = subprocess.Popen(command, env=full, cwd=self.root, stdout=o, stderr=e,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/keyring.json", timeout=2).raise_for_status()
                return self
            except requests.RequestException:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.kill()
        raise AssertionError(f"intake serve did not start:\n{err.read_text()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (gunicorn's master and its worker) and reap it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self._wait_group_gone()
        self.process = None

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM to the master), or kill it if it hangs."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._wait_group_gone()
        self.process = None

    def _wait_group_gone(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.killpg(self.process.pid, signal.SIGKILL)

    def log_text(self) -> str:
        """Everything the server wrote so far."""
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def files_containing(roots: list[Path], needle: bytes) -> list[Path]:
    """Every file under `roots` whose bytes contain `needle`."""
    found = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and needle in path.read_bytes():
                found.append(path)
    return found


FIELDS = {"incident_type": "drone", "description": "canary-api-3f9e a drone over the market", "location": "",
          "occurred": "", "device": ""}
BIG = bytes(range(256)) * 8192  # 2 MiB: three sealed parts


def sealed(site, files=((("clip.mp4", "video/mp4", BIG)),)):
    """A report sealed in Python to the site's keyring."""
    return seal_report([i.recipient for i in site.identities], FIELDS, [(n, t, [d]) for n, t, d in files])


def begin(client, token, report, **changes):
    """POST /api/v1/reports with a solved proof of work; `changes` override request members."""
    challenge = client.get("/api/v1/challenge").get_json()
    request = {"keyring_serial": 1, "header": b64(report.header), "body": b64(report.body),
               "lengths": [len(s) for s in report.streams], "website": "",
               "pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}
    request.update(changes)
    return client.post("/api/v1/reports", json=request, headers={"X-CSRFToken": token})


def upload_all(client, token, upload, report, skip=()):
    """PUT every part of every stream except those in `skip`."""
    for idx, stream in enumerate(report.streams):
        for number in range(0, max(1, -(-len(stream) // PART))):
            if (idx, number) not in skip:
                part = stream[number * PART:(number + 1) * PART]
                r = client.put(f"/api/v1/uploads/{upload}/{idx}/{number}", data=part,
                               headers={"X-CSRFToken": token, "Content-Type": "application/octet-stream"})
                assert r.status_code == 204, r.get_json()


def report_with_lookup(client, site, lookup: bytes | None, reply=None,
                       fields: dict[str, str] | None = None) -> tuple[int, dict]:
    """POST a browser-sealed report (of `fields`, else a drone) with a codename's lookup; return status and answer."""
    keyring = load_keyring(site.settings.keys_dir, read_signer(site.settings.signing_key))
    report = seal_report(keyring.recipients(), fields or {"incident_type": "drone", "description": "x"},
                         reply_key=str(reply) if reply else None)
    work = client.get("/api/v1/challenge").get_json()
    data = {"keyring_serial": keyring.serial, "header": b64(report.header), "body": b64(report.body), "lengths": [],
            "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"])}
    if lookup is not None:
        data["lookup"] = b64(lookup)
    answer = client.post("/api/v1/reports", json=data, headers={"X-CSRFToken": csrf_token(client)})
    return answer.status_code, answer.get_json()


def slow_post(server: Server, path: str, values: MultiDict, meanwhile) -> tuple[int, str]:
    """POST a multipart form a slice at a time; after the first third, run `meanwhile()` (the admin's commands).
    A server that answers before the body's end and stops reading (a refusal) ends the sending: its answer is read."""
    boundary, body = encode_multipart(values)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        third = len(body) // 3
        conn.send(body[:third])
        meanwhile()
        try:
            for at in range(third, len(body), 256 << 10):
                conn.send(body[at:at + (256 << 10)])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server has answered and closed: read what it said
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()
