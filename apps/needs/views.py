"""The worker's pages: raise a need, follow it, rate it, and say "me too" to others'.

Views parse, authorise, call ``services`` and render. Every need a user opens
goes through ``get_need_for_user`` (owner, or a cadre of its jurisdiction;
anyone else gets 404). The status is only ever changed by the services.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, ListView, TemplateView

from apps.core.errors import error_text
from apps.members.models import Member
from apps.projects.models import ProjectNeed
from apps.workstations.models import CadreAssignment

from . import attachments as attachment_files
from . import services
from .filters import MyNeedFilter, PublicNeedFilter
from .forms import DescribeForm, NeedForm, RatingForm, WithdrawForm
from .models import Attachment, Need, NeedEvent, Support
from .similarity import public_text, rank_similar
from .workflow import OPEN_STATUSES, WORKING, Status, TransitionNotAllowed

# The same worker sending the same title and description again within this
# window (a double click, a re-sent form) gets the first need, not a second one.
DUPLICATE_WINDOW = dt.timedelta(seconds=60)
# Published needs compared with a draft: the newest ones are enough in practice.
SIMILAR_CANDIDATES = 300


# --- look-ups ---------------------------------------------------------------------------


def get_need_for_user(request, pk: int, queryset=None) -> Need:
    """The need if the user may open it (owner or cadre of its jurisdiction), else 404."""
    queryset = queryset if queryset is not None else Need.objects.all()
    return get_object_or_404(queryset.visible_to(request.user), pk=pk)


def get_own_need(request, pk: int) -> Need:
    """The need for a worker's action: 404 when hidden, 403 for a cadre who may only look."""
    need = get_need_for_user(request, pk, Need.objects.select_related("submitter"))
    if need.submitter.user_id != request.user.pk:
        raise PermissionDenied("只有提出诉求的职工本人可以这样做。")
    return need


def member_of(user) -> Member | None:
    if not user.is_authenticated:
        return None
    return Member.objects.select_related("workstation__street", "unit").filter(user=user).first()


