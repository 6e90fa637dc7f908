"""Settings: the one place that reads the INTAKE_* environment, with safe defaults for a local demo."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from intake.errors import IntakeError

MIB = 1 << 20
_ONION = re.compile(r"https?://[a-z2-7]{56}\.onion/?")
_PUBLIC = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?")
LOCAL_URL = "http://localhost:8000"  # the kit's address when neither INTAKE_PUBLIC_URL nor INTAKE_ONION is set
KDF_PROFILES = ("moderate", "interactive")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class SettingsError(IntakeError, ValueError):
    """An INTAKE_* variable holds a value intake cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where the instance, the database, the public keyring and the admin key live, and the server's limits."""

    instance: Path
    database_url: str
    keys_dir: Path
    signing_key_file: Path | None = None  # None: admin-signing.key in the instance folder
    keyring_signer: str | None = None  # INTAKE_KEYRING_SIGNER: the signer's key text, or a file the server cannot write
    kdf_profile: str = "moderate"  # Argon2id limits for new key files; "interactive" only for tests and benches
    max_report_bytes: int = 500 * MIB
    pow_bits: int = 16
    pow_easy_rate: int = 60
    nojs_per_minute: int = 300
    check_cpu_percent: int = 25  # of one core, per process, for codenames typed on the no-JS /check (web/deriving.py)
    daily_bytes: int = 50 * 1024 * MIB
    pending_bytes: int = 8 * 1024 * MIB
    free_floor: int = 2 * 1024 * MIB
    onion: str | None = None
    public_url: str | None = None  # INTAKE_PUBLIC_URL: the site's address, written in the kit (docs/web.md)
    workers: int = 2
    header_timeout: int = 30
    idle_timeout: int = 60
    body_grace: int = 30
    min_body_rate: int = 1024
    page_box_seconds: int = 900  # how long a sealed box handed to a page (web/boxes.py) can be sent back
    kit_days: int = 30  # INTAKE_KIT_DAYS: how long a kit's keyring is taken after a newer one (docs/web.md)
    # `intake notify` (intake/operations/notify.py): reviewers' addresses and the mail server.
    notify_file: Path | None = None  # None: notify.json in the instance folder
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_user: str | None = None
    smtp_password_file: Path | None = None
    smtp_from: str | None = None
    smtp_ca_file: Path | None = None
    review_cpu_seconds: int = 30  # intake-review: processor seconds one attachment's inspection may take
    review_memory_mb: int = 2048  # intake-review: memory one attachment's inspection may take, plus 3x the file
    tsa_url: str | None = None  # `intake anchor`: the RFC 3161 timestamping authority (INTAKE_TSA_URL)
    proxies: tuple[str, ...] = ()  # proxy variables set in the environment (`intake check` warns of them)

    @property
    def site_url(self) -> str:
        """The address the kit names: INTAKE_PUBLIC_URL, else INTAKE_ONION, else the local demo's (never a Host)."""
        return self.public_url or self.onion or LOCAL_URL

    @property
    def signing_key(self) -> Path:
        """The admin signing key: INTAKE_SIGNING_KEY, or admin-signing.key in the instance (never in keys/)."""
        return (self.signing_key_file or self.instance / "admin-signing.key").absolute()

    @property
    def notify_path(self) -> Path:
        """The reviewers' addresses for `intake notify`: INTAKE_NOTIFY_FILE, or notify.json in the instance."""
        return (self.notify_file or self.instance / "notify.json").absolute()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read INTAKE_INSTANCE, INTAKE_DATABASE_URL, INTAKE_KEYS_DIR, INTAKE_SIGNING_KEY, the signer, the limits."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("INTAKE_INSTANCE") or "instance").absolute()
        url = env.get("INTAKE_DATABASE_URL") or f"sqlite:///{instance / 'intake.db'}"
        if not url.startswith(("sqlite:///", "postgresql")):
            raise SettingsError("INTAKE_DATABASE_URL must start with sqlite:/// or postgresql+psycopg://")
        onion = env.get("INTAKE_ONION") or None
        if onion and not _ONION.fullmatch(onion):
            raise SettingsError("INTAKE_ONION must be an onion service address such as http://<56 letters>.onion")
        public = env.get("INTAKE_PUBLIC_URL") or None
        if public and not _PUBLIC.fullmatch(public):
            raise SettingsError("INTAKE_PUBLIC_URL must be the site's address, such as https://report.example.org "
                                "(scheme and host, an optional port, no path)")
        kdf = env.get("INTAKE_KDF_PROFILE") or cls.kdf_profile
        if kdf not in KDF_PROFILES:
            raise SettingsError(f"INTAKE_KDF_PROFILE must be one of {', '.join(KDF_PROFILES)}, not {kdf!r}")
        signing = env.get("INTAKE_SIGNING_KEY")
        tsa = env.get("INTAKE_TSA_URL") or None
        if tsa and not tsa.startswith(("https://", "http://")):
            raise SettingsError("INTAKE_TSA_URL must be the http:// or https:// address of an RFC 3161 timestamping "
                                "authority")
        signer = (env.get("INTAKE_KEYRING_SIGNER") or "").strip() or None
        numbers = {name: _integer(env, name, low, high) for name, (low, high) in _BOUNDS.items()}
        return cls(instance, url, Path(env.get("INTAKE_KEYS_DIR") or "keys").absolute(),
                   signing_key_file=Path(signing).absolute() if signing else None, keyring_signer=signer,
                   kdf_profile=kdf, onion=onion.rstrip("/") if onion else None,
                   public_url=public.rstrip("/") if public else None, **numbers, **_smtp(env), tsa_url=tsa,
                   proxies=tuple(name for name in PROXY_VARIABLES if env.get(name)))


