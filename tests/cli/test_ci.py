"""CI runs exactly the README's test command, and that command lints, tests, soaks and benches."""

from __future__ import annotations

from tests.support import ROOT


def test_ci_runs_the_readme_command() -> None:
    """The command line of .ci/run is the README's, which starts with .ci/setup and runs ruff and the bench."""
    readme = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()]
    command = next(line for line in readme if line.startswith(".ci/setup &&") and "pytest" in line)
    run = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert run == command
    steps = [step.strip() for step in command.split("&&")]
    assert steps[0] == ".ci/setup"
    assert steps[1] == ".venv/bin/python -m ruff check ."
    assert steps[-1] == ".venv/bin/python -m bench --quick"
