"""The house rules of issue 9 that code review keeps missing: checked, so they cannot quietly come back."""

from __future__ import annotations

import ast

from tests.support import ROOT


def imported(path) -> set[str]:
    """The modules one Python file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_tests_share_helpers_through_support():
    """No test module imports another (a renamed helper then breaks collection of the whole suite in CI)."""
    offenders = {str(path.relative_to(ROOT)): sorted(name for name in imported(path)
                                                     if name.rsplit(".", 1)[-1].startswith("test_"))
                 for path in (ROOT / "tests").rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_fixtures_come_from_conftest():
    """Fixtures are found by pytest through conftest.py, never imported by name (which needs a noqa for ruff F811)."""
    marker = "noqa: " + "F811"
    assert [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py") if marker in p.read_text()] == []


def test_click_only_in_the_cli():
    """Domain code raises IntakeError and returns values; only intake/cli/ speaks click."""
    users = [str(p.relative_to(ROOT)) for p in (ROOT / "intake").rglob("*.py")
             if "click" in {name.split(".")[0] for name in imported(p)} and "cli" not in p.relative_to(ROOT).parts]
    assert users == []
