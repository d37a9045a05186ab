"""The working calendar and due-time arithmetic, on real 2025–2026 dates and as hypothesis properties.

Holiday facts used below come from chinese-calendar's data (chinese_calendar.holidays / .workdays):
2026 春节 is 15–23 Feb with Saturdays 14 Feb and 28 Feb worked (调休); 2026 国庆 is 1–7 Oct with
Sunday 20 Sep and Saturday 10 Oct worked.
"""

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.kit import i18n
from zhili.kit.calendar import (
    SHANGHAI,
    Colour,
    Limit,
    TimeUnit,
    WorkingCalendar,
    add_working_seconds,
    deadline_colour,
    due,
    elapsed_share,
    parse_periods,
    statutory_workday,
    working_seconds_between,
)

CAL = WorkingCalendar()


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


# ---------------------------------------------------------------- the library's data, as the tests assume it


def test_the_2026_holiday_data_is_what_these_tests_assume():
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 15)) == (True, "Spring Festival")
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 23)) == (True, "Spring Festival")
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 14)) == (False, "Spring Festival")  # worked Saturday
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 7)) == (True, "National Day")
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 10)) == (False, "National Day")  # worked Saturday


# ---------------------------------------------------------------- due times on real dates

DUE_CASES = [
    pytest.param(local(2025, 3, 14, 16, 30), "4wh", local(2025, 3, 17, 11, 30), id="friday-afternoon-over-a-weekend"),
    pytest.param(local(2026, 2, 13, 16, 30), "4wh", local(2026, 2, 14, 11, 30), id="adjusted-saturday-is-worked"),
    pytest.param(local(2026, 2, 14, 16, 30), "4wh", local(2026, 2, 24, 11, 30), id="spring-festival-skipped"),
    pytest.param(local(2026, 2, 12, 9, 0), "5wd", local(2026, 2, 26, 9, 0), id="working-days-across-spring-festival"),
    pytest.param(local(2026, 2, 27, 16, 0), "1wd", local(2026, 2, 28, 16, 0), id="second-adjusted-saturday"),
    pytest.param(local(2026, 9, 30, 16, 30), "4wh", local(2026, 10, 8, 11, 30), id="national-day-skipped"),
    pytest.param(local(2026, 9, 30, 16, 30), "2wd", local(2026, 10, 9, 16, 30), id="two-days-over-national-day"),
    pytest.param(local(2026, 9, 18, 16, 30), "2wh", local(2026, 9, 20, 9, 30), id="adjusted-sunday-is-worked"),
    pytest.param(local(2025, 3, 3, 10, 0), "15wd", local(2025, 3, 24, 10, 0), id="fifteen-working-days"),
    pytest.param(local(2025, 3, 5, 12, 30), "1wh", local(2025, 3, 5, 15, 0), id="lunch-start-counts-from-14"),
    pytest.param(local(2025, 3, 5, 21, 0), "1wh", local(2025, 3, 6, 9, 30), id="evening-start-counts-next-morning"),
    pytest.param(local(2025, 3, 5, 3, 0), "1wh", local(2025, 3, 5, 9, 30), id="night-start-counts-same-morning"),
    pytest.param(local(2025, 3, 8, 10, 0), "1wh", local(2025, 3, 10, 9, 30), id="weekend-start-counts-monday"),
    pytest.param(local(2025, 3, 5, 8, 30), "3.5wh", local(2025, 3, 5, 12, 0), id="lands-on-period-end-not-14"),
    pytest.param(local(2025, 3, 5, 8, 30), "7wh", local(2025, 3, 5, 17, 30), id="lands-on-day-end"),
    pytest.param(local(2025, 3, 5, 11, 0), "1.5wh", local(2025, 3, 5, 14, 30), id="spans-lunch"),
    pytest.param(local(2025, 3, 14, 16, 30), "2h", local(2025, 3, 14, 18, 30), id="natural-hours-ignore-closing"),
    pytest.param(local(2026, 2, 14, 22, 0), "24h", local(2026, 2, 15, 22, 0), id="natural-hours-ignore-holidays"),
]


@pytest.mark.parametrize(("start", "limit", "expected"), DUE_CASES)
def test_due_on_real_dates(start: datetime, limit: str, expected: datetime):
    result = due(start, Limit.parse(limit), CAL)
    assert result == expected
    assert result.tzinfo == UTC  # the platform stores UTC


