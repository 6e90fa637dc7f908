"""The project's errors: one root, whose message says what happened and what to do next."""

from __future__ import annotations


class IntakeError(Exception):
    """An error a user can cause or fix; the CLI prints its message (and hint) and exits with its code."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint
        if exit_code is not None:
            self.exit_code = exit_code

    def text(self) -> str:
        """The message, then the hint of what to do next."""
        return self.message + (f"; {self.hint}" if self.hint else "")


class BadValue(IntakeError, ValueError):
    """A command-line value is unusable: the CLI shows it as click shows a bad parameter (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


class UsageProblem(IntakeError):
    """The command was given an unusable combination of options (exit 2)."""

    exit_code = 2


class AlreadyExists(IntakeError):
    """A file or key the command would create is already there."""
