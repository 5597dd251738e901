from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.generic import ListView

from .filters import WorkstationFilter
from .models import CadreAssignment, Street, Unit, Workstation


class WorkstationListView(ListView):
    """Public finder: every active workstation by street, with cadres and employers.

    A district has hundreds of workstations and thousands of employers: the whole district
    shows each workstation's number of employers; their names are listed once the visitor
    picks a street or searches (then only the employers matching the search).
    """

    template_name = "workstations/workstation_list.html"
    context_object_name = "workstations"

    def get_queryset(self):
        cadres = (
            CadreAssignment.objects.active()
            .filter(role=CadreAssignment.Role.CADRE)
            .select_related("user")
            .order_by("id")
        )
        unit_count = (
            Unit.objects.filter(workstation=OuterRef("pk"))
            .order_by()
            .values("workstation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        base = (
            Workstation.objects.active()
            .select_related("street")
            .annotate(unit_count=Coalesce(Subquery(unit_count), 0))
            .prefetch_related(Prefetch("assignments", queryset=cadres, to_attr="cadres"))
            .order_by("street__order", "street__code", "code")
        )
        self.filterset = WorkstationFilter(self.request.GET or None, queryset=base)
        if not (self.filterset.is_bound and self.filterset.is_valid()):
            self.unit_search, self.lists_units = "", False
            return base
        data = self.filterset.form.cleaned_data
        self.unit_search = data.get("q") or ""
        self.lists_units = bool(data.get("street") or self.unit_search)
        qs = self.filterset.qs
        if self.lists_units:
            units = Unit.objects.order_by("name").only("id", "name", "workstation_id")
            if self.unit_search:
                units = units.filter(name__icontains=self.unit_search)
            qs = qs.prefetch_related(Prefetch("units", queryset=units, to_attr="listed_units"))
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["streets"] = Street.objects.all()
        context["lists_units"] = self.lists_units
        context["unit_search"] = self.unit_search
        return context


UNIT_SEARCH_LIMIT = 20
UNIT_SEARCH_MAX_LENGTH = 50


@require_GET
def unit_search(request):
    """Employers whose name contains ``q``: suggestions for the registration form's field.

    The directory is public (the workstation finder lists it), so this answers anyone. A
    district has thousands of employers; the page asks for the few that match what the
    worker has typed instead of sending the whole directory with every form.
    """
    query = request.GET.get("q", "").strip()[:UNIT_SEARCH_MAX_LENGTH]
    names: list[str] = []
    if query:
        starts_first = Case(
            When(name__startswith=query, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        names = list(
            Unit.objects.filter(name__icontains=query)
            .order_by(starts_first, "name")
            .values_list("name", flat=True)[:UNIT_SEARCH_LIMIT]
        )
    response = JsonResponse({"results": names})
    response["Cache-Control"] = "public, max-age=300"
    return response
