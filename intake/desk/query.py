"""The desk's search line read into triage's Filters: `key:value` words filter, every other word is searched."""

from __future__ import annotations

import datetime as dt

from intake.errors import BadValue
from intake.storage.cases import STATUSES, state_named
from intake.triage.filters import Filters

LISTS = {"status": "status", "tag": "tags", "type": "incident_type", "province": "province", "lang": "lang"}
DAYS = ("since", "until")
FLAGS = {"is:unread": "unread", "has:files": "has_files"}
HELP = ("words to search; status:closed tag:T type:drone province:KH-12 lang:km since:DAY until:DAY "
        "is:unread has:files")


def read_query(line: str) -> Filters:
    """The Filters a search line asks for (a key given twice: any of its values); a bad value says what to type."""
    lists: dict[str, list[str]] = {name: [] for name in LISTS.values()}
    days: dict[str, dt.date] = {}
    flags: dict[str, bool] = {}
    search: list[str] = []
    for word in line.split():
        key, colon, value = word.partition(":")
        key = key.lower()
        if word.lower() in FLAGS:
            flags[FLAGS[word.lower()]] = True
        elif colon and value and key == "status":
            lists["status"].append(_state(value))
        elif colon and value and key in LISTS:
            lists[LISTS[key]].append(value)
        elif colon and value and key in DAYS:
            days[key] = _day(key, value)
        else:
            search.append(word)
    return Filters(**{name: tuple(values) for name, values in lists.items()}, **days, **flags,
                   search=" ".join(search))


def _state(value: str) -> str:
    state = state_named(value)
    if state is None:
        raise BadValue(f"{value!r} is not a state: use one of "
                       f"{', '.join(s.replace(' ', '-') for s in STATUSES)}", "status:")
    return state


def _day(key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{key}:{value} is not a day: write it YYYY-MM-DD", f"{key}:") from None