def _next_url(request, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _error_text(error: ValidationError) -> str:
    return error_text(error)


# --- my needs ---------------------------------------------------------------------------


class NeedListView(LoginRequiredMixin, ListView):
    """The worker's own needs, newest first, filtered and paginated."""

    template_name = "needs/need_list.html"
    context_object_name = "needs"
    paginate_by = 10

    def get_queryset(self):
        base = (
            Need.objects.of_worker(self.request.user)
            .select_related("area")
            .only(
                "id",
                "number",
                "title",
                "kind",
                "status",
                "urgency",
                "escalation",
                "confidential",
                "created_at",
                "accept_due",
                "resolve_due",
                "area__name",
            )
            .order_by("-created_at", "-id")
        )
        self.filterset = MyNeedFilter(self.request.GET or None, queryset=base)
        return self.filterset.qs if self.filterset.is_bound else base

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


# --- raising a need ---------------------------------------------------------------------


def similar_published_needs(text: str, member: Member) -> list[tuple[Need, float]]:
    """Published needs of others that read like ``text``, by their public wording only."""
    candidates = (
        Need.objects.published()
        .exclude(submitter=member)
        .select_related("area", "workstation__street")
        .only(
            "id",
            "public_title",
            "public_summary",
            "support_count",
            "status",
            "submitter_id",
            "area__name",
            "workstation__street__name",
        )
        .order_by("-created_at", "-id")[:SIMILAR_CANDIDATES]
    )
    return rank_similar(text, candidates, key=public_text)


def recent_duplicate(member: Member, title: str, description: str) -> Need | None:
    """The need this worker raised with the same words a moment ago, if any."""
    since = timezone.now() - DUPLICATE_WINDOW
    return (
        Need.objects.filter(
            submitter=member,
            title=title.strip(),
            description=description.strip(),
            created_at__gte=since,
        )
        .order_by("-created_at")
        .first()
    )


class NeedCreateView(LoginRequiredMixin, TemplateView):
    """Raise a need in two steps, so one shared problem does not become fifty cases.

    1. ``describe``: the title and description. Similar published needs are looked up.
    2. ``details``: those similar needs (support one instead?) above the full form;
       submitting it raises the need at the worker's workstation.

    Attachments are chosen in step 2 only, so nothing the worker picked is lost
    between the steps, and no half-finished upload is kept on the server.
    """

    describe_template = "needs/need_describe.html"
    details_template = "needs/need_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.member = member_of(request.user)
            if self.member is None:
                return render(request, "needs/no_member.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_describe(DescribeForm())

    def post(self, request, *args, **kwargs):
        if request.POST.get("step") == "details":
            return self.post_details()
        return self.post_describe()

    def post_describe(self):
        form = DescribeForm(self.request.POST)
        if not form.is_valid():
            return self.render_describe(form)
        details = NeedForm(member=self.member, initial=form.cleaned_data)
        return self.render_details(details, **form.cleaned_data)

    def post_details(self):
        form = NeedForm(self.request.POST, self.request.FILES, member=self.member)
        if not form.is_valid():
            return self.render_details(
                form,
                title=self.request.POST.get("title", "")[:60],
                description=self.request.POST.get("description", "")[:3000],
            )
        data = form.cleaned_data
        with transaction.atomic():
            # One submission per worker at a time, so a double click cannot race past
            # the duplicate check (a row lock on PostgreSQL; SQLite serialises writes).
            Member.objects.select_for_update().filter(pk=self.member.pk).exists()
            duplicate = recent_duplicate(self.member, data["title"], data["description"])
            if duplicate is not None:
                messages.info(
                    self.request, f"您刚刚已提交过相同的诉求（{duplicate.number}），无需重复提交。"
                )
                return redirect("needs:need-detail", pk=duplicate.pk)
            try:
                need = services.need_submit(
                    member=self.member,
                    kind=data["kind"],
                    area=data["area"],
                    rights_type=data["rights_type"],
                    title=data["title"],
                    description=data["description"],
                    urgency=data["urgency"],
                    confidential=data["confidential"],
                    follow_up_consent=data["follow_up_consent"],
                    workstation=data.get("workstation"),
                    attachments=data["attachments"],
                )
            except ValidationError as error:
                form.add_error(None, error)
                response = self.render_details(form, data["title"], data["description"])
                if isinstance(error, services.TooManyNeeds):
                    response.status_code = 429
                return response
        messages.success(
            self.request,
            f"诉求已提交，编号 {need.number}。{need.workstation.name}会在时限内受理，"
            "进展会发到您的消息箱。",
        )
        return redirect("needs:need-detail", pk=need.pk)

    def render_describe(self, form):
        return render(self.request, self.describe_template, {"form": form, "member": self.member})

    def render_details(self, form, title: str = "", description: str = ""):
        similar = similar_published_needs(f"{title} {description}", self.member)
        supported = set(
            Support.objects.filter(
                member=self.member, need__in=[need for need, _ in similar]
            ).values_list("need_id", flat=True)
        )
        return render(
            self.request,
            self.details_template,
            {
                "form": form,
                "member": self.member,
                "similar": similar,
                "supported_ids": supported,
                "max_files": attachment_files.max_files(),
            },
        )


# --- one need ---------------------------------------------------------------------------


def _handler_post(need: Need) -> CadreAssignment | None:
    """The handler's post, preferring the one at the need's workstation, then street."""
    if need.handler_id is None:
        return None
    posts = list(
        CadreAssignment.objects.active()
        .filter(user_id=need.handler_id, role=CadreAssignment.Role.CADRE)
        .select_related("user")
    )
    for post in posts:
        if post.workstation_id == need.workstation_id:
            return post
    for post in posts:
        if post.street_id == need.workstation.street_id:
            return post
    return posts[0] if posts else None


def time_limits(need: Need) -> list[dict]:
    """Each stage's limit that applies, and whether it was (or is being) met, in words.

    ``met`` is True (in time), False (late, or overdue now) or None (still running).
    A stage the need never reached (withdrawn before acceptance, say) is left out.
    """
    now = timezone.now()
    rows = []
    if need.accept_due and need.accepted_at:
        rows.append(
            {
                "label": "受理时限",
                "due": need.accept_due,
                "met": not need.accepted_late,
                "state": f"已于 {timezone.localtime(need.accepted_at):%Y-%m-%d %H:%M} 受理",
            }
        )
    elif need.accept_due and need.status == Status.SUBMITTED:
        overdue = need.accept_due < now
        rows.append(
            {
                "label": "受理时限",
                "due": need.accept_due,
                "met": False if overdue else None,
                "state": "已超过受理时限" if overdue else "等待受理",
            }
        )
    if need.resolve_due and need.resolved_at:
        rows.append(
            {
                "label": "办结时限",
                "due": need.resolve_due,
                "met": not need.resolved_late,
                "state": f"已于 {timezone.localtime(need.resolved_at):%Y-%m-%d %H:%M} 办结",
            }
        )
    elif need.resolve_due and need.status in WORKING:
        overdue = need.resolve_due < now
        rows.append(
            {
                "label": "办结时限",
                "due": need.resolve_due,
                "met": False if overdue else None,
                "state": "已超过办结时限" if overdue else "正在办理",
            }
        )
    return rows


def surviving_need(need: Need) -> Need | None:
    """Where a merged need went, following a chain of merges (a few hops at most)."""
    target, hops = need.merged_into, 0
    while target is not None and target.status == Status.MERGED and hops < 5:
        target, hops = target.merged_into, hops + 1
    return target


def merged_progress(need: Need) -> dict | None:
    """What the worker of a merged duplicate may see of the need that carries on.

    The surviving need belongs to someone else: show its number, status, time
    limits, escalation, handler and the *shape* of its timeline (when, what,
    from which status to which) — never its text, notes or resolution, which
    were written to another worker and may name them. If a cadre published it,
    the public wording is shown, as on the public list.
    """
    if need.status != Status.MERGED or need.merged_into_id is None:
        return None
    target = surviving_need(need)
    if target is None:
        return None
    target = Need.objects.select_related("workstation__street", "handler", "area").get(pk=target.pk)
    return {
        "need": target,
        "events": NeedEvent.objects.public()
        .filter(need=target)
        .only("action", "actor", "from_status", "to_status", "created_at"),
        "time_limits": time_limits(target),
        "handler_post": _handler_post(target),
    }


def linked_project(need: Need) -> dict | None:
    """The service project handling the need (or the need it was merged into), if any.

    Its latest progress is shown only once the project is public, like its page.
    """
    target = surviving_need(need) if need.status == Status.MERGED else need
    if target is None:
        return None
    link = ProjectNeed.objects.filter(need=target).select_related("project").first()
    if link is None:
        return None
    project = link.project
    latest = project.updates.order_by("-created_at", "-id").first() if project.is_public else None
    return {"project": project, "latest": latest, "via_merge": target.pk != need.pk}


def detail_context(request, need: Need, *, rate_form=None, withdraw_form=None) -> dict:
    is_owner = need.submitter.user_id == request.user.pk
    workstation_cadres = []
    handler_post = _handler_post(need)
    if handler_post is None:
        workstation_cadres = list(
            CadreAssignment.objects.active()
            .filter(workstation=need.workstation, role=CadreAssignment.Role.CADRE)
            .select_related("user")
        )
    can_rate = is_owner and need.status == Status.RESOLVED
    can_withdraw = is_owner and need.status in OPEN_STATUSES
    return {
        "need": need,
        "is_owner": is_owner,
        "events": NeedEvent.objects.public().filter(need=need).select_related("by"),
        "attachments": need.attachments.all(),
        "referrals": need.referrals.all(),
        "ratings": need.ratings.all(),
        "time_limits": time_limits(need),
        "handler_post": handler_post,
        "workstation_cadres": workstation_cadres,
        "merged": merged_progress(need),
        "linked_project": linked_project(need),
        "duplicates_count": need.duplicates.count() if is_owner else 0,
        "rate_form": (rate_form or RatingForm()) if can_rate else None,
        "withdraw_form": (withdraw_form or WithdrawForm()) if can_withdraw else None,
    }


def render_detail(request, need: Need, **forms):
    return render(request, "needs/need_detail.html", detail_context(request, need, **forms))


class NeedDetailView(LoginRequiredMixin, DetailView):
    """The need and its public timeline, for its worker (and its cadres, read-only)."""

    template_name = "needs/need_detail.html"

    def get_object(self, queryset=None):
        return get_need_for_user(
            self.request,
            self.kwargs["pk"],
            Need.objects.select_related(
                "submitter", "area", "workstation__street", "handler", "merged_into"
            ),
        )

    def get_context_data(self, **kwargs):
        return detail_context(self.request, self.object)


@require_POST
@login_required
def need_withdraw(request, pk):
    need = get_own_need(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return render_detail(request, need, withdraw_form=form)
    try:
        services.need_withdraw(need=need, by=request.user, reason=form.cleaned_data["reason"])
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, "诉求已撤回，工作站将停止办理。如有需要，您可以重新提出。")
    return redirect("needs:need-detail", pk=need.pk)


@require_POST
@login_required
def need_rate(request, pk):
    need = get_own_need(request, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return render_detail(request, need, rate_form=form)
    try:
        rating = services.need_rate(need=need, by=request.user, **form.cleaned_data)
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if rating.satisfied:
            messages.success(request, "感谢您的评价，诉求已完结。")
        else:
            messages.warning(
                request, "已收到您的评价。诉求已重新交给工作站办理，工会干部会尽快与您联系。"
            )
    return redirect("needs:need-detail", pk=need.pk)


@require_GET
@login_required
def attachment_download(request, pk, attachment_pk):
    """An attachment, for those who may open the need; ``?size=thumb`` for a small image."""
    need = get_need_for_user(request, pk)
    attachment = get_object_or_404(Attachment, need=need, pk=attachment_pk)
    if request.GET.get("size") == "thumb":
        return attachment_files.thumbnail_response(attachment)
    return attachment_files.attachment_response(attachment)


# --- "me too" ---------------------------------------------------------------------------


class PublicNeedListView(ListView):
    """Needs a cadre published for "me too" support: their public wording, never the worker."""

    template_name = "needs/public_list.html"
    context_object_name = "needs"
    paginate_by = 10

    def get_queryset(self):
        self.member = member_of(self.request.user)
        # Only the columns this page may show are even loaded.
        base = (
            Need.objects.published()
            .select_related("area", "workstation__street")
            .only(
                "id",
                "public_title",
                "public_summary",
                "support_count",
                "status",
                "created_at",
                "submitter_id",
                "area__name",
                "workstation__street__name",
            )
            .order_by("-created_at", "-id")
        )
        self.filterset = PublicNeedFilter(
            self.request.GET or None, queryset=base, member=self.member
        )
        return self.filterset.qs if self.filterset.is_bound else base

    def get_context_data(self, **kwargs):
        context = super().get_context_data(filter=self.filterset, member=self.member, **kwargs)
        supported = set()
        if self.member is not None and context["needs"]:
            supported = set(
                Support.objects.filter(
                    member=self.member, need__in=[need.pk for need in context["needs"]]
                ).values_list("need_id", flat=True)
            )
        context["supported_ids"] = supported
        return context


@require_POST
@login_required
def need_support(request, pk):
    """我也有此需求 — once per worker, on a published need that is not their own."""
    need = get_object_or_404(Need.objects.published(), pk=pk)
    back = _next_url(request, reverse("needs:public-list"))
    member = member_of(request.user)
    if member is None:
        messages.error(request, "只有登记了职工档案的用户可以表示“我也有此需求”。")
        return HttpResponseRedirect(back)
    try:
        services.need_support(need=need, member=member)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"已记录：您也有“{need.public_title}”这个需求。反映的人越多，工作站越会优先办理。",
        )
    return HttpResponseRedirect(back)
