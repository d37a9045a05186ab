"""The Chinese working calendar and due-time arithmetic: pure functions, no database.

A work order's clocks (sign-in, handling, verification, callback) run in working hours or working days
on a `WorkingCalendar`, or in natural hours for urgent matters. Everything here takes and returns
timezone-aware datetimes; the calendar's own timezone (Asia/Shanghai) is used only inside, to decide
which local day and which local hours an instant falls in. Results are returned in UTC, as stored.

Invariants the tests hold us to (tests/kit/test_calendar.py):

- `due` is monotone in the amount and additive: due(due(t, a), b) == due(t, a + b). That is why a due
  time landing exactly on the end of a working period stays there (12:00, not 14:00): the next
  addition starts from that end and skips the lunch break itself.
- `working_seconds_between(t, due(t, a)) == a`, so the time a suspension used can be measured and
  added back with `add_working_seconds` without drifting.
- The per-call cost is a short loop over calendar days (whole working days are jumped over in one
  step) with cached day lookups, so a sweep over thousands of orders with 60-working-day limits stays
  cheap.
"""

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

from zhili.kit.i18n import N_, _

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))

# Holidays on fixed Gregorian dates under the 全国年节及纪念日放假办法 as revised in 2024 (in force from
# 2025): 元旦 1 Jan, 劳动节 1–2 May, 国庆节 1–3 Oct. The lunar and solar-term holidays (春节, 清明, 端午,
# 中秋) and every adjusted working day (调休) are announced by the State Council each winter; until
# chinese-calendar ships them, admins enter that year's schedule as overrides.
FALLBACK_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


@lru_cache(maxsize=8192)
def statutory_workday(day: date) -> bool:
    """Whether `day` is a working day by the national schedule, before any local override.

    Cached process-wide: every calendar (whatever its overrides) shares these answers, so building a
    calendar per request costs nothing.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Years the library has no data for (not announced yet, or before 2004): weekdays minus the
        # fixed-date holidays. Wrong around 春节 and on 调休 days until admins add overrides, but never
        # a crash in the middle of a deadline sweep.
        return day.weekday() < 5 and (day.month, day.day) not in FALLBACK_HOLIDAYS


def parse_periods(text: str) -> tuple[tuple[time, time], ...]:
    """Working periods from configuration text such as "08:30-12:00,14:00-17:30"."""
    periods = []
    for part in text.split(","):
        start, sep, end = part.strip().partition("-")
        if not sep:
            raise ValueError(f"working period {part.strip()!r} is not written as HH:MM-HH:MM")
        periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return tuple(periods)


@dataclass(frozen=True, eq=False)
class WorkingCalendar:
    """When the clock runs: working periods of a working day, in a timezone, with local overrides.

    `overrides` are local decisions (a date made a working day: True, or a holiday: False) and win over
    the national schedule. They are also how admins enter a year chinese-calendar does not cover yet.
    Immutable; the per-date caches fill lazily and never change an answer.
    """

    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    timezone: tzinfo = SHANGHAI
    overrides: Mapping[date, bool] = field(default_factory=dict)
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        periods = tuple((start, end) for start, end in self.periods)
        if not periods:
            raise ValueError("a working calendar needs at least one working period")
        for (start, end), following in zip(periods, (*periods[1:], None), strict=True):
            if not start < end:
                raise ValueError(f"working period {start}-{end} does not end after it starts")
            if following is not None and following[0] < end:
                raise ValueError("working periods must be in order and must not overlap")
        # Copy the overrides so that a caller mutating its dict cannot change cached answers.
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def _key(self) -> tuple[object, ...]:
        return (self.periods, str(self.timezone), frozenset(self.overrides.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingCalendar) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def day_seconds(self) -> int:
        """Nominal working time of one working day (7 h by default): the length of a working day."""
        return sum(_clock_seconds(end) - _clock_seconds(start) for start, end in self.periods)

    def is_workday(self, day: date) -> bool:
        override = self.overrides.get(day)
        return statutory_workday(day) if override is None else override

    def working_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of a local day as UTC instants; empty on a day off. Cached per date."""
        cached = self._days.get(day)
        if cached is None:
            if self.is_workday(day):
                # Subtracting aware datetimes that share a tzinfo ignores their offsets, so bounds are
                # converted to UTC before any arithmetic; that keeps a DST zone correct too.
                cached = tuple(
                    (
                        datetime.combine(day, start, self.timezone).astimezone(UTC),
                        datetime.combine(day, end, self.timezone).astimezone(UTC),
                    )
                    for start, end in self.periods
                )
            else:
                cached = ()
            self._days[day] = cached
        return cached

    def _intervals_from(self, instant: datetime) -> Iterator[tuple[date, tuple[tuple[datetime, datetime], ...]]]:
        """Local days from the one `instant` falls in, onwards, each with its working intervals."""
        day = instant.astimezone(self.timezone).date()
        while True:
            yield day, self.working_intervals(day)
            day += timedelta(days=1)


class TimeUnit(StrEnum):
    working_hours = "working_hours"
    working_days = "working_days"
    natural_hours = "natural_hours"


_SHORT = {TimeUnit.working_hours: "wh", TimeUnit.working_days: "wd", TimeUnit.natural_hours: "h"}
_LABELS = {
    TimeUnit.working_hours: N_("{n} 个工作时"),
    TimeUnit.working_days: N_("{n} 个工作日"),
    TimeUnit.natural_hours: N_("{n} 小时"),
}
# What people type: the short codes, and the Chinese labels with or without 个 and spaces.
_UNIT_WORDS = {
    "wh": TimeUnit.working_hours,
    "工作时": TimeUnit.working_hours,
    "工作小时": TimeUnit.working_hours,
    "wd": TimeUnit.working_days,
    "工作日": TimeUnit.working_days,
    "h": TimeUnit.natural_hours,
    "小时": TimeUnit.natural_hours,
}
_LIMIT_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*个?\s*(wh|wd|h|工作时|工作小时|工作日|小时)\s*$", re.IGNORECASE)


