"""Where cases come from: the server's database (a bundle file is the other source)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from intake.storage.cases import Case, get_case, iter_cases, iter_parts
from intake.storage.db import connect


class DatabaseSource:
    """Cases read straight from the database at `url`."""

    def __init__(self, url: str) -> None:
        self.engine = connect(url)

    def cases(self, status: str | None = None, since: dt.date | None = None) -> Iterator[Case]:
        """Every complete case, oldest first."""
        return iter_cases(self.engine, status, since)

    def case(self, ref: str) -> Case | None:
        """One case by reference, or None."""
        return get_case(self.engine, ref)

    def parts(self, case: Case, idx: int) -> Iterator[bytes]:
        """The sealed parts of one attachment, in order."""
        return iter_parts(self.engine, case.id, idx)
