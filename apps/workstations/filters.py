import django_filters

from .models import Street, Workstation


class WorkstationFilter(django_filters.FilterSet):
    street = django_filters.ModelChoiceFilter(
        label="街道（开发区）", queryset=Street.objects.all(), empty_label="全部街道"
    )
    q = django_filters.CharFilter(label="搜索", method="search")

    class Meta:
        model = Workstation
        fields = ["street"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(name__icontains=value) | Q(address__icontains=value) | Q(units__name__icontains=value)
        ).distinct()