def _number(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else repr(float(amount))


@dataclass(frozen=True)
class Limit:
    """A time limit such as 4 working hours (暴露垃圾) or 15 working days (违法搭建).

    Stored and configured as short text ("4wh", "15wd", "2h"); shown as "4 个工作时".
    """

    amount: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        if not (math.isfinite(self.amount) and self.amount > 0):
            raise ValueError(_("时限必须大于零"))
        object.__setattr__(self, "unit", TimeUnit(self.unit))

    @classmethod
    def parse(cls, text: str) -> "Limit":
        match = _LIMIT_TEXT.match(text)
        if match is None:
            raise ValueError(_("时限“{text}”无法识别，应写作 4wh、15wd 或 2h", text=text))
        return cls(float(match.group(1)), _UNIT_WORDS[match.group(2).lower()])

    def __str__(self) -> str:
        return f"{_number(self.amount)}{_SHORT[self.unit]}"

    def label(self) -> str:
        """For people, in the caller's locale: "4 个工作时" / "4 working hour(s)"."""
        return _(_LABELS[self.unit], n=_number(self.amount))

    def seconds(self, calendar: WorkingCalendar) -> int:
        """The allowed time in whole seconds: working seconds, or natural seconds for natural hours.

        Whole seconds keep the arithmetic exact (no float dust breaking additivity). A working day is
        `calendar.day_seconds` of working time, so "15 working days" falls due at the same working
        moment 15 working days later, and working days and working hours add up with each other.
        """
        per_unit = calendar.day_seconds if self.unit is TimeUnit.working_days else 3600
        return round(self.amount * per_unit)


def _clock_seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _utc(instant: datetime, name: str) -> datetime:
    # Naive datetimes are refused rather than guessed: SQLite returns them, and kit.time.aware() is the
    # one place that decides they are UTC.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return instant.astimezone(UTC)


def add_working_seconds(start: datetime, seconds: float, calendar: WorkingCalendar) -> datetime:
    """The instant when `seconds` of working time have passed since `start`, in UTC.

    Outside working time the clock starts at the next working moment. The result lands either inside a
    working period or exactly on a period's end, never in a break. Zero seconds returns `start`. Used
    directly to push a due time back by the working time an order spent suspended.
    """
    cursor = _utc(start, "start")
    remaining = timedelta(seconds=seconds)
    if remaining <= timedelta(0):
        return cursor
    for _day, intervals in calendar._intervals_from(cursor):
        if not intervals:
            continue
        if cursor <= intervals[0][0]:
            # A whole working day ahead: when it cannot absorb the rest, skip it in one step.
            whole = sum((end - begin for begin, end in intervals), timedelta(0))
            if remaining > whole:
                remaining -= whole
                cursor = intervals[-1][1]
                continue
        for period_start, period_end in intervals:
            if period_end <= cursor:
                continue
            begin = max(cursor, period_start)
            available = period_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = period_end
    raise AssertionError("unreachable: the day iterator is endless")


def due(start: datetime, limit: Limit, calendar: WorkingCalendar) -> datetime:
    """When a clock started at `start` with `limit` runs out, in UTC."""
    if limit.unit is TimeUnit.natural_hours:
        return _utc(start, "start") + timedelta(seconds=limit.seconds(calendar))
    return add_working_seconds(start, limit.seconds(calendar), calendar)


def working_seconds_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> float:
    """Working time elapsed from `a` to `b`, in seconds; 0 when `b` is not after `a`."""
    begin, end = _utc(a, "a"), _utc(b, "b")
    if end <= begin:
        return 0.0
    last_day = end.astimezone(calendar.timezone).date()
    total = timedelta(0)
    for day, intervals in calendar._intervals_from(begin):
        for period_start, period_end in intervals:
            overlap = min(end, period_end) - max(begin, period_start)
            if overlap > timedelta(0):
                total += overlap
        if day >= last_day:
            break
    return total.total_seconds()


def elapsed_share(start: datetime, due: datetime, at: datetime, calendar: WorkingCalendar, unit: TimeUnit) -> float:
    """Share of the allowed time used at `at`: 0 at the start, 1 at the due time, above 1 when overdue.

    Working units measure working time (a night or a holiday uses none of it); natural hours measure
    the clock. A suspended order: pass `start` pushed forward by the working time it was suspended
    (`add_working_seconds`), as the due time is, so that the suspension counts in neither.
    """
    if unit is TimeUnit.natural_hours:
        allowed = (_utc(due, "due") - _utc(start, "start")).total_seconds()
        used = max(0.0, (_utc(at, "at") - _utc(start, "start")).total_seconds())
    else:
        allowed = working_seconds_between(start, due, calendar)
        used = working_seconds_between(start, at, calendar)
    if allowed <= 0:
        return 1.0 if at >= due else 0.0
    return used / allowed


class Colour(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"


def deadline_colour(
    start: datetime,
    due: datetime,
    at: datetime,
    calendar: WorkingCalendar,
    unit: TimeUnit,
    warn_share: float = 0.8,
) -> Colour:
    """Red once `at` is past the due time; yellow from `warn_share` of the allowed time used."""
    if at > due:
        return Colour.red
    if elapsed_share(start, due, at, calendar, unit) >= warn_share:
        return Colour.yellow
    return Colour.green
