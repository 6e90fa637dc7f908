"""`intake notify`: one message a day to each reviewer, saying only whether anything arrived (docs/deploy.md).

Every message has the same headers and the same size whether there is news or not, and names
no case, no count and no time. "Since the last notice" is kept in `<instance>/notify-state.json`
as the day of the last notice (nothing finer) and the ids of the complete cases it covered, plus
the unread reporter messages it covered (case id and place in the thread), so a new one is announced.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import smtplib
import ssl
import stat
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from sqlalchemy import Engine, select

from intake.operations import OperationError
from intake.settings import Settings
from intake.storage.schema import cases, messages

WIDTH = 72
NEWS = ("New reports or reporter messages have arrived since the last notice.",
        "Open them with intake-review on your own machine.")
QUIET = ("Nothing new has arrived since the last notice.",)
LINES = 3
SUBJECT = "intake: daily notice"
ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class Reviewer:
    """A reviewer who gets the daily notice: a name (for the admin) and an address."""

    name: str
    email: str


def read_reviewers(path: Path) -> list[Reviewer]:
    """Read notify.json: {"reviewers": [{"name": ..., "email": ...}]}, a private file (mode 0600)."""
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise OperationError(f"{path} is readable by other users: run `chmod 600 {path}`")
        data = json.loads(path.read_text(encoding="utf-8"))
        found = [Reviewer(str(r["name"]), str(r["email"])) for r in data["reviewers"]]
    except FileNotFoundError:
        raise OperationError(f"no {path}: list the reviewers to notify there (docs/deploy.md, \"Notices\")") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OperationError(f"{path} is not a valid notify file ({exc}): see docs/deploy.md, \"Notices\"") from None
    for reviewer in found:
        if not ADDRESS.fullmatch(reviewer.email):
            raise OperationError(f"{path}: {reviewer.name}'s address {reviewer.email!r} is not a plain e-mail address")
    if not found:
        raise OperationError(f"{path} lists no reviewer: add one")
    return found


def body(news: bool) -> str:
    """The message text: the same number of lines, each padded to the same width, with or without news."""
    lines = list(NEWS if news else QUIET) + ["-- intake"]
    lines += [""] * (LINES - len(lines))
    return "".join(line.ljust(WIDTH) + "\n" for line in lines)


def message(sender: str, reviewer: Reviewer, news: bool, day: dt.date) -> EmailMessage:
    """A notice whose headers and size do not depend on `news` (the Date names the day only)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = reviewer.email
    msg["Subject"] = SUBJECT
    msg["Date"] = f"{day.strftime('%a, %d %b %Y')} 00:00:00 +0000"
    msg["Message-ID"] = f"<{secrets.token_hex(16)}@{sender.rsplit('@', 1)[1]}>"
    msg.set_content(body(news), charset="us-ascii", cte="7bit")
    return msg


def _state_path(settings: Settings) -> Path:
    return settings.instance / "notify-state.json"


