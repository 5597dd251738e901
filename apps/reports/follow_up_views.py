"""回访抽查 pages: the reviewer's samples, drawing one, and recording the calls.

Only users who may draw a sample (``scope.may_draw_follow_up``: reviewers and
superusers) get these pages: visitors are sent to log in, everyone else — workers,
cadres at any level — gets 403, since the check must be independent of the cadres
it checks. A sample outside the reviewer's district answers 404. The sample page is
the one place where a reviewer sees workers' mobile numbers: those of the sampled
needs, which they phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from apps.core.errors import error_text
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import Street

from . import services
from .filters import Period, ReportFilter
from .forms import CallForm, DrawForm, last_month
from .models import FollowUpCall, FollowUpSample
from .scope import may_draw_follow_up


def follow_up_scope_for(request) -> Jurisdiction:
    """The reviewer's district(s); 403 for anyone who may not draw a sample."""
    if not may_draw_follow_up(request.user):
        raise PermissionDenied(services.NOT_A_REVIEWER)
    return services.follow_up_scope(request.user)


def get_sample_for_user(request, pk: int) -> FollowUpSample:
    """A sample of the reviewer's district, or 404."""
    scope = follow_up_scope_for(request)
    return get_object_or_404(
        FollowUpSample.objects.within(scope).select_related("district", "street", "drawn_by"),
        pk=pk,
    )


def form_errors_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        text = "；".join(errors)
        parts.append(f"{form.fields[name].label}：{text}" if name in form.fields else text)
    return "；".join(parts)


def report_url(sample: FollowUpSample) -> str:
    """The report over the sample's period, where sampled and self-reported 满意率 meet."""
    query = {
        "period": Period.CUSTOM,
        "start": sample.period_start.isoformat(),
        "end": sample.period_end.isoformat(),
    }
    if sample.street_id:
        query["street"] = sample.street_id
    return f"{reverse('reports:report')}?{urlencode(query)}"


class ReviewerOnlyMixin(LoginRequiredMixin):
    """Log in first; then only reviewers (and superusers), over their own district."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.scope = follow_up_scope_for(request)
        return super().dispatch(request, *args, **kwargs)


# --- the list and the draw --------------------------------------------------------------


class SampleListView(ReviewerOnlyMixin, ListView):
    """The district's samples, newest first, with the form to draw a new one."""

    template_name = "reports/follow_up_list.html"
    context_object_name = "samples"
    paginate_by = 20

    def get_queryset(self):
        return (
            FollowUpSample.objects.within(self.scope)
            .select_related("district", "street", "drawn_by")
            .annotate(
                calls_total=Count("calls"),
                calls_made=Count("calls", filter=Q(calls__reached__isnull=False)),
            )
            .order_by("-drawn_at", "-id")
        )

    def initial_draw(self) -> dict:
        """Last month, or the report's period and street when the report linked here."""
        today = timezone.localdate()
        start, end = last_month(today)
        initial = {"start": start, "end": end, "per_street": 5}
        if self.request.GET.get("period"):
            params = ReportFilter(self.request.GET, scope=self.scope, today=today).params()
            initial.update(start=params.start, end=min(params.end, today))
            if params.street is not None:
                initial["street"] = params.street.pk
        return initial

    def get_context_data(self, **kwargs):
        if "form" not in kwargs:
            kwargs["form"] = DrawForm(scope=self.scope, initial=self.initial_draw())
        return super().get_context_data(**kwargs)


class SampleDrawView(SampleListView):
    """POST only: draw, then show the new sample (an invalid form is shown on the list)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = DrawForm(request.POST, scope=self.scope)
        if form.is_valid():
            data = form.cleaned_data
            try:
                sample = services.draw_follow_up_sample(
                    by=request.user,
                    start=data["start"],
                    end=data["end"],
                    per_street=data["per_street"],
                    street=data.get("street"),
                    district=data.get("district"),
                )
            except ValidationError as error:
                form.add_error(None, error_text(error))
            else:
                count = sample.calls.count()
                if count:
                    messages.success(request, f"已随机抽取 {count} 件诉求，请逐一电话回访。")
                else:
                    messages.warning(
                        request,
                        "本次抽查没有找到符合条件的诉求（期间内提出、已办结或已完结、"
                        "职工同意回访且未被抽取过），已记录这次抽查。",
                    )
                return redirect("reports:follow-up-detail", pk=sample.pk)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form))


draw_sample = SampleDrawView.as_view()


# --- one sample --------------------------------------------------------------------------


@dataclass
class StreetCalls:
    """The calls of one street, with the figures a reviewer reads at a glance."""

    street: Street
    calls: list = field(default_factory=list)

    @property
    def made(self) -> int:
        return sum(1 for call in self.calls if call.reached is not None)

    @property
    def reached(self) -> int:
        return sum(1 for call in self.calls if call.reached)

    @property
    def satisfied(self) -> int:
        return sum(1 for call in self.calls if call.satisfied)

    @property
    def satisfied_percent(self) -> float | None:
        return self.satisfied * 100 / self.reached if self.reached else None


@method_decorator(never_cache, name="dispatch")
class SampleDetailView(ReviewerOnlyMixin, DetailView):
    """The sampled needs street by street, each worker's full mobile, and a form per call."""

    template_name = "reports/follow_up_detail.html"
    context_object_name = "sample"

    def get_object(self, queryset=None):
        return get_sample_for_user(self.request, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        sample = self.object
        calls = (
            sample.calls.select_related(
                "street", "called_by", "need__area", "need__workstation", "need__submitter__user"
            )
            # The need's own text is long and not needed to phone its worker.
            .defer("need__description", "need__public_summary", "need__rejection_reason")
            .order_by("street__order", "street_id", "id")
        )
        streets = [sample.street] if sample.street_id else list(sample.district.streets.all())
        groups = {street.pk: StreetCalls(street) for street in streets}
        for call in calls:
            call.form = CallForm.for_call(call)
            groups.setdefault(call.street_id, StreetCalls(call.street)).calls.append(call)
        total = sum(len(g.calls) for g in groups.values())
        return super().get_context_data(
            groups=list(groups.values()),
            total=total,
            made=sum(g.made for g in groups.values()),
            report_url=report_url(sample),
            **kwargs,
        )


@require_POST
@login_required
def record_call(request, pk, call_pk):
    """Save one call's answer, then back to the sample at that call."""
    sample = get_sample_for_user(request, pk)
    call = get_object_or_404(FollowUpCall.objects.select_related("need"), sample=sample, pk=call_pk)
    number = call.need.number
    form = CallForm.for_call(call, data=request.POST)
    if not form.is_valid():
        messages.error(request, f"诉求 {number} 的回访未保存：{form_errors_text(form)}")
    else:
        try:
            services.record_follow_up_call(call=call, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, f"诉求 {number} 的回访未保存：{error_text(error)}")
        else:
            what = "已接通" if form.cleaned_data["reached"] else "未接通"
            messages.success(request, f"已保存诉求 {number} 的回访记录（{what}）。")
    url = reverse("reports:follow-up-detail", args=[sample.pk])
    return redirect(f"{url}#call-{call.pk}")