def test_a_local_holiday_override_moves_the_due_time():
    start = local(2025, 3, 14, 16, 30)
    closed_monday = WorkingCalendar(overrides={date(2025, 3, 17): False})
    assert due(start, Limit.parse("4wh"), closed_monday) == local(2025, 3, 18, 11, 30)


def test_a_local_working_day_override_counts():
    worked_saturday = WorkingCalendar(overrides={date(2025, 3, 15): True})
    assert due(local(2025, 3, 14, 16, 30), Limit.parse("4wh"), worked_saturday) == local(2025, 3, 15, 11, 30)


def test_an_override_wins_over_the_statutory_schedule():
    # 2026-02-14 is an adjusted working Saturday nationally; a region may still close that day.
    closed = WorkingCalendar(overrides={date(2026, 2, 14): False})
    assert not closed.is_workday(date(2026, 2, 14))
    assert due(local(2026, 2, 13, 16, 30), Limit.parse("4wh"), closed) == local(2026, 2, 24, 11, 30)


def test_a_year_outside_the_library_uses_the_fixed_date_fallback():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2030, 10, 1))  # the premise: 2030 is not in the library's data
    assert not statutory_workday(date(2030, 1, 1))  # Tuesday, 元旦
    assert not statutory_workday(date(2030, 5, 2))  # Thursday, 劳动节 second day
    assert not statutory_workday(date(2030, 10, 3))  # Thursday, 国庆
    assert statutory_workday(date(2030, 10, 4))
    assert not statutory_workday(date(2030, 10, 5))  # Saturday
    # Monday 30 Sep 2030 16:30: one hour that day, 1–3 Oct off, the rest on Friday 4 Oct.
    assert due(local(2030, 9, 30, 16, 30), Limit.parse("4wh"), CAL) == local(2030, 10, 4, 11, 30)


def test_admins_enter_an_unannounced_year_as_overrides():
    # 2030 春节 (3 Feb) is lunar and unknown to the fallback: the region closes the week by override.
    spring = WorkingCalendar(overrides={date(2030, 2, 4) + timedelta(days=i): False for i in range(5)})
    assert due(local(2030, 2, 1, 16, 30), Limit.parse("4wh"), spring) == local(2030, 2, 11, 11, 30)


def test_the_clock_crosses_from_library_data_into_the_fallback():
    # Thursday 31 Dec 2026 16:30: 1 Jan 2027 (Friday) is a fallback holiday, then the weekend.
    assert due(local(2026, 12, 31, 16, 30), Limit.parse("4wh"), CAL) == local(2027, 1, 4, 11, 30)


def test_other_working_hours_and_timezones():
    cal = WorkingCalendar(periods=parse_periods("09:00-12:00, 13:00-18:00"))
    assert cal.day_seconds == 8 * 3600
    assert due(local(2025, 3, 5, 17, 0), Limit.parse("1wd"), cal) == local(2025, 3, 6, 17, 0)
    # The due time is an instant: the same order seen from another timezone falls due at the same moment.
    start_in_utc = local(2025, 3, 14, 16, 30).astimezone(UTC)
    assert due(start_in_utc, Limit.parse("4wh"), CAL) == local(2025, 3, 17, 11, 30)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        due(datetime(2025, 3, 5, 9, 0), Limit.parse("1wh"), CAL)
    with pytest.raises(ValueError):
        working_seconds_between(datetime(2025, 3, 5), local(2025, 3, 6), CAL)


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(12), time(8, 30)),),
        ((time(14), time(17)), (time(8, 30), time(12))),
        ((time(8), time(13)), (time(12), time(17))),
    ],
    ids=["empty", "backwards", "out-of-order", "overlapping"],
)
def test_bad_working_periods_are_refused(periods):
    with pytest.raises(ValueError):
        WorkingCalendar(periods=periods)


def test_the_calendar_keeps_its_own_copy_of_the_overrides():
    overrides = {date(2025, 3, 17): False}
    cal = WorkingCalendar(overrides=overrides)
    overrides[date(2025, 3, 17)] = True
    assert not cal.is_workday(date(2025, 3, 17))
    assert cal == WorkingCalendar(overrides={date(2025, 3, 17): False})
    assert hash(cal) == hash(WorkingCalendar(overrides={date(2025, 3, 17): False}))
    assert cal != CAL


