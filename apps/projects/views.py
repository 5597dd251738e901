"""Service projects in public (看得见、摸得着) and in the reviewers' hands (验收).

The showcase shows approved and later projects only, and never a worker: the needs
behind a project appear as counts, or under the public title a cadre wrote when
publishing them. Reviewers of the project's district read the evidence pack and give
their verdict through ``services.project_review``; views only parse, authorise,
call and render.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, ListView

from apps.core.errors import error_text
from apps.needs.models import Need, Support
from apps.needs.workflow import Status as NeedStatus
from apps.workstations.jurisdiction import Jurisdiction

from . import photos, services
from .context_processors import remember_reviewer_post
from .filters import ProjectFilter
from .forms import ReviewForm
from .models import (
    Evidence,
    ProgressPhoto,
    ProgressUpdate,
    ProjectNeed,
    Review,
    ServiceProject,
)
from .workflow import PUBLIC_STATUSES, Action, Status, TransitionNotAllowed

# A verdict has been reached: the panel's reviews may be shown.
CONCLUDED = frozenset({Status.ACCEPTED, Status.FAILED, Status.REWARDED})
# Milestones on the public timeline; progress has its own section, and the notes of
# "link" (need numbers) and "review" (before the panel is complete) are not public.
MILESTONES = [
    Action.PROPOSE,
    Action.APPROVE,
    Action.START,
    Action.ASSESS,
    Action.ACCEPT,
    Action.FAIL,
    Action.REWARD,
]
FORMULA = "Σ权重×min(实际/目标,1)÷Σ权重×100"


# --- figures shared by the public page and the review page --------------------------------


def _count(queryset) -> Coalesce:
    """A correlated COUNT(*) subquery, 0 when there are no rows."""
    counted = queryset.order_by().values("project").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def latest_percent() -> Subquery:
    """The percent of the project's latest progress update (NULL before the first)."""
    latest = ProgressUpdate.objects.filter(project=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(latest.values("percent")[:1], output_field=IntegerField())


def attach_demand(projects) -> None:
    """Set ``need_count`` and ``worker_count`` on each project, in two queries in all.

    The workers behind a project are counted once each: those who raised a linked
    need, and those who said "me too" to one (the workers of duplicates merged into
    a need are among its supporters). Withdrawn needs no longer count.
    """
    ids = [project.pk for project in projects]
    need_counts: dict[int, int] = defaultdict(int)
    workers: dict[int, set[int]] = defaultdict(set)
    if ids:
        links = ProjectNeed.objects.filter(project_id__in=ids).exclude(
            need__status=NeedStatus.WITHDRAWN
        )
        for project_id, member_id in links.values_list("project_id", "need__submitter_id"):
            need_counts[project_id] += 1
            workers[project_id].add(member_id)
        supports = Support.objects.filter(need__project_link__project_id__in=ids).exclude(
            need__status=NeedStatus.WITHDRAWN
        )
        for project_id, member_id in supports.values_list(
            "need__project_link__project_id", "member_id"
        ):
            workers[project_id].add(member_id)
    for project in projects:
        project.need_count = need_counts[project.pk]
        project.worker_count = len(workers[project.pk])


def _num(value: Decimal) -> str:
    """12 / 12.5 / 0.75 — no trailing zeros, no exponent."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def assessment(project: ServiceProject) -> dict:
    """Each indicator's target, actual and achievement, and the score with its working.

    ``project.indicators`` should be prefetched; the score shown is the one stored at
    assessment, the working is recomputed from the same rows for the reader to check.
    """
    indicators = list(project.indicators.all())
    rows = []
    for indicator in indicators:
        measured = indicator.actual is not None
        rows.append(
            {
                "indicator": indicator,
                "measured": measured,
                "ratio": indicator.actual / indicator.target * 100 if measured else None,
                "achievement": indicator.achievement * 100,
                "capped": measured and indicator.actual > indicator.target,
            }
        )
    total_weight = sum((i.weight for i in indicators), Decimal("0"))
    measured_all = bool(indicators) and all(row["measured"] for row in rows)
    working = ""
    if measured_all and total_weight > 0:
        terms = " + ".join(
            f"{_num(i.weight)}×{_num((i.achievement * 100).quantize(Decimal('0.1')))}%"
            for i in indicators
        )
        working = f"({terms}) ÷ {_num(total_weight)} × 100"
    return {
        "rows": rows,
        "total_weight": total_weight,
        "measured_all": measured_all,
        "working": working,
        "score": project.assessment_score,
        "formula": FORMULA,
    }


def yuan(amount: Decimal) -> str:
    """50,000.00 — grouped by thousands as on financial statements (the zh-hans locale
    has no thousands separator)."""
    return f"{amount:,.2f}"


def budget(project: ServiceProject) -> dict:
    used = project.spent / project.budget * 100 if project.budget else None
    return {
        "budget": yuan(project.budget),
        "spent": yuan(project.spent),
        "used_percent": used,
        "bar_percent": min(used, Decimal("100")) if used is not None else 0,
        "over": project.spent > project.budget,
        # What is left, or by how much the spending went over (always positive).
        "left": yuan(abs(project.budget - project.spent)),
    }


def demand(project: ServiceProject) -> dict:
    """The needs behind a project, without a trace of who raised them."""
    needs = Need.objects.filter(project_link__project=project).exclude(status=NeedStatus.WITHDRAWN)
    labels = dict(NeedStatus.choices)
    by_status = [
        {"label": labels.get(row["status"], row["status"]), "count": row["n"]}
        for row in needs.values("status").annotate(n=Count("pk")).order_by("status")
    ]
    by_area = list(needs.values("area__name").annotate(n=Count("pk")).order_by("-n", "area__name"))
    published = list(
        needs.published().order_by("-support_count", "pk").values("public_title", "support_count")
    )
    attach_demand([project])
    return {
        "need_count": project.need_count,
        "worker_count": project.worker_count,
        "by_status": by_status,
        "by_area": by_area,
        "published": published,
    }


def updates_of(project: ServiceProject):
    return project.updates.prefetch_related("photos")


# --- the public showcase ---------------------------------------------------------------


class ProjectListView(ListView):
    """Approved and later projects, newest first, filtered and paginated."""

    template_name = "projects/project_list.html"
    context_object_name = "projects"
    paginate_by = 12

    def get_queryset(self):
        base = (
            ServiceProject.objects.public()
            .select_related("area", "street", "workstation")
            .defer("standard", "result", "overspend_reason")
            .annotate(progress=latest_percent())
            .order_by("-created_at", "-id")
        )
        self.filterset = ProjectFilter(self.request.GET or None, queryset=base)
        return self.filterset.qs if self.filterset.is_bound else base

    def get_context_data(self, **kwargs):
        context = super().get_context_data(filter=self.filterset, **kwargs)
        projects = list(context["projects"])
        attach_demand(projects)
        context["projects"] = context["object_list"] = projects
        return context


class ProjectDetailView(DetailView):
    """One public project: standard, indicators and score, progress, money, acceptance."""

    template_name = "projects/project_detail.html"
    context_object_name = "project"

    def get_queryset(self):
        return (
            ServiceProject.objects.public()
            .select_related("area", "street", "workstation", "lead")
            .prefetch_related("indicators")
        )

    def get_context_data(self, **kwargs):
        project = self.object
        concluded = project.status in CONCLUDED
        reviews = list(
            project.reviews.only("project", "verdict", "score", "comments", "created_at")
        )
        updates = list(updates_of(project))
        return super().get_context_data(
            assessment=assessment(project),
            budget=budget(project),
            demand=demand(project),
            updates=updates,
            latest=updates[0] if updates else None,
            # A panel's verdicts are shown together, once it has reached its verdict.
            reviews=reviews if concluded else [],
            review_count=len(reviews),
            concluded=concluded,
            rewards=[
                (reward, yuan(reward.amount))
                for reward in project.rewards.select_related("workstation", "cadre")
            ],
            events=project.events.filter(action__in=MILESTONES).only(
                "project", "action", "from_status", "to_status", "created_at"
            ),
            **kwargs,
        )


@require_GET
def progress_photo(request, pk, photo_pk):
    """A progress photo of a public project, for anyone; ``?size=thumb`` for a small one."""
    photo = get_object_or_404(
        ProgressPhoto.objects.filter(update__project__status__in=PUBLIC_STATUSES),
        pk=photo_pk,
        update__project_id=pk,
    )
    if request.GET.get("size") == "thumb":
        return photos.thumbnail_response(photo.image, public=True)
    return photos.image_response(photo.image, public=True)


# --- reviewers (考核人员) --------------------------------------------------------------


class LeadMayNotReview(Exception):
    """The project's own lead opened its review: refused with a clear page, not a 404."""

    def __init__(self, project: ServiceProject):
        super().__init__("项目负责人不能验收自己的项目。")
        self.project = project

    def response(self, request):
        return render(request, "projects/review_lead.html", {"project": self.project}, status=403)


def reviewer_scope(request) -> Jurisdiction:
    """The user's reviewer posts; also refreshes the header's link to the review queue."""
    scope = Jurisdiction.for_user(request.user, role="reviewer")
    remember_reviewer_post(request, not scope.is_empty)
    return scope


def get_project_for_review(request, pk: int) -> ServiceProject:
    """A public project of the reviewer's district; 404 for anyone else, 403 for its lead."""
    reviewer_scope(request)
    project = get_object_or_404(
        ServiceProject.objects.public()
        .select_related("area", "street__district", "workstation", "lead")
        .prefetch_related("indicators"),
        pk=pk,
    )
    if project.lead_id == request.user.pk:
        raise LeadMayNotReview(project)
    if not services.reviewer_may_review(request.user, project):
        raise Http404("不在您验收的范围内")
    return project


def projects_with_evidence_for(user):
    """Projects whose evidence the user may open: reviewers of the district, cadres above it."""
    as_reviewer = Jurisdiction.for_user(user, role="reviewer")
    as_cadre = Jurisdiction.for_user(user)
    if as_reviewer.everything or as_cadre.everything:
        return ServiceProject.objects.all()
    return ServiceProject.objects.filter(
        as_reviewer.q_for(ServiceProject) | as_cadre.q_for(ServiceProject)
    )


class ReviewQueueView(LoginRequiredMixin, ListView):
    """Assessed projects of the reviewer's district still waiting for their verdict."""

    template_name = "projects/review_queue.html"
    context_object_name = "projects"
    paginate_by = 20

    def get_queryset(self):
        scope = reviewer_scope(self.request)
        if scope.is_empty:
            raise PermissionDenied("只有考核人员可以验收服务项目。")
        user = self.request.user
        return (
            ServiceProject.objects.within(scope)
            .filter(status=Status.ASSESSED)
            .exclude(lead=user)
            .exclude(reviews__reviewer=user)
            .select_related("area", "street", "workstation")
            .only(
                "id",
                "number",
                "title",
                "kind",
                "status",
                "panel_size",
                "assessment_score",
                "actual_end",
                "budget",
                "spent",
                "area__name",
                "street__name",
                "workstation__name",
            )
            .annotate(review_count=_count(Review.objects.filter(project=OuterRef("pk"))))
            # Longest waiting first.
            .order_by("actual_end", "id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["my_reviews"] = (
            Review.objects.filter(reviewer=self.request.user)
            .select_related("project")
            .only(
                "verdict",
                "score",
                "created_at",
                "project__id",
                "project__number",
                "project__title",
                "project__status",
                "project__acceptance_score",
            )
            .order_by("-created_at", "-id")[:10]
        )
        return context


EVIDENCE_EXPECTED = [
    Evidence.Kind.PHOTO,
    Evidence.Kind.ATTENDANCE,
    Evidence.Kind.SIGNOFF,
    Evidence.Kind.BUDGET,
]


def evidence_pack(project: ServiceProject) -> list[dict]:
    """The evidence by kind, the expected kinds always listed so a gap shows."""
    rows = list(project.evidence.all())
    groups = []
    for kind, label in Evidence.Kind.choices:
        items = [e for e in rows if e.kind == kind]
        if items or kind in EVIDENCE_EXPECTED:
            attendance = [e.attendance for e in items if e.attendance is not None]
            groups.append(
                {
                    "kind": kind,
                    "label": label,
                    "items": items,
                    "attendance": sum(attendance) if attendance else None,
                }
            )
    return groups


def review_context(request, project: ServiceProject, *, form=None) -> dict:
    reviews = list(project.reviews.select_related("reviewer"))
    mine = next((r for r in reviews if r.reviewer_id == request.user.pk), None)
    concluded = project.status in CONCLUDED
    can_review = project.status == Status.ASSESSED and mine is None
    if can_review and form is None:
        form = ReviewForm(assessment_score=project.assessment_score)
    return {
        "project": project,
        "assessment": assessment(project),
        "budget": budget(project),
        "demand": demand(project),
        "evidence": evidence_pack(project),
        "updates": list(updates_of(project)),
        "concluded": concluded,
        # Before the verdict a reviewer sees how many have reviewed, not what they said,
        # so that each judges the project on its own.
        "reviews": reviews if concluded else [],
        "review_count": len(reviews),
        "my_review": mine,
        "form": form if can_review else None,
    }


def render_review(request, project: ServiceProject, **kwargs):
    return render(
        request, ProjectReviewView.template_name, review_context(request, project, **kwargs)
    )


class ProjectReviewView(LoginRequiredMixin, DetailView):
    """The review page: everything the verdict rests on, and the form while it is open."""

    template_name = "projects/review_detail.html"

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except LeadMayNotReview as refusal:
            return refusal.response(request)

    def get_object(self, queryset=None):
        return get_project_for_review(self.request, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        return review_context(self.request, self.object)


@require_POST
@login_required
def project_review_submit(request, pk):
    try:
        project = get_project_for_review(request, pk)
    except LeadMayNotReview as refusal:
        return refusal.response(request)
    form = ReviewForm(request.POST, assessment_score=project.assessment_score)
    if not form.is_valid():
        return render_review(request, project, form=form)
    try:
        services.project_review(project=project, reviewer=request.user, **form.cleaned_data)
    except (PermissionDenied, TransitionNotAllowed) as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        project.refresh_from_db(fields=["status", "acceptance_score", "panel_size"])
        if project.status == Status.ACCEPTED:
            messages.success(
                request,
                f"验收完成：“{project.title}”通过验收，验收得分 {project.acceptance_score} 分。"
                "关联诉求已办结，职工会收到评价邀请。",
            )
        elif project.status == Status.FAILED:
            messages.warning(
                request,
                f"验收完成：“{project.title}”未通过验收（{project.acceptance_score} 分），"
                "关联诉求已退回工作站继续办理。",
            )
        else:
            left = project.panel_size - project.reviews.count()
            messages.success(
                request,
                f"已提交您对“{project.title}”的验收意见。评审组还需 {left} 位考核人员提交意见。",
            )
        return redirect("projects:review-queue")
    return redirect("projects:project-review", pk=project.pk)


@require_GET
@login_required
def evidence_download(request, pk, evidence_pk):
    """An evidence file, for reviewers of the district and cadres of the jurisdiction."""
    project = get_object_or_404(projects_with_evidence_for(request.user), pk=pk)
    evidence = get_object_or_404(Evidence, project=project, pk=evidence_pk)
    if request.GET.get("size") == "thumb":
        return photos.thumbnail_response(evidence.file, public=False)
    stem = f"{project.number}-{evidence.get_kind_display()}-{evidence.pk}"
    return photos.download_response(evidence.file, filename_stem=stem)
