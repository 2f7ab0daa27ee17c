"""Business calendars and durations for deadlines.

A pure module: no I/O of its own (beyond `zoneinfo` loading time-zone data and the `holidays`
package computing holidays), and it never reads the clock; every time is an argument.

This module is the arithmetic: when a deadline is due, how long a calendar was open. Turning
what a rules file writes (`2d business`, `mon-fri: 09:00-18:00`, `America/Sao_Paulo`, `BR-SP`)
into `Duration`, `Hours`, time zones and holiday codes is `integration.core.calendar_parsing`; its
public names are re-exported here, so `integration.core.calendars` stays the one import for both.

Semantics, decided once and relied on by the rule loader and the deadline clock:

* All times passed in must be timezone-aware (a naive datetime is a programming error:
  TypeError). All datetimes returned are in UTC.
* Opening hours are half-open intervals of local wall-clock time, `[opens, closes)`:
  at exactly the opening time a calendar is open, at exactly the closing time it is closed.
  An end of `time(0)` in parsed hours means 24:00 (the midnight that ends the day).
* Wall-clock times are turned into instants in the calendar's time zone per interval, as
  "the first instant at which the local clock reads that time": an ambiguous time (the
  repeated hour when clocks go back) is its first occurrence; a time that does not exist
  (skipped when clocks go forward) is the instant of the change. So an open day counts its
  real open seconds: `00:00-24:00` is 23 real hours on the day clocks go forward and 25 on
  the day they go back.
* Holidays (from the `holidays` package, observed days included, e.g. US 2026-07-03) close
  the whole local day.
* Wall-time durations (`4h`, `2d`) are absolute: `2d` is 48 real hours, whatever the clocks do.
* Business `h`/`m`/`s` count open seconds. A deadline that uses up exactly the rest of an open
  interval is due at its closing time (not at the next opening).
* Business `d` counts open days: `2d business` is due at the same local wall-clock time on the
  2nd following open day (a day that is not a holiday and has open hours), counted from the
  start, or from the next opening if the start is outside hours. If that wall-clock time is
  not open on the target day it is moved into that day: before the day's first opening to the
  opening, in a break or after closing to the closing before it. Days are applied first, then
  any `h`/`m`/`s` part as open time (`1d 4h business`). So `24h business` (24 open hours) and
  `1d business` (one open day) differ, even on a 24/7 calendar across a DST change.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

# Re-exported (see the module docstring).
from integration.core.calendar_parsing import (
    DAY_NAMES,
    DAYS_EXPECTED,
    DURATION_EXPECTED,
    HOURS_EXPECTED,
    MAX_DURATION,
    UNITS,
    Duration,
    Hours,
    Interval,
    parse_duration,
    parse_holidays,
    parse_hours,
    parse_timezone,
)

__all__ = [
    "DAYS_EXPECTED",
    "DAY_NAMES",
    "DURATION_EXPECTED",
    "HOURS_EXPECTED",
    "MAX_DURATION",
    "UNITS",
    "WALL_CLOCK",
    "Calendar",
    "Duration",
    "Hours",
    "Interval",
    "format_span",
    "parse_duration",
    "parse_holidays",
    "parse_hours",
    "parse_timezone",
]

SEARCH_DAYS = 5 * 366  # a calendar closed this many days in a row is treated as never opening
_CACHE_DAYS = 8192


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime (got {type(value).__name__})")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"{what} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)


# ----------------------------------------------------------------------------------- calendar

_Span = tuple[datetime, datetime]  # an open interval in UTC, [start, end)


@dataclass(frozen=True)
class Calendar:
    """Opening hours in a time zone, minus the holidays of a country (see the module docstring)."""

    name: str
    tz: ZoneInfo
    hours: Mapping[int, tuple[Interval, ...]]
    holidays_code: str | None = None
    _days: dict[date, tuple[_Span, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _holidays: dict[int, frozenset[date]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tz, ZoneInfo):
            raise TypeError(f"calendar {self.name}: tz must be a ZoneInfo (got {type(self.tz).__name__})")
        hours: Hours = {}
        for day in range(7):
            intervals = tuple(sorted(self.hours.get(day, ())))
            ends = [(s, e if e != time(0) else None) for s, e in intervals]
            for (start, end), following in zip(ends, ends[1:] + [(None, None)]):
                if end is not None and end <= start:
                    raise ValueError(f"calendar {self.name}: {DAY_NAMES[day]} closes before it opens")
                if following[0] is not None and (end is None or following[0] < end):
                    raise ValueError(f"calendar {self.name}: {DAY_NAMES[day]} has overlapping intervals")
            hours[day] = intervals
        if unknown := set(self.hours) - set(range(7)):
            raise ValueError(f"calendar {self.name}: weekdays are 0 (Monday) to 6 (got {sorted(unknown)})")
        if not any(hours.values()):
            raise ValueError(f"calendar {self.name} has no open hours")
        object.__setattr__(self, "hours", MappingProxyType(hours))
        if self.holidays_code is not None:
            object.__setattr__(self, "holidays_code", parse_holidays(self.holidays_code))

    def __hash__(self) -> int:
        return hash((self.name, self.tz, tuple(self.hours.items()), self.holidays_code))

    @classmethod
    def always_open(cls, name: str = "wall") -> Calendar:
        """Open around the clock in UTC, no holidays: business time equals real time."""
        return cls(name, ZoneInfo("UTC"), {day: ((time(0), time(0)),) for day in range(7)})

    # -- public

    def is_open(self, at: datetime) -> bool:
        moment = _aware(at, "at")
        return any(start <= moment < end for start, end in self._spans(self._local_date(moment)))

    def next_open(self, at: datetime) -> datetime:
        """`at` (in UTC) if the calendar is open then, else the next opening."""
        moment = _aware(at, "at")
        for _, spans in self._open_days(self._local_date(moment)):
            for start, end in spans:
                if end > moment:
                    return max(start, moment)
        raise AssertionError("unreachable")  # pragma: no cover - _open_days raises first

    def add(self, start: datetime, duration: Duration) -> datetime:
        """When `duration` has elapsed after `start`, in UTC (semantics in the module docstring)."""
        moment = _aware(start, "start")
        if not duration.business:
            return moment + duration.amount
        if duration.days:
            moment = self._add_open_days(moment, duration.days)
        if duration.rest:
            moment = self._add_open_time(moment, duration.rest)
        return moment

    def open_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in `[start, end)`; negative if `end` is before `start`."""
        first, last = _aware(start, "start"), _aware(end, "end")
        if last < first:
            return -self.open_seconds_between(last, first)
        total = timedelta(0)
        day, final = self._local_date(first), self._local_date(last)
        while day <= final:
            for span_start, span_end in self._spans(day):
                overlap = min(span_end, last) - max(span_start, first)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds()

    # -- internals

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _add_open_time(self, moment: datetime, left: timedelta) -> datetime:
        for _, spans in self._open_days(self._local_date(moment)):
            for start, end in spans:
                if end <= moment:
                    continue
                begin = max(start, moment)
                if left <= end - begin:
                    return begin + left
                left -= end - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def _add_open_days(self, moment: datetime, count: int) -> datetime:
        opened = self.next_open(moment)
        local = opened.astimezone(self.tz)
        wall = local.time().replace(tzinfo=None, fold=0)
        days = self._open_days(local.date() + timedelta(days=1))
        for _ in range(count - 1):
            next(days)
        target, spans = next(days)
        due = self._instant(target, wall)
        if due < spans[0][0]:
            return spans[0][0]
        closing = spans[0][0]
        for start, end in spans:
            if start <= due < end:
                return due
            if end <= due:
                closing = end
        return closing

    def _open_days(self, day: date) -> Iterator[tuple[date, tuple[_Span, ...]]]:
        """Each day from `day` on that has open spans, with them, skipping closed days; raises
        ValueError when the calendar stays closed for SEARCH_DAYS days in a row."""
        closed = 0
        while True:
            spans = self._spans(day)
            if spans:
                closed = 0
                yield day, spans
            else:
                closed += 1
                if closed > SEARCH_DAYS:
                    raise ValueError(f"calendar {self.name} has no open hours in the 5 years after {day - timedelta(days=closed - 1)}")
            day += timedelta(days=1)

    def _spans(self, day: date) -> tuple[_Span, ...]:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        spans: list[_Span] = []
        if not self._is_holiday(day):
            for opens, closes in self.hours[day.weekday()]:
                start = self._instant(day, opens)
                end = self._instant(day + timedelta(days=1), time(0)) if closes == time(0) else self._instant(day, closes)
                if end > start:
                    spans.append((start, end))
        if len(self._days) >= _CACHE_DAYS:
            self._days.clear()
        result = self._days[day] = tuple(spans)
        return result

    def _instant(self, day: date, wall: time) -> datetime:
        """The first instant at which the local clock reads `wall` on `day`, in UTC."""
        naive = datetime.combine(day, wall).replace(fold=0)
        earlier = naive.replace(tzinfo=self.tz).astimezone(UTC)  # fold=0: first occurrence
        if earlier.astimezone(self.tz).replace(tzinfo=None) == naive:
            return earlier
        # `wall` was skipped (clocks went forward): find the change, the first instant whose
        # local reading is past `wall`, between the two readings fold=0 and fold=1 give.
        other = naive.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        low, high = min(earlier, other), max(earlier, other)
        while high - low > timedelta(microseconds=1):
            middle = low + (high - low) / 2
            if middle.astimezone(self.tz).replace(tzinfo=None) >= naive:
                high = middle
            else:
                low = middle
        return high

    def _is_holiday(self, day: date) -> bool:
        if self.holidays_code is None:
            return False
        dates = self._holidays.get(day.year)
        if dates is None:
            country, _, subdivision = self.holidays_code.partition("-")
            table = holidays.country_holidays(country, subdiv=subdivision or None, years=day.year)
            dates = self._holidays[day.year] = frozenset(table)
        return day in dates


