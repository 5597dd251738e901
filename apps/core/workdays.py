"""Chinese working days: statutory holidays and make-up working days (调休) count.

The statutory calendar comes from the maintained ``chinese_calendar`` package.
``WorkdayOverride`` rows (set by the district in the admin) win over it; for a
year the package does not cover yet, Monday to Friday are working days unless
an override says otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar
from django.utils import timezone

logger = logging.getLogger(__name__)

# Work ends at 17:30 local time: a limit of N working days ends at that hour.
END_OF_DAY = dt.time(17, 30)


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    from .models import WorkdayOverride

    return dict(
        WorkdayOverride.objects.filter(date__range=(start, end)).values_list("date", "is_workday")
    )


def _statutory_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The package has no data for this year yet.
        return day.weekday() < 5


def is_workday(day: dt.date, overrides: dict[dt.date, bool] | None = None) -> bool:
    if overrides is None:
        overrides = _overrides(day, day)
    if day in overrides:
        return overrides[day]
    return _statutory_workday(day)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The end (17:30 local) of the ``days``-th working day after ``start``'s day.

    A need raised on a Friday evening with one working day to be accepted is
    due at 17:30 on the next working day (Monday, or later after a holiday).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    local = timezone.localtime(start)
    day = local.date()
    horizon = day + dt.timedelta(days=days * 3 + 30)  # long holidays included
    overrides = _overrides(day, horizon)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            counted += 1
    return timezone.make_aware(
        dt.datetime.combine(day, END_OF_DAY), timezone.get_current_timezone()
    )


def working_days_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole working days after ``start``'s day up to and including ``end``'s day."""
    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    if last <= first:
        return 0
    overrides = _overrides(first, last)
    count, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            count += 1
    return count


def working_days_cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """The moment before which ``days`` working days have fully run out by ``now``.

    ``add_working_days(t, days) < now`` exactly when ``t < working_days_cutoff(now, days)``,
    so "more than N working days ago" becomes one indexed comparison instead of a
    calendar walk per row. The answer is a local midnight: the start of the
    ``days``-th working day, counted back from the last one that has ended.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    tz = timezone.get_current_timezone()
    day = timezone.localtime(now).date()
    span = dt.timedelta(days=days * 3 + 30)  # long holidays included
    start = day - span
    overrides = _overrides(start, day)
    counted = 0
    while True:
        ended = timezone.make_aware(dt.datetime.combine(day, END_OF_DAY), tz) < now
        if ended and is_workday(day, overrides):
            counted += 1
            if counted == days:
                return timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
        day -= dt.timedelta(days=1)
        if day < start:  # a very long run of days off: look further back
            start -= span
            overrides.update(_overrides(start, day))
