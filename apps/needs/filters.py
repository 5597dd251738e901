"""Filters of the worker's need lists (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms

from apps.workstations.models import Street

from .models import Need, ServiceArea
from .workflow import OPEN_STATUSES, Status

# What a worker asks "where is my need?" in: groups of statuses, not the raw states.
STATUS_GROUPS = {
    "open": ("办理中（待受理、已受理、办理中）", OPEN_STATUSES),
    "to_rate": ("已办结，待我评价", {Status.RESOLVED}),
    "closed": ("已完结", {Status.CLOSED}),
    "ended": (
        "未办理（不予受理、已合并、已撤回）",
        {Status.REJECTED, Status.MERGED, Status.WITHDRAWN},
    ),
}


class MyNeedFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label="状态",
        choices=[(key, label) for key, (label, _) in STATUS_GROUPS.items()],
        empty_label="全部状态",
        method="filter_state",
    )
    kind = django_filters.ChoiceFilter(
        label="诉求类型", choices=Need.Kind.choices, empty_label="全部类型"
    )
    area = django_filters.ModelChoiceFilter(
        label="服务领域", queryset=ServiceArea.objects.all(), empty_label="全部领域"
    )

    class Meta:
        model = Need
        fields = ["state", "kind", "area"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(status__in=STATUS_GROUPS[value][1])


class PublicNeedFilter(django_filters.FilterSet):
    area = django_filters.ModelChoiceFilter(
        label="服务领域", queryset=ServiceArea.objects.all(), empty_label="全部领域"
    )
    street = django_filters.ModelChoiceFilter(
        label="街道（开发区）",
        field_name="workstation__street",
        queryset=Street.objects.all(),
        empty_label="全部街道",
    )
    mine = django_filters.BooleanFilter(
        label="只看我也有此需求的",
        method="filter_mine",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Need
        fields = ["area", "street", "mine"]

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        if member is None:
            del self.filters["mine"]

    def filter_mine(self, queryset, name, value):
        if not value or self.member is None:
            return queryset
        return queryset.filter(supports__member=self.member)
