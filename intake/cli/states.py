"""A case's triage state on the command line: `in review`, `in_review`, `in-review` and `In Review` all name one."""

from __future__ import annotations

import click

from intake.storage.cases import STATUSES, state_named


class State(click.ParamType):
    """One of STATUSES, written with spaces, underscores or hyphens between its words, in any case."""

    name = "state"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """The states, as --help lists them."""
        return "[" + "|".join(s.replace(" ", "-") for s in STATUSES) + "]"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The stored state's name, or a usage error that lists the states."""
        found = state_named(str(value))
        if found is None:
            self.fail(f"{value!r} is not a state: use one of {', '.join(s.replace(' ', '-') for s in STATUSES)}",
                      param, ctx)
        return found


STATE = State()