# ---------------------------------------------------------------- working time between two instants


def test_working_seconds_between():
    assert working_seconds_between(local(2025, 3, 14, 16, 30), local(2025, 3, 17, 11, 30), CAL) == 4 * 3600
    assert working_seconds_between(local(2025, 3, 5, 12, 0), local(2025, 3, 5, 14, 0), CAL) == 0  # lunch
    assert working_seconds_between(local(2026, 2, 14, 17, 30), local(2026, 2, 24, 8, 30), CAL) == 0  # 春节
    assert working_seconds_between(local(2025, 3, 6), local(2025, 3, 5), CAL) == 0  # backwards


def test_a_suspension_is_added_back_as_working_time():
    start = local(2025, 3, 3, 9, 0)
    original = due(start, Limit.parse("2wd"), CAL)
    suspended = working_seconds_between(local(2025, 3, 3, 16, 0), local(2025, 3, 4, 10, 0), CAL)
    assert original == local(2025, 3, 5, 9, 0)
    assert suspended == 3 * 3600  # 16:00–17:30 and 08:30–10:00; the night does not count
    assert add_working_seconds(original, suspended, CAL) == local(2025, 3, 5, 12, 0)
    assert add_working_seconds(original, 0, CAL) == original


# ---------------------------------------------------------------- the limit value


@pytest.mark.parametrize(
    ("text", "amount", "unit", "short"),
    [
        ("4wh", 4, TimeUnit.working_hours, "4wh"),
        ("15wd", 15, TimeUnit.working_days, "15wd"),
        ("2h", 2, TimeUnit.natural_hours, "2h"),
        (" 1.5 WH ", 1.5, TimeUnit.working_hours, "1.5wh"),
        ("4 个工作时", 4, TimeUnit.working_hours, "4wh"),
        ("15个工作日", 15, TimeUnit.working_days, "15wd"),
        ("2 小时", 2, TimeUnit.natural_hours, "2h"),
    ],
)
def test_limits_parse_and_print(text, amount, unit, short):
    limit = Limit.parse(text)
    assert limit == Limit(amount, unit)
    assert str(limit) == short
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize("text", ["", "4", "wh", "-4wh", "0wh", "4 weeks", "4wh5", "1e3wh"])
def test_bad_limits_are_refused(text):
    with pytest.raises(ValueError):
        Limit.parse(text)


def test_limit_labels_in_both_locales():
    assert Limit.parse("4wh").label() == "4 个工作时"
    assert Limit.parse("15wd").label() == "15 个工作日"
    assert Limit.parse("2h").label() == "2 小时"
    try:
        i18n.set_locale("en")
        assert Limit.parse("4wh").label() == "4 working hour(s)"
        assert Limit.parse("1.5wd").label() == "1.5 working day(s)"
    finally:
        i18n.set_locale("zh-CN")


# ---------------------------------------------------------------- colours


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(2025, 3, 4, 8, 30), Colour.green),  # 7 h of 10: 70 %
        (local(2025, 3, 4, 9, 24), Colour.green),  # 7.9 h: 79 %
        (local(2025, 3, 4, 9, 30), Colour.yellow),  # 8 h: 80 %
        (local(2025, 3, 4, 11, 30), Colour.yellow),  # exactly due
        (local(2025, 3, 4, 11, 30) + timedelta(seconds=1), Colour.red),  # just after
    ],
)
def test_colour_in_working_hours(at, expected):
    start = local(2025, 3, 3, 8, 30)
    due_at = due(start, Limit.parse("10wh"), CAL)
    assert due_at == local(2025, 3, 4, 11, 30)
    assert deadline_colour(start, due_at, at, CAL, TimeUnit.working_hours) is expected


def test_the_night_uses_no_working_time():
    start = local(2025, 3, 3, 8, 30)
    due_at = due(start, Limit.parse("10wh"), CAL)
    # 23:00 on the first day: 7 of 10 working hours used, however long the night is.
    assert elapsed_share(start, due_at, local(2025, 3, 3, 23, 0), CAL, TimeUnit.working_hours) == pytest.approx(0.7)
    assert deadline_colour(start, due_at, local(2025, 3, 3, 23, 0), CAL, TimeUnit.working_hours, 0.7) is Colour.yellow


