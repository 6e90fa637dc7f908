"""Settings come from INTAKE_* in one place, with one set of defaults; bad values are refused with what to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.errors import IntakeError
from intake.settings import Settings
from intake.web.slow import Limits


def test_defaults_written_once() -> None:
    """An empty environment gives the dataclass defaults, and the slow-client limits share them."""
    settings = Settings.from_env({})
    assert settings.kdf_profile == "moderate"
    assert settings.signing_key == (Path("instance") / "admin-signing.key").absolute()
    assert Limits.of(settings) == Limits()
    assert settings.workers == Settings.workers


def test_environment_read() -> None:
    """INTAKE_SIGNING_KEY and INTAKE_KDF_PROFILE are read like the others."""
    settings = Settings.from_env({"INTAKE_SIGNING_KEY": "elsewhere/admin.key", "INTAKE_KDF_PROFILE": "interactive",
                                  "INTAKE_IDLE_TIMEOUT": "7"})
    assert settings.signing_key == Path("elsewhere/admin.key").absolute()
    assert settings.kdf_profile == "interactive"
    assert Limits.of(settings).idle_timeout == 7


@pytest.mark.parametrize(("env", "message"), [
    ({"INTAKE_KDF_PROFILE": "fast"}, "INTAKE_KDF_PROFILE must be one of moderate, interactive"),
    ({"INTAKE_WORKERS": "0"}, "INTAKE_WORKERS must be between 1 and 64"),
    ({"INTAKE_POW_BITS": "many"}, "INTAKE_POW_BITS must be a whole number"),
    ({"INTAKE_DATABASE_URL": "mysql://x"}, "INTAKE_DATABASE_URL must start with"),
])
def test_bad_values_refused(env: dict[str, str], message: str) -> None:
    """A bad value is an IntakeError naming the variable and what it must be."""
    with pytest.raises(IntakeError, match=message):
        Settings.from_env(env)
