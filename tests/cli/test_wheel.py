"""The wheel, installed outside the checkout, serves the form: `pip wheel`, a fresh venv, `intake demo` elsewhere."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

from tests.support import ROOT
from tests.support.web import free_port

pytestmark = pytest.mark.slow


def _pip(*args: str, python: Path | str = sys.executable) -> None:
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True,
                   timeout=900, capture_output=True)


def test_wheel_installed_elsewhere_serves_the_form(tmp_path: Path) -> None:
    """The wheel holds every package, the pages and the static files; `intake demo` from it serves the form."""
    source = tmp_path / "source"  # setuptools builds in the source tree: a copy keeps the checkout clean
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 "out", ".pytest_cache", ".hypothesis", "demo"))
    _pip("wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(source))
    wheel = next((tmp_path / "dist").glob("intake-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "intake").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names, "a package is missing from pyproject's packages list"
    assert {"intake/templates/form.html", "intake/static/js/seal.js",
            "intake/storage/migrations/env.py"} <= names
    assert {f"intake/{p.relative_to(ROOT / 'intake')}" for p in (ROOT / "intake" / "translations").rglob("*.mo")
            } <= names
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    _pip("install", f"intake[server] @ {wheel.as_uri()}", python=python)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "PYTHON", "VIRTUAL_ENV"))}
    env["INTAKE_KDF_PROFILE"] = "interactive"
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen([str(tmp_path / "venv" / "bin" / "intake"), "demo", "--port", str(port)], cwd=elsewhere,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        page = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert page is not None, (tmp_path / "demo.log").read_text()
        assert page.status_code == 200, page.text[:500]
        assert '<form' in page.text
        assert 'name="description"' in page.text
        assert (elsewhere / "demo" / "intake.db").is_file()
        assert str(ROOT) not in (tmp_path / "demo.log").read_text()
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
        log.close()