_BOUNDS = {"max_report_bytes": (MIB, 1 << 40), "pow_bits": (0, 32), "pow_easy_rate": (1, 1_000_000),
           "nojs_per_minute": (1, 1_000_000), "check_cpu_percent": (1, 100),
           "daily_bytes": (MIB, 1 << 50), "pending_bytes": (MIB, 1 << 50),
           "free_floor": (0, 1 << 50),
           "review_cpu_seconds": (1, 86_400), "review_memory_mb": (64, 1 << 20),
           "workers": (1, 64), "header_timeout": (1, 3600), "idle_timeout": (1, 3600), "body_grace": (1, 3600),
           "min_body_rate": (1, 1 << 30), "page_box_seconds": (1, 3600), "kit_days": (0, 3650)}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}


def _smtp(env: Mapping[str, str]) -> dict[str, object]:
    """The INTAKE_NOTIFY_FILE and INTAKE_SMTP_* settings of `intake notify`."""
    tls = env.get("INTAKE_SMTP_TLS") or "starttls"
    if tls not in ("starttls", "tls"):
        raise SettingsError(f"INTAKE_SMTP_TLS must be starttls or tls (there is no plain-text mode), not {tls!r}")
    files = (("smtp_password_file", "INTAKE_SMTP_PASSWORD_FILE"), ("smtp_ca_file", "INTAKE_SMTP_CA_FILE"))
    path = {name: Path(env[var]).absolute() if env.get(var) else None for name, var in files}
    port = env.get("INTAKE_SMTP_PORT") or ("587" if tls == "starttls" else "465")
    notify = env.get("INTAKE_NOTIFY_FILE")
    return {"notify_file": Path(notify).absolute() if notify else None,
            "smtp_host": env.get("INTAKE_SMTP_HOST") or None, "smtp_tls": tls,
            "smtp_port": _integer({"INTAKE_SMTP_PORT": port}, "smtp_port", 1, 65535),
            "smtp_user": env.get("INTAKE_SMTP_USER") or None, "smtp_from": env.get("INTAKE_SMTP_FROM") or None,
            **path}


def _integer(env: Mapping[str, str], field: str, low: int, high: int) -> int:
    """Read INTAKE_<FIELD> as an integer within [low, high] (default: the Settings default), or say what to set."""
    name = "INTAKE_" + field.upper()
    raw = env.get(name)
    if raw in (None, ""):
        return int(_DEFAULTS[field])  # type: ignore[arg-type]
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value