@pytest.mark.parametrize(
    ("minutes", "expected"), [(474, Colour.green), (480, Colour.yellow), (600, Colour.yellow), (601, Colour.red)]
)
def test_colour_in_natural_hours(minutes, expected):
    start = local(2025, 3, 8, 20, 0)  # a Saturday night: natural hours do not care
    due_at = due(start, Limit.parse("10h"), CAL)
    assert deadline_colour(start, due_at, start + timedelta(minutes=minutes), CAL, TimeUnit.natural_hours) is expected


def test_share_before_the_start_is_zero():
    start = local(2025, 3, 3, 9, 0)
    due_at = due(start, Limit.parse("2h"), CAL)
    assert elapsed_share(start, due_at, start - timedelta(hours=1), CAL, TimeUnit.natural_hours) == 0
    assert elapsed_share(start, due_at, start - timedelta(hours=1), CAL, TimeUnit.working_hours) == 0


# ---------------------------------------------------------------- properties

# 2025–2026 is in chinese-calendar's data; 2028–2031 exercises the fallback.
instants = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 31, 23, 59), timezones=st.just(SHANGHAI)),
    st.datetimes(datetime(2028, 1, 1), datetime(2031, 12, 31, 23, 59), timezones=st.just(SHANGHAI)),
)
# Whole minutes, up to 60 working days: Limit turns them into exact whole seconds.
minutes = st.integers(min_value=1, max_value=60 * 7 * 60)


def wh(m: int) -> Limit:
    return Limit(m / 60, TimeUnit.working_hours)


@given(instants, minutes, minutes)
def test_due_is_monotone_in_the_amount(t, a, b):
    a, b = sorted((a, b))
    assert due(t, wh(a), CAL) <= due(t, wh(b), CAL)


@given(instants, minutes, minutes)
def test_due_is_additive(t, a, b):
    assert due(due(t, wh(a), CAL), wh(b), CAL) == due(t, wh(a + b), CAL)


@given(instants, st.integers(1, 60), st.integers(1, 7 * 60))
def test_working_days_are_working_hours_and_add_with_them(t, days, extra):
    day = Limit(days, TimeUnit.working_days)
    assert due(t, day, CAL) == due(t, Limit(days * 7, TimeUnit.working_hours), CAL)
    assert due(due(t, day, CAL), wh(extra), CAL) == due(t, wh(days * 7 * 60 + extra), CAL)


@given(instants, minutes)
def test_due_is_never_in_a_break(t, a):
    result = due(t, wh(a), CAL)
    moment = result.astimezone(SHANGHAI)
    assert CAL.is_workday(moment.date())
    assert any(start < moment.time() <= end for start, end in CAL.periods)
    assert result > t


@given(instants, minutes)
def test_working_time_round_trips(t, a):
    assert working_seconds_between(t, due(t, wh(a), CAL), CAL) == a * 60


@given(instants, st.integers(0, 30 * 86400), st.integers(0, 30 * 86400))
def test_working_time_between_is_additive(t, x, y):
    b, c = t + timedelta(seconds=x), t + timedelta(seconds=x + y)
    parts = working_seconds_between(t, b, CAL) + working_seconds_between(b, c, CAL)
    assert parts == pytest.approx(working_seconds_between(t, c, CAL), abs=1e-6)  # float sum of microseconds


@given(instants, st.integers(1, 1000 * 60))
def test_natural_hours_are_exact(t, m):
    assert due(t, Limit(m / 60, TimeUnit.natural_hours), CAL) == t + timedelta(minutes=m)


@settings(max_examples=50)
@given(instants, minutes, st.floats(0, 1))
def test_share_grows_to_one_at_the_due_time(t, a, fraction):
    due_at = due(t, wh(a), CAL)
    at = add_working_seconds(t, round(a * 60 * fraction), CAL)
    share = elapsed_share(t, due_at, at, CAL, TimeUnit.working_hours)
    assert 0 <= share <= 1
    assert elapsed_share(t, due_at, due_at, CAL, TimeUnit.working_hours) == 1
