"""The reviewer's profile: where their identity, cases, keyring and signer are, so a command needs only the case.

Read from `$XDG_CONFIG_HOME/intake/review.toml` (default `~/.config/intake/review.toml`; another file with
INTAKE_REVIEW_PROFILE), then overridden by INTAKE_REVIEW_* settings; a value typed on the command line wins
over both (docs/review.md "A reviewer profile").
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from intake.errors import IntakeError

PATHS = ("passphrase_file", "bundle", "keys_dir", "replies")


class ProfileError(IntakeError):
    """The reviewer profile cannot be used as it is: fix the file or the setting it names."""


@dataclass(frozen=True)
class Profile:
    """What the profile and the INTAKE_REVIEW_* settings say; None where neither says anything."""

    identity: tuple[Path, ...] = ()
    passphrase_file: Path | None = None
    db: str | None = None
    bundle: Path | None = None
    keys_dir: Path | None = None
    signer: str | None = None
    replies: Path | None = None  # the replies file that status, tag and reply write to from a bundle


def profile_path(environ: Mapping[str, str]) -> Path:
    """The profile file: INTAKE_REVIEW_PROFILE, else review.toml in XDG_CONFIG_HOME/intake (or ~/.config/intake)."""
    if environ.get("INTAKE_REVIEW_PROFILE"):
        return Path(environ["INTAKE_REVIEW_PROFILE"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or ""
    config = Path(base) if os.path.isabs(base) else Path(environ.get("HOME") or Path.home()) / ".config"
    return config / "intake" / "review.toml"


def load_profile(environ: Mapping[str, str] = os.environ) -> Profile:
    """The profile file (when there is one), overridden by each INTAKE_REVIEW_* setting that is set."""
    path = profile_path(environ)
    found: dict[str, object] = {}
    if environ.get("INTAKE_REVIEW_PROFILE") and not path.is_file():
        raise ProfileError(f"INTAKE_REVIEW_PROFILE names {path}, which is not a file: fix the name, or unset it "
                           "(an empty file means no profile)")
    if path.is_file():
        _only_yours(path)
        try:
            found = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ProfileError(f"cannot read the reviewer profile {path}: {exc}; fix it, or set "
                               "INTAKE_REVIEW_PROFILE to another file") from None
    names = {f.name for f in fields(Profile)}
    unknown = sorted(set(found) - names)
    if unknown:
        raise ProfileError(f"the reviewer profile {path} has unknown settings: {', '.join(unknown)} (known: "
                           f"{', '.join(sorted(names))})")
    for name in names:
        value = environ.get(f"INTAKE_REVIEW_{name.upper()}")
        if value:
            found[name] = value.split(os.pathsep) if name == "identity" else value
    if found.get("db") and found.get("bundle"):
        raise ProfileError(f"the reviewer profile ({path} and INTAKE_REVIEW_*) names both a database and a bundle: "
                           "keep one (a command line's --db or --bundle still wins over it)")
    return Profile(**{name: _typed(name, value, path) for name, value in found.items()})


def _only_yours(path: Path) -> None:
    """Refuse a profile another user could change: whoever writes it chooses the keyring your commands seal to."""
    info = path.stat()
    if info.st_uid not in (os.getuid(), 0) or info.st_mode & 0o022:
        raise ProfileError(f"the reviewer profile {path} is writable by other users or not yours: whoever can change "
                           f"it chooses the keyring and signer your commands trust; run `chmod go-w {path}` (and "
                           "make it yours), or set INTAKE_REVIEW_PROFILE to a file only you can write")


def check_signer(profile: Profile, environ: Mapping[str, str] = os.environ) -> None:
    """Refuse a profile's signer other than the one pinned in the environment (INTAKE_SIGNER, else
    INTAKE_KEYRING_SIGNER): a profile never silently replaces the admin key every keyring must be signed by."""
    if not profile.signer:
        return
    pinned = (environ.get("INTAKE_SIGNER") or "").strip()
    if not pinned and (environ.get("INTAKE_KEYRING_SIGNER") or "").strip():
        from intake.keys.trust import trusted_signer
        from intake.settings import Settings

        pinned = trusted_signer(Settings.from_env(environ))
    if pinned and pinned != profile.signer.strip():
        raise ProfileError(f"the reviewer profile (or INTAKE_REVIEW_SIGNER) names the signer {profile.signer[:60]}, "
                           f"but {pinned[:60]} is pinned (INTAKE_SIGNER / INTAKE_KEYRING_SIGNER): remove the "
                           "profile's signer, or type --signer if you really mean another one")


def _typed(name: str, value: object, path: Path) -> object:
    if name == "identity":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ProfileError(f"{path}: identity is a file name or a list of them")
        return tuple(Path(i).expanduser() for i in items)
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{path}: {name} is a non-empty string")
    return Path(value).expanduser() if name in PATHS else value