WALL_CLOCK = Calendar.always_open()


# ----------------------------------------------------------------------------------- messages

_SPAN_WORDS = {
    "en": (("day", "days"), ("hour", "hours"), ("minute", "minutes"), "less than a minute"),
    "pt": (("dia", "dias"), ("hora", "horas"), ("minuto", "minutos"), "menos de um minuto"),
    "es": (("día", "días"), ("hora", "horas"), ("minuto", "minutos"), "menos de un minuto"),
}


def format_span(seconds: float, language: str) -> str:
    """A short text for a length of time ("overdue by ..."): the largest unit among days,
    hours and minutes, plus the next one if not zero, rounded down: 7500 -> "2 hours 5 minutes",
    90000 -> "1 day 1 hour", 86460 -> "1 day". The sign is ignored. Languages en, pt, es;
    others (and regional forms like pt-BR) fall back by prefix, then to en."""
    if not math.isfinite(seconds):
        raise ValueError(f"must be a finite number of seconds (got {seconds})")
    days_word, hours_word, minutes_word, under = _SPAN_WORDS.get(
        language, _SPAN_WORDS.get(language[:2].lower(), _SPAN_WORDS["en"])
    )
    minutes = int(abs(seconds)) // 60
    if minutes == 0:
        return under
    counts = [(minutes // 1440, days_word), (minutes // 60 % 24, hours_word), (minutes % 60, minutes_word)]
    first = next(i for i, (count, _) in enumerate(counts) if count)
    shown = [counts[first]] + ([counts[first + 1]] if first < 2 and counts[first + 1][0] else [])
    return " ".join(f"{count} {words[count != 1]}" for count, words in shown)
