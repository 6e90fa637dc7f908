"""The one place errors meet the terminal: known errors print a clean message and exit, the rest a traceback."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from intake.crypto.errors import CryptoError
from intake.errors import BadValue, IntakeError, UsageProblem


class Failure(click.ClickException):
    """A known error, printed as one line (`PREFIX: what happened; what to do next`) with its exit code."""

    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.exit_code = exit_code

    def show(self, file: object = None) -> None:
        """Print the line on stderr, any control character in it escaped (it may quote hostile data)."""
        from intake.review.names import terminal_text

        click.echo(terminal_text(self.message), err=True)


class Dispatcher(click.Group):
    """A command group that turns the project's errors into their message and exit code.

    Domain code raises IntakeError (or a CryptoError) and never imports click; anything else is a bug and
    keeps its traceback.
    """

    prefix = "Error: "

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, printing a known error as one line."""
        try:
            return super().invoke(ctx)
        except BadValue as exc:
            raise click.BadParameter(exc.message, ctx=ctx, param_hint=exc.param) from None
        except UsageProblem as exc:
            raise click.UsageError(exc.text(), ctx=ctx) from None
        except IntakeError as exc:
            raise Failure(self.prefix + exc.text(), exc.exit_code) from None
        except CryptoError as exc:
            raise Failure(self.prefix + str(exc), 1) from None
        except OperationalError as exc:  # its message may quote the SQL and its data: only the kind is shown
            raise Failure(self.prefix + f"the database stayed locked or out of reach ({type(exc.orig).__name__}); "
                          "another intake command or the server may be holding it: wait a minute and run the "
                          "command again", 1) from None
