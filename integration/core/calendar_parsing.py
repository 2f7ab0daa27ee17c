"""The values a rules file writes for calendars and deadlines, parsed and checked.

`calendars:` definitions give a time zone, opening hours and a holiday country, and deadline
actions give durations (`4h`, `2d business`); an admin writes them in YAML. This module turns
that text into the values `integration.core.calendars.Calendar` computes with (`ZoneInfo`, `Hours`,
a canonical holiday code, `Duration`) and words what is wrong for the admin. It is kept apart
from the calendar arithmetic so each can be read on its own; what the values mean (open
intervals, business days, ...) is in the `integration.core.calendars` docstring.

Pure: no I/O beyond `zoneinfo` and the `holidays` package's country list. Every parser raises
ValueError for every bad input, wrong types included, with a message that ends in
`(got ...)`; the rule loader turns it into a located problem.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "DAYS_EXPECTED",
    "DAY_NAMES",
    "DURATION_EXPECTED",
    "HOURS_EXPECTED",
    "MAX_DURATION",
    "UNITS",
    "Duration",
    "Hours",
    "Interval",
    "parse_duration",
    "parse_holidays",
    "parse_hours",
    "parse_timezone",
]

Interval = tuple[time, time]
Hours = dict[int, tuple[Interval, ...]]  # weekday (Monday 0) -> sorted intervals; end time(0) = 24:00

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_DURATION = timedelta(days=365)

DURATION_EXPECTED = 'a duration like 4h, 30m, 2d or 45s, optionally followed by "business"'
HOURS_EXPECTED = 'opening hours like "09:00-18:00" or "09:00-12:00, 13:00-18:00"'
DAYS_EXPECTED = "days like mon, mon-fri or mon,wed (days: mon, tue, wed, thu, fri, sat, sun)"


# Parsers raise ValueError for every bad input, wrong types included: their input is YAML an
# admin wrote, and the rule loader turns ValueError into a located problem (hence noqa TRY004).


def _got(value: Any) -> str:
    """How a found value is shown, as in the loader's messages: `"4 hours"`, `a list`."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


# ---------------------------------------------------------------------------------- durations


@dataclass(frozen=True)
class Duration:
    """How long a deadline runs. `amount` is the whole length as written (`d` = 24 hours);
    `days` is how many of those days were written with the unit `d`, which in business time
    count open days rather than open seconds (see the `integration.core.calendars` docstring)."""

    amount: timedelta
    business: bool = False
    days: int = 0

    def __post_init__(self) -> None:
        if self.amount <= timedelta(0):
            raise ValueError(f"must be longer than zero (got {self.amount})")
        if self.amount.microseconds:
            raise ValueError(f"must be whole seconds (got {self.amount})")
        if not 0 <= self.days <= self.amount.days:
            raise ValueError(f"days must be between 0 and the amount's days (got {self.days})")

    @property
    def rest(self) -> timedelta:
        """The part after the written days: open time in business durations."""
        return self.amount - timedelta(days=self.days)

    def __str__(self) -> str:
        parts = [f"{self.days}d"] if self.days else []
        seconds = int(self.rest.total_seconds())
        for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
            count, seconds = divmod(seconds, size)
            if count:
                parts.append(f"{count}{unit}")
        return " ".join(parts) + (" business" if self.business else "")


_DURATION_SHAPE = re.compile(r"(?:\d+[a-z]+\s*)+")
_DURATION_PART = re.compile(r"(\d+)([a-z]+)")