def read_state(settings: Settings) -> dict[str, object]:
    """The last notice's day and the case ids it covered ({} before the first notice)."""
    try:
        return json.loads(_state_path(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise OperationError(f"{_state_path(settings)} is damaged ({exc}): delete it, and the next notice "
                             "covers every stored case") from None


def write_state(settings: Settings, state: dict[str, object]) -> None:
    """Replace the state file atomically, owner-only."""
    path = _state_path(settings)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(staged, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(staged, path)


def news_since(engine: Engine, state: dict[str, object]) -> tuple[bool, dict[str, object]]:
    """Whether a case completed or a reporter wrote since the state was written, and the state to write after.

    Case ids are random (no arrival order is stored), so the state keeps the ids of the complete cases
    received since the day before the last notice; a case is news when it is complete, received on or after
    that day, and not among them. Reporter messages are known by (case id, place in the thread) while they
    are unread: one not in the state's list is news. Nothing finer than the day is kept.
    """
    seen = {int(i) for i in state.get("seen", [])}
    read = {(int(c), int(n)) for c, n in state.get("unread_messages", [])}
    query = select(cases.c.id).where(cases.c.complete.is_(True))
    if isinstance(state.get("day"), str):
        since = dt.date.fromisoformat(str(state["day"])) - dt.timedelta(days=1)
        query = query.where(cases.c.received >= since)
    with engine.connect() as conn:
        ids = set(conn.execute(query).scalars())
        unread = sorted((c, n) for c, n in conn.execute(
            select(messages.c.case_id, messages.c.seq).where(messages.c.unread.is_(True))))
    return bool(ids - seen or set(unread) - read), {"seen": sorted(ids), "unread_messages": [list(u) for u in unread]}


def missing_settings(settings: Settings) -> list[str]:
    """Every setting `intake notify` lacks, each with what it must hold (empty when all are there)."""
    missing = []
    if not settings.smtp_host:
        missing.append("INTAKE_SMTP_HOST (the mail server)")
    if not settings.smtp_from:
        missing.append("INTAKE_SMTP_FROM (the sender address)")
    elif not ADDRESS.fullmatch(settings.smtp_from):
        missing.append(f"INTAKE_SMTP_FROM ({settings.smtp_from!r} is not a plain e-mail address)")
    if settings.smtp_user and not settings.smtp_password_file:
        missing.append("INTAKE_SMTP_PASSWORD_FILE (the file with INTAKE_SMTP_USER's password)")
    if not settings.notify_path.exists():
        missing.append(f"the reviewers' addresses in {settings.notify_path} (or INTAKE_NOTIFY_FILE naming them)")
    return missing


def require_settings(settings: Settings) -> None:
    """Refuse, naming every missing setting at once, unless `intake notify` has all it needs."""
    missing = missing_settings(settings)
    if missing:
        raise OperationError(f"cannot send notices: set {'; '.join(missing)} (docs/deploy.md, \"Notices\")")


def send(settings: Settings, messages: list[EmailMessage]) -> None:
    """Deliver the messages over one TLS connection (STARTTLS or implicit TLS), never in plain text."""
    require_settings(settings)
    context = ssl.create_default_context(cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        if settings.smtp_tls == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=60,
                                                    context=context)
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=60)
            client.starttls(context=context)
        with client:
            if settings.smtp_user:
                client.login(settings.smtp_user, _password(settings))
            for msg in messages:
                client.send_message(msg)
    except smtplib.SMTPNotSupportedError:
        raise OperationError(f"the mail server {where} does not offer STARTTLS, and intake never sends in plain "
                             "text: use its TLS port (INTAKE_SMTP_TLS=tls, INTAKE_SMTP_PORT=465)") from None
    except ssl.SSLError as exc:
        raise OperationError(f"TLS with {where} failed ({exc.reason or exc}): check the server's certificate, or "
                             "set INTAKE_SMTP_CA_FILE to the CA that signed it") from None
    except smtplib.SMTPAuthenticationError:
        raise OperationError(f"{where} refused INTAKE_SMTP_USER's password: check INTAKE_SMTP_PASSWORD_FILE") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise OperationError(f"cannot send through {where}: {exc}; run `intake notify` again later") from None


def _password(settings: Settings) -> str:
    if settings.smtp_password_file is None:
        raise OperationError("INTAKE_SMTP_USER is set: set INTAKE_SMTP_PASSWORD_FILE to the file with its password")
    try:
        return settings.smtp_password_file.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError) as exc:
        raise OperationError(f"cannot read the SMTP password from {settings.smtp_password_file}: {exc}") from None


def notify(settings: Settings, engine: Engine, today: dt.date | None = None) -> int:
    """Send today's notice to every reviewer, unless one went out today; return how many messages were sent."""
    require_settings(settings)
    day = today or dt.datetime.now(dt.UTC).date()
    state = read_state(settings)
    if state.get("day") == day.isoformat():
        return 0
    reviewers = read_reviewers(settings.notify_path)
    news, after = news_since(engine, state)
    send(settings, [message(settings.smtp_from or "", r, news, day) for r in reviewers])
    write_state(settings, {"day": day.isoformat(), **after})
    return len(reviewers)
