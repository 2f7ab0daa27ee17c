"""Business calendars: tables of (start, duration, expected due), parse errors with their exact
messages, and a seeded property check that `open_seconds_between` inverts `add`.

Holidays used below were checked against the installed `holidays` package (0.109), not guessed:
BR 2026: 04-03 Good Friday, 04-21 Tiradentes, 12-25 Christmas (12-24 is not a holiday);
US 2026: 07-03 Independence Day (observed, 07-04 is a Saturday), 11-26 Thanksgiving;
ES 2026: 04-03 Good Friday. DST 2026: America/New_York 03-08 02:00 EST -> 03:00 EDT and
11-01 02:00 EDT -> 01:00 EST; Europe/Lisbon 03-29 01:00 WET -> 02:00 WEST and 10-25 02:00 WEST ->
01:00 WET; Europe/Madrid 03-29 02:00 CET -> 03:00 CEST and 10-25 03:00 CEST -> 02:00 CET;
America/Sao_Paulo has had no DST since 2019 (always UTC-3).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import holidays
import pytest

from integration.core.calendars import (
    WALL_CLOCK,
    Calendar,
    Duration,
    format_span,
    parse_duration,
    parse_holidays,
    parse_hours,
    parse_timezone,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
LISBON = ZoneInfo("Europe/Lisbon")
MADRID = ZoneInfo("Europe/Madrid")

# The calendar of RULES.md: weekdays and a Saturday half day, Brazilian holidays.
BR = Calendar("default", SAO_PAULO, parse_hours({"mon-fri": "09:00-18:00", "sat": "09:00-13:00"}), "BR")
LUNCH = Calendar("lunch", SAO_PAULO, parse_hours({"mon-fri": "09:00-12:00, 13:00-18:00"}))
MIXED = Calendar(
    "mixed",
    SAO_PAULO,
    parse_hours({"mon": "09:00-18:00", "tue": "09:00-12:00, 14:00-18:00", "wed": "14:00-18:00"}),
)
US = Calendar("us", NEW_YORK, parse_hours({"mon-fri": "09:00-17:00"}), "US")
NY_247 = Calendar("ny-247", NEW_YORK, parse_hours({"mon-sun": "00:00-24:00"}))
SP_247 = Calendar("sp-247", SAO_PAULO, parse_hours({"mon-sun": "00:00-24:00"}))
LISBON_NIGHTS = Calendar("lisbon-nights", LISBON, parse_hours({"mon-sun": "00:00-06:00"}))
MADRID_247 = Calendar("madrid-247", MADRID, parse_hours({"mon-sun": "00:00-24:00"}))
MADRID_OFFICE = Calendar("madrid", MADRID, parse_hours({"mon-fri": "09:00-18:00"}), "ES")


def at(zone: tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def sp(*args: int) -> datetime:
    return at(SAO_PAULO, *args)


def ny(*args: int, fold: int = 0) -> datetime:
    return at(NEW_YORK, *args, fold=fold)


def lis(*args: int) -> datetime:
    return at(LISBON, *args)


def mad(*args: int) -> datetime:
    return at(MADRID, *args)


def utc(*args: int) -> datetime:
    return at(UTC, *args)


def test_the_holidays_this_file_relies_on() -> None:
    br, us, es = (holidays.country_holidays(code, years=2026) for code in ("BR", "US", "ES"))
    assert {date(2026, 4, 3), date(2026, 4, 21), date(2026, 12, 25)} <= set(br)
    assert date(2026, 12, 24) not in br
    assert {date(2026, 7, 3), date(2026, 11, 26)} <= set(us)
    assert date(2026, 4, 3) in es


# (calendar, start, duration, expected due). 2026-03-02 is a Monday.
CASES = [
    # inside hours, before opening, exactly at opening, exactly at and after closing
    ("inside", BR, sp(2026, 3, 2, 10), "4h business", sp(2026, 3, 2, 14)),
    ("before opening", BR, sp(2026, 3, 2, 7), "4h business", sp(2026, 3, 2, 13)),
    ("at opening", BR, sp(2026, 3, 2, 9), "4h business", sp(2026, 3, 2, 13)),
    ("at closing", BR, sp(2026, 3, 2, 18), "4h business", sp(2026, 3, 3, 13)),
    ("after closing", BR, sp(2026, 3, 2, 20), "4h business", sp(2026, 3, 3, 13)),
    ("used up at closing: due at closing", BR, sp(2026, 3, 2, 14), "4h business", sp(2026, 3, 2, 18)),
    ("minutes", BR, sp(2026, 3, 2, 17, 45), "30m business", sp(2026, 3, 3, 9, 15)),
    ("seconds", BR, sp(2026, 3, 2, 17, 59, 30), "45s business", sp(2026, 3, 3, 9, 0, 15)),
    ("start given in UTC", BR, utc(2026, 3, 2, 12), "4h business", utc(2026, 3, 2, 16)),
    # weekends and the Saturday half day
    ("Friday into Saturday", BR, sp(2026, 3, 6, 16), "4h business", sp(2026, 3, 7, 11)),
    ("Friday over the weekend", BR, sp(2026, 3, 6, 17), "6h business", sp(2026, 3, 9, 10)),
    ("Saturday afternoon", BR, sp(2026, 3, 7, 12), "4h business", sp(2026, 3, 9, 12)),
    ("Saturday after its closing", BR, sp(2026, 3, 7, 15), "1h business", sp(2026, 3, 9, 10)),
    ("Sunday", BR, sp(2026, 3, 8, 10), "4h business", sp(2026, 3, 9, 13)),
    ("no Saturday hours", US, ny(2026, 3, 13, 16), "2h business", ny(2026, 3, 16, 10)),
    # holidays
    ("Tiradentes (Tuesday)", BR, sp(2026, 4, 20, 16), "4h business", sp(2026, 4, 22, 11)),
    ("start on a holiday", BR, sp(2026, 4, 21, 10), "1h business", sp(2026, 4, 22, 10)),
    ("Good Friday", BR, sp(2026, 4, 2, 17), "2h business", sp(2026, 4, 4, 10)),
    ("Christmas (Friday), then Saturday", BR, sp(2026, 12, 24, 17), "4h business", sp(2026, 12, 26, 12)),
    ("US observed Independence Day", US, ny(2026, 7, 2, 15), "4h business", ny(2026, 7, 6, 11)),
    ("Thanksgiving", US, ny(2026, 11, 25, 16), "2h business", ny(2026, 11, 27, 10)),
    # several days
    ("a week of hours", BR, sp(2026, 3, 2, 9), "40h business", sp(2026, 3, 6, 13)),
    ("two weeks, used up at Saturday closing", BR, sp(2026, 3, 2, 9), "98h business", sp(2026, 3, 14, 13)),
    ("two weeks and an hour", BR, sp(2026, 3, 2, 9), "99h business", sp(2026, 3, 16, 10)),
    ("over year end", BR, sp(2026, 12, 31, 17), "2h business", sp(2027, 1, 2, 10)),
    # lunch break
    ("across lunch", LUNCH, sp(2026, 3, 2, 11), "2h business", sp(2026, 3, 2, 14)),
    ("start at lunch", LUNCH, sp(2026, 3, 2, 12, 30), "1h business", sp(2026, 3, 2, 14)),
    ("start as lunch begins", LUNCH, sp(2026, 3, 2, 12), "1h business", sp(2026, 3, 2, 14)),
    ("used up as lunch begins", LUNCH, sp(2026, 3, 2, 11), "1h business", sp(2026, 3, 2, 12)),
    ("two intervals a day", LUNCH, sp(2026, 3, 2, 17), "8h business", sp(2026, 3, 3, 17)),
    # business days: the same wall-clock time on the n-th following open day
    ("2d business", BR, sp(2026, 3, 2, 10), "2d business", sp(2026, 3, 4, 10)),
    ("2d over the weekend", BR, sp(2026, 3, 6, 12), "2d business", sp(2026, 3, 9, 12)),
    ("1d into Saturday, after its closing", BR, sp(2026, 3, 6, 15), "1d business", sp(2026, 3, 7, 13)),
    ("1d from outside hours", BR, sp(2026, 3, 6, 20), "1d business", sp(2026, 3, 9, 9)),
    ("1d over a holiday", BR, sp(2026, 4, 20, 10), "1d business", sp(2026, 4, 22, 10)),
    ("1d 4h business", BR, sp(2026, 3, 2, 10), "1d 4h business", sp(2026, 3, 3, 14)),
    ("1d 4h past closing", BR, sp(2026, 3, 2, 16), "1d 4h business", sp(2026, 3, 4, 11)),
    ("1d landing in a break", MIXED, sp(2026, 3, 2, 13), "1d business", sp(2026, 3, 3, 12)),
    ("1d landing before opening", MIXED, sp(2026, 3, 3, 10), "1d business", sp(2026, 3, 4, 14)),
    ("1d landing open", MIXED, sp(2026, 3, 2, 17), "1d business", sp(2026, 3, 3, 17)),
    ("1d over closed days", MIXED, sp(2026, 3, 4, 15), "1d business", sp(2026, 3, 9, 15)),
    ("1d from a break", LUNCH, sp(2026, 3, 2, 12, 30), "1d business", sp(2026, 3, 3, 13)),
    # wall-clock durations are absolute time; the calendar does not matter
    ("wall hours", BR, sp(2026, 3, 6, 20), "4h", sp(2026, 3, 7, 0)),
    ("wall days", BR, sp(2026, 3, 6, 20), "2d", sp(2026, 3, 8, 20)),
    ("wall clock, business", WALL_CLOCK, utc(2026, 3, 7, 12), "4h business", utc(2026, 3, 7, 16)),
    # America/New_York office hours across both changes
    ("NY: weekend of the spring change", US, ny(2026, 3, 6, 15), "4h business", ny(2026, 3, 9, 11)),
    ("NY: same, in UTC", US, ny(2026, 3, 6, 15), "4h business", utc(2026, 3, 9, 15)),
    ("NY: weekend of the autumn change", US, ny(2026, 10, 30, 16), "2h business", utc(2026, 11, 2, 15)),
    ("NY: 2d across the change", US, ny(2026, 3, 6, 10), "2d business", utc(2026, 3, 10, 14)),
    # 24/7 in New York: 24h business counts 24 real open hours, the same as 24h wall time; 1d
    # business is the next day at the same wall-clock time: 23 real hours in spring, 25 in autumn
    ("NY 24/7: 24h business, spring", NY_247, ny(2026, 3, 7, 12), "24h business", ny(2026, 3, 8, 13)),
    ("NY 24/7: 24h wall, spring", NY_247, ny(2026, 3, 7, 12), "24h", ny(2026, 3, 8, 13)),
    ("NY 24/7: 1d wall, spring", NY_247, ny(2026, 3, 7, 12), "1d", ny(2026, 3, 8, 13)),
    ("NY 24/7: 1d business, spring", NY_247, ny(2026, 3, 7, 12), "1d business", ny(2026, 3, 8, 12)),
    ("NY 24/7: 24h business, autumn", NY_247, ny(2026, 10, 31, 12), "24h business", ny(2026, 11, 1, 11)),
    ("NY 24/7: 1d business, autumn", NY_247, ny(2026, 10, 31, 12), "1d business", ny(2026, 11, 1, 12)),
    ("NY 24/7: through the skipped hour", NY_247, ny(2026, 3, 8, 1, 30), "1h business", ny(2026, 3, 8, 3, 30)),
    # (01:30 EST, the second 01:30: written in UTC because Python never finds a fold=1 time equal
    # to a time in another zone, PEP 495)
    ("NY 24/7: through the repeated hour", NY_247, ny(2026, 11, 1, 0, 30), "2h business", utc(2026, 11, 1, 6, 30)),
    ("NY 24/7: from the repeated hour", NY_247, ny(2026, 11, 1, 1, 30, fold=1), "1h business", ny(2026, 11, 1, 2, 30)),
    ("NY 24/7: 1d onto a skipped time", NY_247, ny(2026, 3, 7, 2, 30), "1d business", ny(2026, 3, 8, 3, 0)),
    ("NY 24/7: 1d onto a repeated time", NY_247, ny(2026, 10, 31, 1, 30), "1d business", utc(2026, 11, 1, 5, 30)),
    # Europe/Lisbon, open 00:00-06:00 every night: 5 real hours on 03-29, 7 on 10-25
    ("Lisbon: short night", LISBON_NIGHTS, lis(2026, 3, 29, 0), "6h business", lis(2026, 3, 30, 1)),
    ("Lisbon: short night, UTC", LISBON_NIGHTS, lis(2026, 3, 29, 0), "6h business", utc(2026, 3, 30, 0)),
    ("Lisbon: long night", LISBON_NIGHTS, lis(2026, 10, 25, 0), "7h business", lis(2026, 10, 25, 6)),
    ("Lisbon: long night, UTC", LISBON_NIGHTS, lis(2026, 10, 25, 0), "7h business", utc(2026, 10, 25, 6)),
    ("Lisbon: ordinary night", LISBON_NIGHTS, lis(2026, 10, 26, 0), "7h business", lis(2026, 10, 27, 1)),
    # Europe/Madrid
    ("Madrid 24/7: 24h business, spring", MADRID_247, mad(2026, 3, 28, 12), "24h business", mad(2026, 3, 29, 13)),
    ("Madrid 24/7: 1d business, spring", MADRID_247, mad(2026, 3, 28, 12), "1d business", mad(2026, 3, 29, 12)),
    ("Madrid 24/7: 24h business, autumn", MADRID_247, mad(2026, 10, 24, 12), "24h business", mad(2026, 10, 25, 11)),
    ("Madrid 24/7: 1d business, autumn", MADRID_247, mad(2026, 10, 24, 12), "1d business", mad(2026, 10, 25, 12)),
    ("Madrid office over the change", MADRID_OFFICE, mad(2026, 3, 27, 17), "2h business", utc(2026, 3, 30, 8)),
    ("Madrid office, Good Friday", MADRID_OFFICE, mad(2026, 4, 2, 17), "2h business", mad(2026, 4, 6, 10)),
    # America/Sao_Paulo: no DST any more, 24h business == 1d business == 24 real hours
    ("SP 24/7: old DST start date", SP_247, sp(2026, 11, 1, 12), "24h business", utc(2026, 11, 2, 15)),
    ("SP 24/7: 1d, old DST start", SP_247, sp(2026, 11, 1, 12), "1d business", utc(2026, 11, 2, 15)),
    ("SP 24/7: old DST end date", SP_247, sp(2026, 2, 21, 12), "1d business", utc(2026, 2, 22, 15)),
]


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "due"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_add(calendar: Calendar, start: datetime, duration: str, due: datetime) -> None:
    result = calendar.add(start, parse_duration(duration))
    assert result == due
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "due"),
    [case[1:] for case in CASES if "business" in case[3] and "d" not in case[3]],
    ids=[case[0] for case in CASES if "business" in case[3] and "d" not in case[3]],
)
def test_open_seconds_between_the_cases(calendar: Calendar, start: datetime, duration: str, due: datetime) -> None:
    assert calendar.open_seconds_between(start, due) == parse_duration(duration).amount.total_seconds()


@pytest.mark.parametrize(
    ("calendar", "start", "end", "hours"),
    [
        (NY_247, ny(2026, 3, 8), ny(2026, 3, 9), 23),
        (NY_247, ny(2026, 11, 1), ny(2026, 11, 2), 25),
        (NY_247, ny(2026, 3, 9), ny(2026, 3, 10), 24),
        (SP_247, sp(2026, 11, 1), sp(2026, 11, 2), 24),
        (MADRID_247, mad(2026, 3, 29), mad(2026, 3, 30), 23),
        (MADRID_247, mad(2026, 10, 25), mad(2026, 10, 26), 25),
        (LISBON_NIGHTS, lis(2026, 3, 29), lis(2026, 3, 29, 12), 5),
        (LISBON_NIGHTS, lis(2026, 10, 25), lis(2026, 10, 25, 12), 7),
        (BR, sp(2026, 3, 2), sp(2026, 3, 9), 5 * 9 + 4),  # a week
        (BR, sp(2026, 4, 20), sp(2026, 4, 27), 4 * 9 + 4),  # with Tiradentes
        (US, ny(2026, 3, 6, 15), ny(2026, 3, 9, 11), 4),
        (BR, sp(2026, 3, 2, 18), sp(2026, 3, 3, 9), 0),  # overnight
        (BR, sp(2026, 3, 3, 13), sp(2026, 3, 2, 18), -4),  # reversed: negative
        (BR, sp(2026, 3, 3, 13), sp(2026, 3, 3, 13), 0),
    ],
)
def test_open_seconds_between(calendar: Calendar, start: datetime, end: datetime, hours: int) -> None:
    assert calendar.open_seconds_between(start, end) == hours * 3600


@pytest.mark.parametrize(
    ("calendar", "at", "is_open", "next_open"),
    [
        (BR, sp(2026, 3, 2, 8, 59, 59), False, sp(2026, 3, 2, 9)),
        (BR, sp(2026, 3, 2, 9), True, sp(2026, 3, 2, 9)),
        (BR, sp(2026, 3, 2, 17, 59, 59), True, sp(2026, 3, 2, 17, 59, 59)),
        (BR, sp(2026, 3, 2, 18), False, sp(2026, 3, 3, 9)),
        (BR, sp(2026, 3, 7, 12), True, sp(2026, 3, 7, 12)),
        (BR, sp(2026, 3, 7, 13), False, sp(2026, 3, 9, 9)),
        (BR, sp(2026, 4, 21, 10), False, sp(2026, 4, 22, 9)),
        (BR, sp(2026, 12, 24, 18), False, sp(2026, 12, 26, 9)),
        (LUNCH, sp(2026, 3, 2, 12, 15), False, sp(2026, 3, 2, 13)),
        (US, ny(2026, 7, 3, 10), False, ny(2026, 7, 6, 9)),
        (US, utc(2026, 3, 9, 13), True, utc(2026, 3, 9, 13)),  # 09:00 EDT
        (US, utc(2026, 3, 6, 13), False, utc(2026, 3, 6, 14)),  # 08:00 EST, opens 14:00Z
        (NY_247, ny(2026, 3, 8, 3), True, ny(2026, 3, 8, 3)),
        (WALL_CLOCK, utc(2026, 1, 1), True, utc(2026, 1, 1)),
    ],
)
def test_is_open_and_next_open(calendar: Calendar, at: datetime, is_open: bool, next_open: datetime) -> None:
    assert calendar.is_open(at) is is_open
    assert calendar.next_open(at) == next_open
    assert calendar.next_open(at).tzinfo is UTC


PROPERTY_CALENDARS = [BR, LUNCH, MIXED, US, NY_247, LISBON_NIGHTS, MADRID_OFFICE, MADRID_247, WALL_CLOCK]


def test_open_seconds_between_inverts_add() -> None:
    rng = random.Random(20260308)
    origin = utc(2025, 12, 1)
    for _ in range(600):
        calendar = rng.choice(PROPERTY_CALENDARS)
        start = origin + timedelta(seconds=rng.randrange(400 * 86400))
        if rng.random() < 0.2:  # exactly on the hour, as openings and closings are
            start = start.replace(minute=0, second=0)
        duration = Duration(timedelta(seconds=rng.choice([rng.randrange(1, 7200), rng.randrange(1, 300 * 3600)])), True)
        due = calendar.add(start, duration)
        context = f"{calendar.name} {start.isoformat()} + {duration}"
        assert due > start, context
        assert calendar.open_seconds_between(start, due) == duration.amount.total_seconds(), context
        assert calendar.is_open(due - timedelta(microseconds=1)), context  # due at the earliest


def test_business_days_land_on_open_days() -> None:
    rng = random.Random(7)
    for _ in range(200):
        calendar = rng.choice([BR, LUNCH, MIXED, US, NY_247, MADRID_OFFICE])
        start = utc(2026, 1, 1) + timedelta(seconds=rng.randrange(365 * 86400))
        days = rng.randrange(1, 12)
        due = calendar.add(start, parse_duration(f"{days}d business"))
        first = calendar.next_open(start).astimezone(calendar.tz).date()
        target = due.astimezone(calendar.tz).date()
        walked = [first + timedelta(days=n) for n in range(1, (target - first).days + 1)]
        open_days = [d for d in walked if calendar.open_seconds_between(*_day_bounds(calendar, d)) > 0]
        assert len(open_days) == days and open_days[-1] == target, (calendar.name, start, days, due)


def _day_bounds(calendar: Calendar, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=calendar.tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.tz)


def test_naive_datetimes_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be timezone-aware"):
        BR.add(datetime(2026, 3, 2, 10), parse_duration("4h business"))
    with pytest.raises(TypeError):
        BR.is_open(datetime(2026, 3, 2, 10))
    with pytest.raises(TypeError):
        BR.next_open(datetime(2026, 3, 2, 10))
    with pytest.raises(TypeError):
        BR.open_seconds_between(sp(2026, 3, 2), datetime(2026, 3, 3))


def test_calendar_without_open_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="^calendar empty has no open hours$"):
        Calendar("empty", SAO_PAULO, parse_hours({}))
    with pytest.raises(ValueError, match="^calendar closed has no open hours$"):
        Calendar("closed", SAO_PAULO, parse_hours({"mon-sun": "closed"}))


class _AlwaysHoliday(Calendar):
    def _is_holiday(self, day: date) -> bool:
        return True


def test_search_for_an_opening_is_bounded() -> None:
    never = _AlwaysHoliday("never", SAO_PAULO, parse_hours({"mon-fri": "09:00-18:00"}))
    message = "^calendar never has no open hours in the 5 years after 2026-03-02$"
    with pytest.raises(ValueError, match=message):
        never.add(sp(2026, 3, 2, 10), parse_duration("4h business"))
    with pytest.raises(ValueError, match=message):
        never.add(sp(2026, 3, 2, 10), parse_duration("1d business"))
    with pytest.raises(ValueError, match=message):
        never.next_open(sp(2026, 3, 2, 10))
    assert never.open_seconds_between(sp(2026, 3, 2), sp(2036, 3, 2)) == 0


def test_calendars_are_values() -> None:
    again = Calendar("default", SAO_PAULO, parse_hours({"mon-fri": "09:00-18:00", "sat": "09:00-13:00"}), "BR")
    BR.add(sp(2026, 3, 2), parse_duration("4h business"))  # fills BR's caches
    assert again == BR and hash(again) == hash(BR)
    assert WALL_CLOCK == Calendar.always_open() and WALL_CLOCK.name == "wall"
    assert Calendar("x", SAO_PAULO, parse_hours({"mon": "09:00-10:00"}), "br-sp").holidays_code == "BR-SP"


def test_subdivision_holidays() -> None:
    # 07-09 (Constitutionalist Revolution) is a holiday in the state of Sao Paulo only.
    state = Calendar("sp", SAO_PAULO, parse_hours({"mon-fri": "09:00-18:00"}), "BR-SP")
    assert not state.is_open(sp(2026, 7, 9, 10)) and BR.is_open(sp(2026, 7, 9, 10))


# ---------------------------------------------------------------------------------- parsing

DURATIONS = [
    ("4h", timedelta(hours=4), False, "4h"),
    ("30m", timedelta(minutes=30), False, "30m"),
    ("2d", timedelta(days=2), False, "2d"),
    ("45s", timedelta(seconds=45), False, "45s"),
    ("1d 4h", timedelta(days=1, hours=4), False, "1d 4h"),
    ("1h30m", timedelta(hours=1, minutes=30), False, "1h 30m"),
    ("4h business", timedelta(hours=4), True, "4h business"),
    ("2d business", timedelta(days=2), True, "2d business"),
    ("1d 4h business", timedelta(days=1, hours=4), True, "1d 4h business"),
    ("  1H30M   Business ", timedelta(hours=1, minutes=30), True, "1h 30m business"),
    ("48h", timedelta(days=2), False, "48h"),
    ("90m", timedelta(minutes=90), False, "1h 30m"),
    ("365d", timedelta(days=365), False, "365d"),
]


@pytest.mark.parametrize(("text", "amount", "business", "canonical"), DURATIONS)
def test_parse_duration(text: str, amount: timedelta, business: bool, canonical: str) -> None:
    duration = parse_duration(text)
    assert (duration.amount, duration.business, str(duration)) == (amount, business, canonical)
    assert parse_duration(str(duration)) == duration


def test_days_and_hours_differ_in_business_time() -> None:
    assert parse_duration("1d business") != parse_duration("24h business")
    assert parse_duration("1d business").days == 1 and parse_duration("24h business").days == 0


EXPECTED_DURATION = 'must be a duration like 4h, 30m, 2d or 45s, optionally followed by "business"'

DURATION_ERRORS = [
    ("4 hours", f'{EXPECTED_DURATION} (got "4 hours")'),
    ("", f'{EXPECTED_DURATION} (got "")'),
    ("business", f'{EXPECTED_DURATION} (got "business")'),
    ("4hbusiness", f'{EXPECTED_DURATION} (got "4hbusiness")'),
    ("4 h", f'{EXPECTED_DURATION} (got "4 h")'),
    ("1h30", f'{EXPECTED_DURATION} (got "1h30")'),
    ("4h business please", f'{EXPECTED_DURATION} (got "4h business please")'),
    ("0h", 'must be longer than zero (got "0h")'),
    ("0d 0s business", 'must be longer than zero (got "0d 0s business")'),
    ("-4h", 'must be longer than zero (got "-4h")'),
    ("2w", 'must use the units d, h, m and s, not w (got "2w")'),
    ("1.5h", 'must use whole numbers, like 1h 30m (got "1.5h")'),
    ("30m 1h", 'must give each unit once, largest first, like 1d 4h or 1h30m (got "30m 1h")'),
    ("1h 1h", 'must give each unit once, largest first, like 1d 4h or 1h30m (got "1h 1h")'),
    ("366d", 'must be at most 365d (got "366d")'),
    ("99999999999999999999h", 'must be at most 365d (got "99999999999999999999h")'),
]


@pytest.mark.parametrize(("text", "message"), DURATION_ERRORS)
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_duration(text)
    assert str(error.value) == message


NINE_SIX = (time(9), time(18))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"mon-fri": "09:00-18:00"}, {0: (NINE_SIX,), 4: (NINE_SIX,), 5: (), 6: ()}),
        ({"sat": "09:00-13:00", "sun": "closed"}, {5: ((time(9), time(13)),), 6: (), 0: ()}),
        ({"mon,wed": "09:00-12:00, 13:00-18:00"}, {0: ((time(9), time(12)), (time(13), time(18))), 1: ()}),
        ({"mon-tue, fri": "13:00-18:00,9:00-12:00"}, {1: ((time(9), time(12)), (time(13), time(18))), 3: ()}),
        ({"mon-sun": "00:00-24:00"}, {day: ((time(0), time(0)),) for day in range(7)}),
        ({"Sat - Sun": "22:00-24:00"}, {5: ((time(22), time(0)),), 6: ((time(22), time(0)),)}),
        ({"mon": "09:00-12:00, 12:00-18:00"}, {0: ((time(9), time(12)), (time(12), time(18)))}),
    ],
)
def test_parse_hours(spec: dict[str, str], expected: dict[int, tuple[tuple[time, time], ...]]) -> None:
    hours = parse_hours(spec)
    assert set(hours) == set(range(7))
    assert {day: hours[day] for day in expected} == expected


EXPECTED_HOURS = 'must be opening hours like "09:00-18:00" or "09:00-12:00, 13:00-18:00"'
EXPECTED_DAYS = "must be days like mon, mon-fri or mon,wed (days: mon, tue, wed, thu, fri, sat, sun)"
BAD_TIME = "must use times from 00:00 to 23:59, or 24:00 as an end"

HOURS_ERRORS = [
    ({"mun": "09:00-18:00"}, f'{EXPECTED_DAYS} (got "mun")'),
    ({"monday": "09:00-18:00"}, f'{EXPECTED_DAYS} (got "monday")'),
    ({"mon-": "09:00-18:00"}, f'{EXPECTED_DAYS} (got "mon-")'),
    ({"mon,": "09:00-18:00"}, f'{EXPECTED_DAYS} (got "mon,")'),
    ({1: "09:00-18:00"}, f"{EXPECTED_DAYS} (got 1)"),
    ({"fri-mon": "09:00-18:00"}, '"fri-mon": must run from an earlier to a later day, like mon-fri or sat-sun (got "fri-mon")'),
    ({"mon-fri": "09:00-18:00", "fri": "09:00-12:00"}, '"fri": must not repeat fri, already given in "mon-fri" (got fri twice)'),
    ({"mon,mon": "09:00-18:00"}, '"mon,mon": must not repeat mon, already given in "mon,mon" (got mon twice)'),
    ({"mon": "18:00-09:00"}, '"mon": must close after it opens (got "18:00-09:00")'),
    ({"mon": "09:00-09:00"}, '"mon": must close after it opens (got "09:00-09:00")'),
    ({"mon": "22:00-00:00"}, '"mon": must close after it opens; write 24:00 for midnight (got "22:00-00:00")'),
    ({"mon": "09:00-13:00, 12:00-18:00"}, '"mon": must not have overlapping intervals (got "09:00-13:00, 12:00-18:00")'),
    ({"mon": "13:00-18:00, 09:00-14:00"}, '"mon": must not have overlapping intervals (got "13:00-18:00, 09:00-14:00")'),
    ({"mon": "25:00-26:00"}, f'"mon": {BAD_TIME} (got "25:00-26:00")'),
    ({"mon": "24:00-24:00"}, f'"mon": {BAD_TIME} (got "24:00-24:00")'),
    ({"mon": "09:60-18:00"}, f'"mon": {BAD_TIME} (got "09:60-18:00")'),
    ({"mon": "09:00-24:30"}, f'"mon": {BAD_TIME} (got "09:00-24:30")'),
    ({"mon": "9-18"}, f'"mon": {EXPECTED_HOURS} (got "9-18")'),
    ({"mon": "09:00 to 18:00"}, f'"mon": {EXPECTED_HOURS} (got "09:00 to 18:00")'),
    ({"mon": "09:00-18:00,"}, f'"mon": {EXPECTED_HOURS} (got "09:00-18:00,")'),
    ({"mon": ""}, f'"mon": {EXPECTED_HOURS} (got "")'),
    ({"mon": ["09:00-18:00"]}, f'"mon": {EXPECTED_HOURS} (got a list)'),
    ({"mon": 900}, f'"mon": {EXPECTED_HOURS} (got 900)'),
    (["mon"], 'must be a mapping of days to hours, like {mon-fri: "09:00-18:00"} (got a list)'),
]


@pytest.mark.parametrize(("spec", "message"), HOURS_ERRORS)
def test_parse_hours_errors(spec: object, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_hours(spec)  # type: ignore[arg-type]
    assert str(error.value) == message


def test_parse_timezone() -> None:
    assert parse_timezone("America/Sao_Paulo") == SAO_PAULO


UNKNOWN_ZONE = "unknown time zone; expected an IANA name like America/Sao_Paulo or Europe/Lisbon"


@pytest.mark.parametrize("name", ["America/SaoPaulo", "america/sao_paulo", "", "America", "../etc/passwd", "/etc/localtime"])
def test_parse_timezone_errors(name: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_timezone(name)
    assert str(error.value) == f'{UNKNOWN_ZONE} (got "{name}")'


@pytest.mark.parametrize(
    ("code", "canonical"),
    [("BR", "BR"), ("br", "BR"), ("BR-SP", "BR-SP"), ("br-sp", "BR-SP"), ("US-CA", "US-CA"), ("PT", "PT"), ("ES", "ES")],
)
def test_parse_holidays(code: str, canonical: str) -> None:
    assert parse_holidays(code) == canonical


KNOWN_COUNTRY = "must be a country code known to the holidays package, like BR or US-CA"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", f'{KNOWN_COUNTRY} (got "")'),
        ("BZZ", f'{KNOWN_COUNTRY}; did you mean BZ? (got "BZZ")'),
        ("Brasil", f'{KNOWN_COUNTRY}; did you mean BR (Brazil)? (got "Brasil")'),
        ("Portugal", f'{KNOWN_COUNTRY}; did you mean PT (Portugal)? (got "Portugal")'),
        ("Xanadu", f'{KNOWN_COUNTRY} (got "Xanadu")'),
        ("BR-S", 'must be a subdivision of BR known to the holidays package (AC, AL, AM, ...); did you mean SP, SE, SC? (got "BR-S")'),
        ("BR-XX", 'must be a subdivision of BR known to the holidays package (AC, AL, AM, ...) (got "BR-XX")'),
        ("BR-", 'must be a subdivision of BR known to the holidays package (AC, AL, AM, ...) (got "BR-")'),
        ("AL-X", 'must be AL alone: the holidays package knows no subdivisions of it (got "AL-X")'),
    ],
)
def test_parse_holidays_errors(code: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_holidays(code)
    assert str(error.value) == message


# --------------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("seconds", "en", "pt", "es"),
    [
        (7500, "2 hours 5 minutes", "2 horas 5 minutos", "2 horas 5 minutos"),
        (60, "1 minute", "1 minuto", "1 minuto"),
        (90000, "1 day 1 hour", "1 dia 1 hora", "1 día 1 hora"),
        (59.9, "less than a minute", "menos de um minuto", "menos de un minuto"),
        (0, "less than a minute", "menos de um minuto", "menos de un minuto"),
        (3600, "1 hour", "1 hora", "1 hora"),
        (3660, "1 hour 1 minute", "1 hora 1 minuto", "1 hora 1 minuto"),
        (86460, "1 day", "1 dia", "1 día"),
        (2 * 86400 + 7200, "2 days 2 hours", "2 dias 2 horas", "2 días 2 horas"),
        (-7500, "2 hours 5 minutes", "2 horas 5 minutos", "2 horas 5 minutos"),
    ],
)
def test_format_span(seconds: float, en: str, pt: str, es: str) -> None:
    assert (format_span(seconds, "en"), format_span(seconds, "pt"), format_span(seconds, "es")) == (en, pt, es)


def test_format_span_language_fallback() -> None:
    assert format_span(60, "pt-BR") == "1 minuto"
    assert format_span(60, "fr") == "1 minute"