def parse_duration(text: str) -> Duration:
    """`4h`, `30m`, `2d`, `45s`, `1d 4h`, `1h30m`, each optionally followed by ` business`.
    Units are given once each, largest first; the total must be above zero and at most 365d."""
    if not isinstance(text, str):
        raise ValueError(f"must be {DURATION_EXPECTED} (got {_got(text)})")  # noqa: TRY004 - YAML data
    got = _got(text)
    body = text.strip().lower()
    business = False
    head, _, last = body.rpartition(" ")
    if last == "business" and head.strip():
        business, body = True, head.strip()
    negative = body.startswith("-")
    if negative:
        body = body[1:].lstrip()
    if re.search(r"\d[.,]\d", body):
        raise ValueError(f"must use whole numbers, like 1h 30m (got {got})")
    if not _DURATION_SHAPE.fullmatch(body):
        raise ValueError(f"must be {DURATION_EXPECTED} (got {got})")
    seen: list[int] = []
    total = days = 0
    for number, unit in _DURATION_PART.findall(body):
        if unit not in UNITS:
            if len(unit) > 1:  # "4hours", "4hbusiness": not a unit typo but another notation
                raise ValueError(f"must be {DURATION_EXPECTED} (got {got})")
            raise ValueError(f"must use the units d, h, m and s, not {unit} (got {got})")
        order = list(UNITS).index(unit)
        if seen and order <= seen[-1]:
            raise ValueError(f"must give each unit once, largest first, like 1d 4h or 1h30m (got {got})")
        seen.append(order)
        total += int(number) * UNITS[unit]
        days = int(number) if unit == "d" else days
    if negative or total == 0:
        raise ValueError(f"must be longer than zero (got {got})")
    if total > MAX_DURATION.total_seconds():
        raise ValueError(f"must be at most {MAX_DURATION.days}d (got {got})")
    return Duration(timedelta(seconds=total), business, days)


# -------------------------------------------------------------------------------------- hours

_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def _minutes(hour: str, minute: str, key: str, part: str, end: bool) -> int:
    value = int(hour) * 60 + int(minute)
    if int(minute) > 59 or value > 24 * 60 or (value == 24 * 60 and not end):
        raise ValueError(f'"{key}": must use times from 00:00 to 23:59, or 24:00 as an end (got "{part}")')
    return value


def _intervals(key: str, value: Any) -> tuple[Interval, ...]:
    if not isinstance(value, str):
        raise ValueError(f'"{key}": must be {HOURS_EXPECTED} (got {_got(value)})')  # noqa: TRY004 - YAML data
    if value.strip().lower() == "closed":
        return ()
    spans: list[tuple[int, int]] = []
    for raw in value.split(","):
        part = raw.strip()
        match = _INTERVAL.fullmatch(part)
        if not match:
            raise ValueError(f'"{key}": must be {HOURS_EXPECTED} (got "{value}")')
        start = _minutes(match[1], match[2], key, part, end=False)
        end = _minutes(match[3], match[4], key, part, end=True)
        if end <= start:
            hint = "; write 24:00 for midnight" if end == 0 else ""
            raise ValueError(f'"{key}": must close after it opens{hint} (got "{part}")')
        spans.append((start, end))
    spans.sort()
    for (_, previous_end), (start, _) in pairwise(spans):
        if start < previous_end:
            raise ValueError(f'"{key}": must not have overlapping intervals (got "{value}")')
    return tuple((_clock(start), _clock(end)) for start, end in spans)


def _clock(minutes: int) -> time:
    return time(0) if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


def _day(name: str, key: str) -> int:
    try:
        return DAY_NAMES.index(name.strip())
    except ValueError:
        raise ValueError(f"must be {DAYS_EXPECTED} (got {_got(key)})") from None


def _weekdays(key: Any) -> list[int]:
    if not isinstance(key, str):
        raise ValueError(f"must be {DAYS_EXPECTED} (got {_got(key)})")  # noqa: TRY004 - YAML data
    days: list[int] = []
    for item in key.lower().split(","):
        first, dash, last = item.partition("-")
        if not dash:
            days.append(_day(first, key))
            continue
        start, end = _day(first, key), _day(last, key)
        if end < start:
            raise ValueError(f'"{key}": must run from an earlier to a later day, like mon-fri or sat-sun (got "{key}")')
        days.extend(range(start, end + 1))
    return days


