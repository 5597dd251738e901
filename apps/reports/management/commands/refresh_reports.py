"""Keep the reports reviewers and cadres open most ready before they open them.

A district-wide report over a year aggregates hundreds of thousands of needs. Run every few
minutes from cron, this computes — only where records changed since the kept figures — the
reports as their readers first see them: this month, this quarter and this year, for each
district (reviewers, district cadres) and each street (street cadres), and renders their
sections. Custom periods and narrower filters are still computed on demand.
"""

import time

from django.core.management.base import BaseCommand

from apps.reports.cache import get_report
from apps.reports.filters import Period, ReportFilter
from apps.reports.views import report_body
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import District

PERIODS = [Period.MONTH, Period.QUARTER, Period.YEAR]


def standard_scopes():
    """(name, scope) as report_scope gives them to district and street readers."""
    for district in District.objects.prefetch_related("streets").order_by("code"):
        yield district.name, Jurisdiction(district_ids=frozenset({district.pk}))
        for street in district.streets.all():
            yield f"{district.name} {street.name}", Jurisdiction(street_ids=frozenset({street.pk}))


class Command(BaseCommand):
    help = "预先计算各县区、各街道本月、本季度、本年度的统计报表（数据有变化时）。"

    def handle(self, *args, verbosity=1, **options):
        computed = kept = 0
        started = time.monotonic()
        for name, scope in standard_scopes():
            for period in PERIODS:
                params = ReportFilter({"period": period}, scope=scope).params()
                before = time.monotonic()
                report = get_report(params, recompute_outdated=True)
                fresh = time.monotonic() - before
                for may_draw in (True, False):
                    report_body(report, may_draw)
                if report.computed_now:
                    computed += 1
                    if verbosity >= 2:
                        self.stdout.write(f"{name} {params.label}：计算用时 {fresh:.1f} 秒")
                else:
                    kept += 1
        self.stdout.write(
            f"统计报表：重新计算 {computed} 份，沿用 {kept} 份（数据未变化），"
            f"共用时 {time.monotonic() - started:.1f} 秒。"
        )
