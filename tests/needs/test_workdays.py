"""Chinese working days: statutory holidays, make-up days (调休) and the district's overrides."""

import datetime as dt

import chinese_calendar
import pytest
from django.utils import timezone

from apps.core.models import WorkdayOverride
from apps.core.workdays import (
    add_working_days,
    is_workday,
    working_days_between,
    working_days_cutoff,
)

pytestmark = pytest.mark.django_db


def local(*args) -> dt.datetime:
    """An aware datetime in the site's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime(*args))


def test_national_day_is_a_holiday():
    assert is_workday(dt.date(2026, 9, 30))
    for day in range(1, 8):
        assert not is_workday(dt.date(2026, 10, day)), f"2026-10-{day:02d}"
    assert is_workday(dt.date(2026, 10, 8))


def test_one_working_day_before_national_day_runs_until_after_it():
    assert add_working_days(local(2026, 9, 30, 10, 0), 1) == local(2026, 10, 8, 17, 30)


def test_make_up_weekend_days_are_working_days():
    # 2026's National Day and Mid-Autumn 调休: Sunday 20 September and Saturday 10 October.
    assert dt.date(2026, 9, 20).weekday() == 6
    assert dt.date(2026, 10, 10).weekday() == 5
    assert is_workday(dt.date(2026, 9, 20))
    assert is_workday(dt.date(2026, 10, 10))
    assert not is_workday(dt.date(2026, 10, 11))
    # Friday evening: the next working day is the make-up Sunday, not Monday.
    assert add_working_days(local(2026, 9, 18, 19, 0), 1) == local(2026, 9, 20, 17, 30)
    assert add_working_days(local(2026, 10, 9, 19, 0), 1) == local(2026, 10, 10, 17, 30)


def test_friday_evening_plus_one_working_day_is_monday_1730():
    friday_evening = local(2026, 10, 16, 19, 45)
    assert friday_evening.weekday() == 4
    assert add_working_days(friday_evening, 1) == local(2026, 10, 19, 17, 30)


def test_working_days_are_whole_days_after_the_start():
    # Submitted at 08:00 or 23:00 makes no difference: the day itself never counts.
    assert add_working_days(local(2026, 10, 12, 8, 0), 3) == local(2026, 10, 15, 17, 30)
    assert add_working_days(local(2026, 10, 12, 23, 0), 3) == local(2026, 10, 15, 17, 30)
    with pytest.raises(ValueError):
        add_working_days(local(2026, 10, 12, 8, 0), 0)


def test_working_days_between_skips_the_holiday():
    # 30 Sep → 9 Oct: only 8 and 9 October are working days after the 30th.
    assert working_days_between(local(2026, 9, 30, 10, 0), local(2026, 10, 9, 10, 0)) == 2
    assert working_days_between(local(2026, 10, 9, 10, 0), local(2026, 9, 30, 10, 0)) == 0


def _first_year_without_data() -> int:
    """2027 with chinese_calendar 1.11; later once the package learns that year."""
    year = 2027
    while True:
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return year
        year += 1


def test_a_year_the_package_does_not_know_falls_back_to_monday_to_friday():
    year = _first_year_without_data()
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    # New Year's Day is a statutory holiday every year, but without data only weekdays count.
    new_year = dt.date(year, 1, 1)
    assert is_workday(new_year) == (new_year.weekday() < 5)
    for offset in range(7):
        day = dt.date(year, 3, 1) + dt.timedelta(days=offset)
        assert is_workday(day) == (day.weekday() < 5), day
    friday = next(
        dt.date(year, 3, 1) + dt.timedelta(days=n)
        for n in range(7)
        if (dt.date(year, 3, 1) + dt.timedelta(days=n)).weekday() == 4
    )
    monday = friday + dt.timedelta(days=3)
    start = timezone.make_aware(dt.datetime.combine(friday, dt.time(19, 0)))
    end = timezone.make_aware(dt.datetime.combine(monday, dt.time(17, 30)))
    assert add_working_days(start, 1) == end


def test_a_2027_holiday_needs_an_override_until_the_package_knows_the_year():
    if _first_year_without_data() != 2027:
        pytest.skip("chinese_calendar now covers 2027")
    # Friday 1 January 2027 counts as a working day until the district enters the holiday.
    assert is_workday(dt.date(2027, 1, 1))
    WorkdayOverride.objects.create(date=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    assert not is_workday(dt.date(2027, 1, 1))
    assert add_working_days(local(2026, 12, 31, 10, 0), 1) == local(2027, 1, 4, 17, 30)


def test_override_makes_a_statutory_holiday_a_working_day():
    WorkdayOverride.objects.create(date=dt.date(2026, 10, 5), is_workday=True, note="值班")
    assert is_workday(dt.date(2026, 10, 5))
    assert add_working_days(local(2026, 9, 30, 19, 0), 1) == local(2026, 10, 5, 17, 30)


def test_override_makes_a_working_day_a_holiday():
    # The package's make-up Saturday, cancelled by the district.
    WorkdayOverride.objects.create(date=dt.date(2026, 10, 10), is_workday=False, note="取消调休")
    assert not is_workday(dt.date(2026, 10, 10))
    assert add_working_days(local(2026, 10, 9, 19, 0), 1) == local(2026, 10, 12, 17, 30)


def test_override_of_a_year_without_data_wins_over_the_weekday_fallback():
    year = _first_year_without_data()
    saturday = next(
        dt.date(year, 5, 1) + dt.timedelta(days=n)
        for n in range(7)
        if (dt.date(year, 5, 1) + dt.timedelta(days=n)).weekday() == 5
    )
    WorkdayOverride.objects.create(date=saturday, is_workday=True, note="调休上班")
    assert is_workday(saturday)


@pytest.mark.parametrize("days", [1, 2, 7])
def test_cutoff_agrees_with_add_working_days(days):
    """``t < cutoff(now, n)`` exactly when ``add_working_days(t, n) < now``."""
    WorkdayOverride.objects.create(date=dt.date(2026, 10, 14), is_workday=False, note="测试")
    nows = [
        local(2026, 10, 12, 17, 0),  # Monday before the end of the day
        local(2026, 10, 12, 17, 31),  # just after it
        local(2026, 10, 11, 9, 0),  # a Sunday
        local(2026, 10, 8, 8, 0),  # the first morning after National Day
        local(2026, 10, 15, 8, 0),  # the day after the overridden holiday
    ]
    starts = [local(2026, 9, 14, 0, 0) + dt.timedelta(hours=5 * n) for n in range(160)]
    for now in nows:
        cutoff = working_days_cutoff(now, days)
        for start in starts:
            assert (add_working_days(start, days) < now) == (start < cutoff), (now, start)
