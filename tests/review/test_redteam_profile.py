"""Red team: a profile must not swap the keyring a reviewer seals to; CSV formulas behind any blank."""

from __future__ import annotations

import json

import pytest

from tests.support import run_cli
from tests.support.keytools import Instance
from tests.support.reviewkit import store

pytestmark = [pytest.mark.slow]
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def sites(db_url, tmp_path):
    """The real instance (alice, one case) and an attacker's own keyring and signer (mallory) beside it."""
    (tmp_path / "real").mkdir()
    inst = Instance(tmp_path / "real", db_url)
    keys = inst.setup("alice")
    inst.run("init")
    ref = store(inst.engine, inst.keyring().recipients(), fields={"incident_type": "drone", "description": "x"})
    (tmp_path / "evil").mkdir()
    evil = Instance(tmp_path / "evil", "sqlite:///" + str(tmp_path / "evil" / "evil.db"))
    evil.setup("mallory")
    return inst, keys, ref, evil


def profile(tmp_path, text: str, mode: int):
    """Write review.toml in a fresh XDG_CONFIG_HOME with `mode`; the environment that reads it."""
    config = tmp_path / "config"
    (config / "intake").mkdir(parents=True, exist_ok=True)
    path = config / "intake" / "review.toml"
    path.write_text(text)
    path.chmod(mode)
    return {"XDG_CONFIG_HOME": str(config), "INTAKE_KEYS_DIR": "", "INTAKE_SIGNER": ""}


@SQLITE
def test_a_profile_others_can_write_is_refused(sites, tmp_path) -> None:
    """A review.toml that group or others can write (anyone could point it at their own keyring) is not read."""
    inst, keys, ref, evil = sites
    env = profile(tmp_path, f'keys_dir = "{evil.root / "keys"}"\nsigner = "{evil.env["INTAKE_KEYRING_SIGNER"]}"\n',
                  0o666)
    done = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                   "--db", inst.db_url, "tag", ref, "leaked", cwd=inst.root, env=env, check=False)
    assert done.returncode != 0
    assert "writable" in done.stderr
    assert "chmod" in done.stderr


@SQLITE
def test_a_profile_signer_never_silently_replaces_the_pinned_one(sites, tmp_path) -> None:
    """With INTAKE_KEYRING_SIGNER pinned, a profile naming another signer (and that signer's keyring) is refused,
    rather than sealing tags and notes to the other keyring's keys; the pinned signer in the profile is fine."""
    inst, keys, ref, evil = sites
    pinned = {"INTAKE_KEYRING_SIGNER": inst.env["INTAKE_KEYRING_SIGNER"]}
    env = profile(tmp_path, f'keys_dir = "{evil.root / "keys"}"\nsigner = "{evil.env["INTAKE_KEYRING_SIGNER"]}"\n',
                  0o600)
    args = ("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
            "--db", inst.db_url)
    done = run_cli(*args, "tag", ref, "leaked", cwd=inst.root, env={**env, **pinned}, check=False)
    assert done.returncode != 0, done.stdout
    assert "pinned" in done.stderr
    env = profile(tmp_path, f'keys_dir = "{inst.root / "keys"}"\nsigner = "{inst.env["INTAKE_KEYRING_SIGNER"]}"\n',
                  0o600)
    run_cli(*args, "tag", ref, "fine", cwd=inst.root, env={**env, **pinned})
    data = json.loads(run_cli(*args, "show", ref, "--json", cwd=inst.root, env={**env, **pinned}).stdout)
    assert data["tags"] == ["fine"]


@pytest.mark.parametrize("cell", ["\u00a0=1+1", "\u3000=1+1", "\u2007+1", " \u00a0@SUM(A1)", "\u3000\uff1d1+1"])
def test_csv_formula_after_any_blank_is_neutralised(cell) -> None:
    """A formula behind a no-break, figure or ideographic space (which spreadsheets may trim) still gets its '."""
    from intake.triage.csvfile import inert

    assert inert(cell).startswith("'")


def test_a_named_profile_that_is_not_a_file_is_refused(tmp_path) -> None:
    """INTAKE_REVIEW_PROFILE naming a missing file (a typo) or a device is refused, not silently ignored."""
    from intake.review.profile import ProfileError, load_profile

    for named in (tmp_path / "missing.toml", "/dev/zero"):
        with pytest.raises(ProfileError, match="INTAKE_REVIEW_PROFILE"):
            load_profile({"INTAKE_REVIEW_PROFILE": str(named), "HOME": str(tmp_path)})


def test_tag_changes_with_the_same_day_and_n_do_not_follow_row_order() -> None:
    """Two reviewers' changes of one day with the same n (two bundles): the database writer's row order must not
    choose which one wins (catalogue 8)."""
    from intake.review.notes import TAGS_KIND, current_tags

    add = {"created": "2026-12-01", "kind": TAGS_KIND, "n": 1, "add": ["x"], "remove": [], "by": "aa" * 16}
    drop = {"created": "2026-12-01", "kind": TAGS_KIND, "n": 1, "add": [], "remove": ["x"], "by": "bb" * 16}
    assert current_tags([add, drop]) == current_tags([drop, add])
