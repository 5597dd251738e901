"""Filters of the public project showcase (django-filter)."""

from __future__ import annotations

import django_filters

from apps.needs.models import ServiceArea
from apps.workstations.models import Street

from .models import ServiceProject
from .workflow import PUBLIC_STATUSES, Status

# Only the statuses the showcase can contain; proposed and cancelled projects are not public.
PUBLIC_STATUS_CHOICES = [(s.value, s.label) for s in Status if s in PUBLIC_STATUSES]


class ProjectFilter(django_filters.FilterSet):
    """Unknown or malformed values make the form invalid and are ignored, never a 5xx."""

    area = django_filters.ModelChoiceFilter(
        label="服务领域", queryset=ServiceArea.objects.all(), empty_label="全部领域"
    )
    street = django_filters.ModelChoiceFilter(
        label="街道（开发区）", queryset=Street.objects.all(), empty_label="全部街道"
    )
    kind = django_filters.ChoiceFilter(
        label="类别", choices=ServiceProject.Kind.choices, empty_label="全部类别"
    )
    status = django_filters.ChoiceFilter(
        label="进度", choices=PUBLIC_STATUS_CHOICES, empty_label="全部进度"
    )

    class Meta:
        model = ServiceProject
        fields = ["area", "street", "kind", "status"]
