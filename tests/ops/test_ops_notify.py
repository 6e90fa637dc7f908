"""`intake notify` against a real SMTP server on 127.0.0.1 (aiosmtpd) with a certificate made here."""

from __future__ import annotations

import datetime as dt
import email
import json
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from intake.crypto.keys import Identity
from intake.crypto.report import seal_report
from intake.storage.db import connect
from intake.storage.lifecycle import complete_case
from tests.support import run_cli
from tests.support.storage import begin_case, store_case
from tests.support.web import free_port

SMTP_USER, SMTP_PASSWORD = "intake@example.org", "mail password"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given, as bytes."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        """Keep the message."""
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


def _login(_server, _session, _envelope, _mechanism, data) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl, and its key."""
    folder = tmp_path_factory.mktemp("cert")
    crt, key = folder / "smtp.crt", folder / "smtp.key"
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def smtp_server(cert: tuple[Path, Path], mode: str) -> tuple[Controller, Inbox]:
    """Start a server: `starttls` (STARTTLS required, AUTH after it), `tls` (implicit TLS) or `plain`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, cert))
    inbox, port = Inbox(), free_port()
    options: dict[str, object] = {"hostname": "127.0.0.1", "port": port}
    if mode == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_required=True, authenticator=_login)
    elif mode == "tls":
        options.update(ssl_context=context)
    controller = Controller(inbox, **options)
    controller.start()
    return controller, inbox


@pytest.fixture
def instance(tmp_path: Path) -> dict[str, str]:
    """An initialised instance with notify.json (two reviewers) and the SMTP settings, minus host and port."""
    run_cli("intake", "init", cwd=tmp_path)
    notify = tmp_path / "instance" / "notify.json"
    notify.write_text(json.dumps({"reviewers": [{"name": "alice", "email": "alice@example.org"},
                                                {"name": "bob", "email": "bob.long.address@lawyers.example.net"}]}))
    notify.chmod(0o600)
    (tmp_path / "smtp.pw").write_text(SMTP_PASSWORD + "\n")
    return {"INTAKE_SMTP_HOST": "127.0.0.1", "INTAKE_SMTP_FROM": "intake@example.org",
            "INTAKE_SMTP_USER": SMTP_USER, "INTAKE_SMTP_PASSWORD_FILE": str(tmp_path / "smtp.pw")}


def store_one(tmp_path: Path, complete: bool = True) -> int:
    """Store a sealed case (or begin an upload); return its id."""
    engine = connect(f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    recipients = [Identity.generate().recipient]
    sealed = seal_report(recipients, {"incident_type": "drone", "description": "secret words"})
    try:
        if complete:
            store_case(engine, sealed.header, sealed.body, "server", [r.key_id for r in recipients], [])
            return 0
        case_id, _, _ = begin_case(engine, sealed.header, sealed.body, "browser", [r.key_id for r in recipients], [])
        return case_id
    finally:
        engine.dispose()


def a_day_passes(tmp_path: Path) -> None:
    """Move the last notice's day one day back, as if the timer ran yesterday."""
    path = tmp_path / "instance" / "notify-state.json"
    state = json.loads(path.read_text())
    state["day"] = (dt.date.fromisoformat(state["day"]) - dt.timedelta(days=1)).isoformat()
    path.write_text(json.dumps(state))


