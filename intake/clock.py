"""The one clock of stored dates: the UTC day, nothing finer (no time of day is kept about a report)."""

from __future__ import annotations

import datetime as dt


def today() -> dt.date:
    """Today in UTC: the day a case, a note or a keyring entry records."""
    return dt.datetime.now(dt.UTC).date()
