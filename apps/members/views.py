from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from apps.core import throttle
from apps.core.errors import error_text
from apps.workstations.models import CadreAssignment

from . import services
from .forms import ChangeEmployerForm, MembershipApplicationForm, RegistrationForm
from .models import Member


def get_own_member(request) -> Member:
    """The logged-in worker's profile; staff accounts without one get 404."""
    try:
        return Member.objects.select_related("user", "unit__ownership", "workstation__street").get(
            user=request.user
        )
    except Member.DoesNotExist as exc:
        raise Http404("没有职工档案") from exc


def staff_landing(user) -> str | None:
    """Where an account without a worker profile works: the admin, or the reports."""
    from apps.reports.scope import report_scope

    if user.is_staff:
        return reverse("admin:index")
    if not report_scope(user).is_empty:
        return reverse("reports:report")
    return None


class RegisterView(FormView):
    template_name = "members/register.html"
    form_class = RegistrationForm
    success_url = reverse_lazy("members:profile")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("members:profile")
        # Said before the form is filled in, not after.
        retry_at = throttle.REGISTRATIONS.retry_at(throttle.client_ip(request))
        if retry_at is not None:
            return render(
                request,
                "members/register_limited.html",
                {"retry_at": retry_at, "limit": throttle.REGISTRATIONS.limit},
                status=429,
            )
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        member = services.member_register(
            username=data["username"],
            name=data["name"],
            mobile=data["mobile"],
            password=data["password1"],
            unit=data["unit"],
            unit_name=data["unit_name"],
            workstation=data.get("workstation"),
        )
        throttle.REGISTRATIONS.hit(throttle.client_ip(self.request))
        login(self.request, member.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, "注册成功！您可以在下方申请加入工会，或向工作站反映诉求。")
        return super().form_valid(form)


@login_required
def profile(request):
    try:
        member = get_own_member(request)
    except Http404:
        # Cadres and reviewers have no worker profile: send them to their own pages.
        landing = staff_landing(request.user)
        if landing is None:
            raise
        return redirect(landing)
    cadres = (
        CadreAssignment.objects.active()
        .filter(workstation=member.workstation, role=CadreAssignment.Role.CADRE)
        .select_related("user")
    )
    return render(
        request,
        "members/profile.html",
        {
            "member": member,
            "cadres": cadres,
            "application": member.latest_application,
            "employments": member.employments.select_related("workstation"),
            "apply_form": MembershipApplicationForm(),
        },
    )


@login_required
@require_POST
def apply_for_membership(request):
    member = get_own_member(request)
    form = MembershipApplicationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "申请说明过长，请控制在 1000 字以内。")
        return redirect("members:profile")
    try:
        services.membership_apply(member=member, statement=form.cleaned_data["statement"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "入会申请已提交，所属工作站将尽快审核。")
    return redirect("members:profile")


class ChangeEmployerView(LoginRequiredMixin, FormView):
    template_name = "members/change_employer.html"
    form_class = ChangeEmployerForm
    success_url = reverse_lazy("members:profile")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.member = get_own_member(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(member=self.member, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.member_change_unit(
                member=self.member,
                unit=data["unit"],
                unit_name=data["unit_name"],
                workstation=data.get("workstation"),
                by=self.request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, "工作单位已更新，原单位记录已保存在工作经历中。")
        return super().form_valid(form)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (portal or admin): when to try again."""
    cool_off = settings.AXES_COOLOFF_TIME
    return render(
        request,
        "axes/lockout.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": int(cool_off.total_seconds() // 60),
            # Every try during the lockout starts the wait again, so it ends from now.
            "retry_at": timezone.now() + cool_off,
        },
        status=429,
    )
