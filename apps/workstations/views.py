from django.db.models import Prefetch
from django.views.generic import ListView

from .filters import WorkstationFilter
from .models import CadreAssignment, Street, Unit, Workstation


class WorkstationListView(ListView):
    """Public finder: every active workstation by street, with cadres and employers."""

    template_name = "workstations/workstation_list.html"
    context_object_name = "workstations"

    def get_queryset(self):
        cadres = (
            CadreAssignment.objects.active()
            .filter(role=CadreAssignment.Role.CADRE)
            .select_related("user")
            .order_by("id")
        )
        base = (
            Workstation.objects.active()
            .select_related("street")
            .prefetch_related(
                Prefetch("assignments", queryset=cadres, to_attr="cadres"),
                Prefetch(
                    "units",
                    queryset=Unit.objects.order_by("name").only("id", "name", "workstation_id"),
                ),
            )
            .order_by("street__order", "street__code", "code")
        )
        self.filterset = WorkstationFilter(self.request.GET or None, queryset=base)
        return self.filterset.qs if self.filterset.is_bound else base

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["streets"] = Street.objects.all()
        return context