def notify(tmp_path: Path, env: dict[str, str], controller: Controller, cert: Path | None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `intake notify` against the controller's port."""
    full = {**env, "INTAKE_SMTP_PORT": str(controller.port)}
    if cert:
        full["INTAKE_SMTP_CA_FILE"] = str(cert)
    return run_cli("intake", "notify", cwd=tmp_path, env=full, check=check)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_notice_has_the_same_size_with_and_without_news(tmp_path: Path, instance: dict[str, str], cert, mode) -> None:
    """Quiet day, then news: the same headers and the same size for each reviewer, once a day, nothing about cases."""
    controller, inbox = smtp_server(cert, mode)
    env = dict(instance) if mode == "starttls" else {k: v for k, v in instance.items() if "USER" not in k}
    if mode == "tls":
        env["INTAKE_SMTP_TLS"] = "tls"
    try:
        notify(tmp_path, env, controller, cert[0])
        assert "already sent" in notify(tmp_path, env, controller, cert[0]).stderr
        assert len(inbox.messages) == 2
        store_one(tmp_path)
        a_day_passes(tmp_path)
        notify(tmp_path, env, controller, cert[0])
        a_day_passes(tmp_path)
        notify(tmp_path, env, controller, cert[0])
    finally:
        controller.stop()
    assert [to for to, _ in inbox.messages] == [["alice@example.org"], ["bob.long.address@lawyers.example.net"]] * 3
    quiet, news, quiet_again = inbox.messages[0::2], inbox.messages[2::2], inbox.messages[4::2]
    sizes = {len(raw) for _, raw in quiet[:1] + news[:1] + quiet_again[:1]}
    assert len(sizes) == 1, "alice's notices differ in size"
    assert len({len(raw) for _, raw in quiet[1:] + news[1:] + quiet_again[1:]}) == 1
    first, second = email.message_from_bytes(quiet[0][1]), email.message_from_bytes(news[0][1])
    assert first.keys() == second.keys()
    assert all(first[h] == second[h] for h in first.keys() if h not in ("Message-ID", "Date"))
    assert first["Date"].endswith("00:00:00 +0000")
    assert "Nothing new" in first.get_payload()
    assert "New reports" in second.get_payload()
    assert email.message_from_bytes(quiet_again[0][1]).get_payload() == first.get_payload()
    for _, raw in inbox.messages:
        assert b"secret words" not in raw
        assert b"drone" not in raw


def test_upload_finished_after_a_notice_is_announced(tmp_path: Path, instance: dict[str, str], cert) -> None:
    """An upload still running at one notice, finished after it, is news at the next one."""
    controller, inbox = smtp_server(cert, "starttls")
    try:
        case_id = store_one(tmp_path, complete=False)
        notify(tmp_path, instance, controller, cert[0])
        engine = connect(f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
        complete_case(engine, case_id)
        engine.dispose()
        a_day_passes(tmp_path)
        notify(tmp_path, instance, controller, cert[0])
    finally:
        controller.stop()
    bodies = [email.message_from_bytes(raw).get_payload() for _, raw in inbox.messages]
    assert "Nothing new" in bodies[0]
    assert "New reports" in bodies[2]


def test_never_in_plain_text_nor_to_an_unverified_server(tmp_path: Path, instance: dict[str, str], cert) -> None:
    """A server without STARTTLS, or one whose certificate is not trusted, gets nothing; the state is kept."""
    env = {k: v for k, v in instance.items() if "USER" not in k}
    controller, inbox = smtp_server(cert, "plain")
    try:
        result = notify(tmp_path, env, controller, cert[0], check=False)
    finally:
        controller.stop()
    assert result.returncode == 1
    assert "does not offer STARTTLS" in result.stderr
    controller, inbox2 = smtp_server(cert, "starttls")
    try:
        result = notify(tmp_path, instance, controller, None, check=False)
    finally:
        controller.stop()
    assert result.returncode == 1
    assert "INTAKE_SMTP_CA_FILE" in result.stderr
    assert inbox.messages == inbox2.messages == []
    assert not (tmp_path / "instance" / "notify-state.json").exists()


def test_bad_notify_files_are_refused(tmp_path: Path, instance: dict[str, str], cert) -> None:
    """A notify.json others can read, or with an address that could inject headers, is refused before sending."""
    path = tmp_path / "instance" / "notify.json"
    controller, inbox = smtp_server(cert, "starttls")
    try:
        path.chmod(0o644)
        result = notify(tmp_path, instance, controller, cert[0], check=False)
        assert result.returncode == 1
        assert f"chmod 600 {path}" in result.stderr
        path.write_text(json.dumps({"reviewers": [{"name": "eve", "email": "eve@example.org\nBcc: x@evil.example"}]}))
        path.chmod(0o600)
        result = notify(tmp_path, instance, controller, cert[0], check=False)
        assert result.returncode == 1
        assert "not a plain e-mail address" in result.stderr
    finally:
        controller.stop()
    assert inbox.messages == []