def parse_hours(spec: Mapping[str, str]) -> Hours:
    """Opening hours by weekday: `{"mon-fri": "09:00-18:00", "sat": "09:00-13:00"}`.
    Keys: a day (`mon` ... `sun`), a range (`mon-fri`) or a list (`mon,wed`, `mon-wed,fri`);
    values: one or more `HH:MM-HH:MM` intervals separated by commas (`24:00` allowed as an end),
    or `closed`. Days not given are closed. Returns all seven weekdays (Monday 0)."""
    if not isinstance(spec, Mapping):
        raise ValueError(f'must be a mapping of days to hours, like {{mon-fri: "09:00-18:00"}} (got {_got(spec)})')  # noqa: TRY004
    hours: Hours = {day: () for day in range(7)}
    given: dict[int, str] = {}
    for key, value in spec.items():
        for day in _weekdays(key):
            if day in given:
                name = DAY_NAMES[day]
                raise ValueError(f'"{key}": must not repeat {name}, already given in "{given[day]}" (got {name} twice)')
            given[day] = key
        intervals = _intervals(key, value)
        for day in _weekdays(key):
            hours[day] = intervals
    return hours


# --------------------------------------------------------------------- time zones and holidays


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone such as `America/Sao_Paulo`."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ValueError(f"unknown time zone; expected an IANA name like America/Sao_Paulo or Europe/Lisbon (got {_got(name)})")


def _country_names() -> dict[str, str]:
    """Lower-case country names to "BR (Brazil)", for suggestions, if the installed `holidays`
    exposes its registry (it is not a documented API, so this degrades to nothing)."""
    registry = getattr(holidays, "registry", None)
    names: dict[str, str] = {}
    for module, entry in getattr(registry, "COUNTRIES", {}).items():
        if isinstance(module, str) and len(entry) > 1:
            names[module.replace("_", " ")] = f"{entry[1]} ({module.replace('_', ' ').title()})"
    return names


def _suggest(similar: list[str]) -> str:
    return f"; did you mean {', '.join(similar)}?" if similar else ""


def _similar_countries(wrong: str, codes: list[str]) -> list[str]:
    if len(wrong) <= 3:  # a mistyped code
        return difflib.get_close_matches(wrong, codes, n=3, cutoff=0.5)
    names = _country_names()  # a country's name instead of its code
    return [names[n] for n in difflib.get_close_matches(wrong.lower(), list(names), n=2, cutoff=0.75)]


def parse_holidays(code: str) -> str:
    """A country code known to the `holidays` package (`BR`, `US`, also its alpha-3 aliases),
    optionally with a subdivision after a hyphen (`BR-SP`, `US-CA`). Case-insensitive;
    returns the canonical spelling."""
    if not isinstance(code, str) or not code.strip():
        raise ValueError(f"must be a country code known to the holidays package, like BR or US-CA (got {_got(code)})")
    supported = holidays.list_supported_countries()
    country, dash, subdivision = code.strip().partition("-")
    country = country.strip().upper()
    if country not in supported:
        hint = _suggest(_similar_countries(country, [c for c in supported if len(c) == 2]))
        raise ValueError(f"must be a country code known to the holidays package, like BR or US-CA{hint} (got {_got(code)})")
    if not dash:
        return country
    wanted = subdivision.strip()
    known = list(supported[country])
    for candidate in known:
        if candidate.upper() == wanted.upper():
            return f"{country}-{candidate}"
    if not known:
        raise ValueError(f"must be {country} alone: the holidays package knows no subdivisions of it (got {_got(code)})")
    hint = _suggest(difflib.get_close_matches(wanted.upper(), known, n=3, cutoff=0.5))
    examples = ", ".join(known[:3])
    raise ValueError(f"must be a subdivision of {country} known to the holidays package ({examples}, ...){hint} (got {_got(code)})")
