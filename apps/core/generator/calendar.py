"""Local days, working days and the daily escalation run, precomputed once for the window.

Times are whole seconds since the epoch (UTC). The answers equal those of
``apps.core.workdays`` (same statutory calendar, same ``WorkdayOverride`` rows,
limits ending at ``END_OF_DAY``) without a calendar walk or a query per call.
"""

from __future__ import annotations

import bisect
import datetime as dt

from django.utils import timezone

from apps.core.models import WorkdayOverride
from apps.core.workdays import END_OF_DAY, is_workday
from apps.needs.seeding import DAILY_RUN

DAY = 86_400
HOUR = 3_600
MINUTE = 60
END_OF_DAY_S = END_OF_DAY.hour * HOUR + END_OF_DAY.minute * MINUTE
DAILY_RUN_S = DAILY_RUN.hour * HOUR + DAILY_RUN.minute * MINUTE
WORK_START_S = 8 * HOUR + 30 * MINUTE


class Calendar:
    """Day ``i`` is ``first + i`` (local dates); ``midnight[i]`` is its start in epoch seconds."""

    def __init__(self, first: dt.date, last: dt.date):
        tz = timezone.get_current_timezone()
        self.first = first
        count = (last - first).days + 1
        self.dates = [first + dt.timedelta(days=i) for i in range(count)]
        self.midnight = [
            int(dt.datetime.combine(d, dt.time.min, tzinfo=tz).timestamp()) for d in self.dates
        ]
        steps = {b - a for a, b in zip(self.midnight, self.midnight[1:], strict=False)}
        # Without daylight saving time (Asia/Shanghai) a day is a fixed 86,400 s.
        self.uniform = steps <= {DAY}
        overrides = dict(
            WorkdayOverride.objects.filter(date__range=(first, last)).values_list(
                "date", "is_workday"
            )
        )
        self.workday = [is_workday(d, overrides) for d in self.dates]
        # rank[i]: how many working days there are on days 0..i.
        self.rank = []
        self.workdays: list[int] = []
        for i, working in enumerate(self.workday):
            if working:
                self.workdays.append(i)
            self.rank.append(len(self.workdays))
        self.date_text = [d.isoformat() for d in self.dates]
        self.compact = [f"{d:%Y%m%d}" for d in self.dates]

    def day(self, t: int) -> int:
        """The local day of moment ``t``."""
        if self.uniform:
            return (t - self.midnight[0]) // DAY
        return bisect.bisect_right(self.midnight, t) - 1

    def add_working_days(self, t: int, days: int) -> int:
        """The end (17:30) of the ``days``-th working day after ``t``'s day."""
        target = self.workdays[self.rank[self.day(t)] + days - 1]
        return self.midnight[target] + END_OF_DAY_S

    def workday_rank_from(self, t: int, latest_start: int) -> int:
        """The rank of the first working day someone at work can still act on after ``t``.

        ``t``'s own day counts when it is a working day and ``t`` is before
        ``latest_start`` seconds into it.
        """
        day = self.day(t)
        if self.workday[day] and t - self.midnight[day] < latest_start:
            return self.rank[day] - 1
        return self.rank[day]

    def workday_at(self, rank: int) -> int:
        return self.workdays[rank]

    def due_rank(self, t: int, days: int) -> int:
        """The rank of the working day on which a limit of ``days`` after ``t`` ends."""
        return self.rank[self.day(t)] + days - 1

    def run_after(self, t: int) -> int:
        """The first daily run (07:00) strictly after ``t``."""
        day = self.day(t)
        run = self.midnight[day] + DAILY_RUN_S
        return run if run > t else self.midnight[day + 1] + DAILY_RUN_S

    def runs_between(self, start: int, end: int):
        """Daily runs strictly between ``start`` and ``end``."""
        run = self.run_after(start)
        while run < end:
            yield run
            run = self.midnight[self.day(run) + 1] + DAILY_RUN_S

    def is_working_day(self, day: int) -> bool:
        return self.workday[day]

    def previous_workday(self, day: int) -> int:
        """The last working day strictly before ``day``."""
        return self.workdays[self.rank[day] - 1 - (1 if self.workday[day] else 0)]
