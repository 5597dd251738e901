"""The report filters: period, street, service area (django-filter).

``ReportFilter`` validates the query string; ``ReportParams`` is what every section of
the report, and every export, is computed from. An invalid query string never fails the
page: its errors are shown and the default period is used instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import django_filters
from django import forms
from django.utils import timezone

from apps.needs.models import Need, ServiceArea
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import Street

MAX_SPAN_DAYS = 5 * 366


class Period:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"
    CHOICES = [
        (MONTH, "本月"),
        (QUARTER, "本季度"),
        (YEAR, "本年度"),
        (CUSTOM, "自定义"),
    ]


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the calendar month, quarter or year of ``today``."""
    if period == Period.YEAR:
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    if period == Period.QUARTER:
        first_month = (today.month - 1) // 3 * 3 + 1
        start = dt.date(today.year, first_month, 1)
    else:
        start = today.replace(day=1)
    months = 3 if period == Period.QUARTER else 1
    year, month = divmod(start.month - 1 + months, 12)
    return start, dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class ReportParams:
    """What a report is computed over: the scope, dates (inclusive) and optional narrowing."""

    scope: Jurisdiction
    start: dt.date
    end: dt.date
    period: str = Period.MONTH
    street: Street | None = None
    area: ServiceArea | None = None

    @property
    def start_at(self) -> dt.datetime:
        """Local midnight at the start of the first day."""
        return _local_midnight(self.start)

    @property
    def end_before(self) -> dt.datetime:
        """Local midnight after the last day (the range is half-open)."""
        return _local_midnight(self.end + dt.timedelta(days=1))

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}至{self.end:%Y-%m-%d}"

    def query_string(self) -> str:
        """The filters that produced this report, as a clean query string for its links.

        Built from the validated values, never copied from the request, so export and
        follow-up links reproduce exactly the figures on the page.
        """
        query = {"period": self.period}
        if self.period == Period.CUSTOM:
            query.update(start=self.start.isoformat(), end=self.end.isoformat())
        if self.street is not None:
            query["street"] = self.street.pk
        if self.area is not None:
            query["area"] = self.area.pk
        return urlencode(query)

    def describe(self) -> list[str]:
        """The filters in words, for headings and export file names."""
        parts = [self.label]
        if self.street is not None:
            parts.append(self.street.name)
        if self.area is not None:
            parts.append(self.area.name)
        return parts


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class ReportFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("period") == Period.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("自定义期间请填写开始和结束日期。")
            if start > end:
                raise forms.ValidationError("开始日期不能晚于结束日期。")
            if (end - start).days > MAX_SPAN_DAYS:
                raise forms.ValidationError("统计期间最长为 5 年。")
        return data


class ReportFilter(django_filters.FilterSet):
    """Filters for ``Need`` rows; the report reads its cleaned data through ``params()``."""

    period = django_filters.ChoiceFilter(
        label="统计期间", choices=Period.CHOICES, method="filter_nothing", empty_label=None
    )
    start = django_filters.DateFilter(
        label="开始日期",
        method="filter_nothing",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = django_filters.DateFilter(
        label="结束日期",
        method="filter_nothing",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    street = django_filters.ModelChoiceFilter(
        label="街道（开发区）",
        field_name="workstation__street",
        queryset=Street.objects.none(),
        empty_label="全部街道（开发区）",
    )
    area = django_filters.ModelChoiceFilter(
        label="服务领域", queryset=ServiceArea.objects.all(), empty_label="全部服务领域"
    )

    class Meta:
        model = Need
        fields = ["period", "start", "end", "street", "area"]
        form = ReportFilterForm

    def __init__(self, data=None, *args, scope: Jurisdiction, today: dt.date | None = None, **kw):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = Period.MONTH
        super().__init__(data, *args, queryset=Need.objects.within(scope), **kw)
        self.scope = scope
        self.today = today or timezone.localdate()
        self.filters["street"].queryset = (
            Street.objects.within(scope).select_related(None).order_by("order", "id")
        )

    def filter_nothing(self, queryset, name, value):
        # Dates are applied by the report itself, to needs and projects alike.
        return queryset

    def params(self) -> ReportParams:
        """The validated parameters, or the default period when the query string is invalid."""
        if not self.is_valid():
            start, end = period_bounds(Period.MONTH, self.today)
            return ReportParams(scope=self.scope, start=start, end=end)
        data = self.form.cleaned_data
        period = data.get("period") or Period.MONTH
        if period == Period.CUSTOM:
            start, end = data["start"], data["end"]
        else:
            start, end = period_bounds(period, self.today)
        return ReportParams(
            scope=self.scope,
            start=start,
            end=end,
            period=period,
            street=data.get("street"),
            area=data.get("area"),
        )
