"""The cadres' side of service projects: a scoped list, the project page and its action panel.

Every change of a project's state goes through ``apps.projects.services``; the
admin never sets ``status``, scores or actual values itself. The change form
edits the plan (title, standard, dates, budget, lead, indicators) only while the
project is proposed or approved; afterwards the page is a record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import PurePath

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaksbr
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin_mixins import JurisdictionAdminMixin, ScopedRelatedFilter
from apps.core.errors import error_text
from apps.core.privacy import mask_name
from apps.needs.models import Need, Support

from . import photos, services
from .admin_forms import (
    ACTION_FORMS,
    EVIDENCE,
    EVIDENCE_STATUSES,
    SCORE_FORMULA,
    IndicatorForm,
    IndicatorFormSet,
    ProjectAdminForm,
    plain,
)
from .models import (
    Evidence,
    Indicator,
    ProgressPhoto,
    ProgressUpdate,
    ProjectEvent,
    ProjectNeed,
    Review,
    Reward,
    ServiceProject,
)
from .workflow import RUNNING, Action, Status, TransitionNotAllowed, allowed_actions

ACTION_FIELD = "_project_action"

# The plan is settled before work starts; afterwards the project is measured against it.
EDITABLE_STATUSES = frozenset({Status.PROPOSED, Status.APPROVED})
EDITABLE_FIELDS = (
    "title",
    "summary",
    "standard",
    "planned_start",
    "planned_end",
    "budget",
    "lead",
    "panel_size",
)
# The panel's sections, in the order a project meets them.
PANEL_ORDER = [
    Action.APPROVE,
    Action.START,
    Action.PROGRESS,
    Action.ASSESS,
    EVIDENCE,
    Action.LINK,
    Action.REWARD,
    Action.CANCEL,
]
# The step a cadre most likely takes next: its panel section starts open.
NEXT_STEP = {
    Status.PROPOSED: Action.APPROVE,
    Status.APPROVED: Action.START,
    Status.IN_PROGRESS: Action.PROGRESS,
    Status.ASSESSED: EVIDENCE,
    Status.ACCEPTED: Action.REWARD,
}
# What the page says when no cadre action moves the project on.
WAITING = {
    Status.ASSESSED: "已完成考核，等待考核人员验收（验收在“项目验收”页面进行，项目负责人不能验收本项目）。",
    Status.FAILED: "项目验收未通过，关联诉求已退回工作站继续办理。",
    Status.CANCELLED: "项目已撤销，关联诉求已退回工作站继续办理。",
}

SUCCESS = {
    Action.APPROVE: "项目 {number} 已批准立项，关联诉求的职工已收到通知。",
    Action.START: "项目 {number} 已开始实施。",
    Action.PROGRESS: "已发布项目 {number} 的进展，关联诉求的职工已收到通知。",
    Action.LINK: "已将 {count} 件诉求关联到项目 {number}，职工已收到通知。",
    Action.ASSESS: "项目 {number} 已完成考核，考核得分 {score}，等待考核人员验收。",
    EVIDENCE: "已为项目 {number} 添加验收材料。",
    Action.REWARD: "已记录对项目 {number} 的奖励。",
    Action.CANCEL: "项目 {number} 已撤销，关联诉求已退回工作站继续办理。",
}


def project_error_text(exc: Exception) -> str:
    return error_text(exc, denied="您无权处理该服务项目。")


def form_errors_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        text = "；".join(errors)
        parts.append(f"{form.fields[name].label}：{text}" if name in form.fields else text)
    return "；".join(parts)


def badge(tone: str, text: str):
    return format_html('<span class="project-badge project-badge--{}">{}</span>', tone, text)


def yuan(amount) -> str:
    """12,000 or 12,000.50: the cents only when there are some."""
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def user_name(user) -> str:
    return (user.name or user.username) if user else "—"


def workers_behind(project_ids) -> dict[int, set[int]]:
    """The workers who raised or supported the linked needs, per project (two queries)."""
    workers: dict[int, set[int]] = defaultdict(set)
    raised = Need.objects.filter(project_link__project__in=project_ids).values_list(
        "project_link__project", "submitter"
    )
    supported = Support.objects.filter(need__project_link__project__in=project_ids).values_list(
        "need__project_link__project", "member"
    )
    for project_id, member_id in [*raised, *supported]:
        workers[project_id].add(member_id)
    return workers


@transaction.atomic
def add_evidence(*, project: ServiceProject, by, kind, file=None, note="", attendance=None):
    """验收材料 for the reviewers, while the project runs or waits for acceptance."""
    project = ServiceProject.objects.select_for_update().get(pk=project.pk)
    if project.status not in EVIDENCE_STATUSES:
        raise ValidationError(
            f"项目当前状态为“{project.get_status_display()}”，不能再添加验收材料。"
        )
    evidence = Evidence(
        project=project,
        kind=kind,
        file=file or "",
        note=(note or "").strip(),
        attendance=attendance,
        uploaded_by=by,
    )
    evidence.full_clean(exclude=["file"])
    evidence.save()
    return evidence


# --- list filters ---------------------------------------------------------------------


class OwnerKindFilter(admin.SimpleListFilter):
    title = "承办层级"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [("workstation", "工作站承办"), ("street", "街道（开发区）直接承办")]

    def queryset(self, request, queryset):
        if self.value() == "workstation":
            return queryset.filter(workstation__isnull=False)
        if self.value() == "street":
            return queryset.filter(workstation__isnull=True)
        return queryset


# --- inlines --------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IndicatorInline(admin.TabularInline):
    """Indicators are part of the plan: editable while proposed or approved, then fixed."""

    model = Indicator
    form = IndicatorForm
    formset = IndicatorFormSet
    fields = ["name", "target", "unit", "weight", "actual", "order"]
    extra = 0
    verbose_name_plural = "考核指标（实际值在考核时填写）"

    def _editable(self, obj) -> bool:
        return obj is not None and obj.status in EDITABLE_STATUSES

    def get_extra(self, request, obj=None, **kwargs):
        # A new project gets an empty row to start from.
        if self._editable(obj) and not obj.indicators.exists():
            return 1
        return 0

    def get_readonly_fields(self, request, obj=None):
        if self._editable(obj):
            return ["actual"]
        return self.fields

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class ProgressUpdateInline(ReadOnlyInline):
    model = ProgressUpdate
    fields = ["created_at", "percent", "text", "photos_display", "posted_by"]
    readonly_fields = fields
    verbose_name_plural = "项目进展（公开展示；已发布的进展不可修改）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by").prefetch_related("photos")

    @admin.display(description="发布人")
    def posted_by(self, update):
        return user_name(update.created_by)

    @admin.display(description="照片")
    def photos_display(self, update):
        photos = list(update.photos.all())
        if not photos:
            return "—"
        return format_html_join(
            " ",
            "<a href='{0}' target='_blank' rel='noopener'>"
            "<img src='{0}?size=thumb' alt='进展照片 {1}' class='project-thumb'></a>",
            (
                (
                    reverse(
                        "admin:projects_serviceproject_photo", args=[update.project_id, photo.pk]
                    ),
                    index,
                )
                for index, photo in enumerate(photos, 1)
            ),
        )


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["kind", "file_display", "note", "attendance", "uploader", "uploaded_at"]
    readonly_fields = fields
    verbose_name_plural = "验收材料"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="文件")
    def file_display(self, evidence):
        if not evidence.file:
            return "—"
        url = reverse(
            "admin:projects_serviceproject_evidence", args=[evidence.project_id, evidence.pk]
        )
        suffix = PurePath(evidence.file.name).suffix.lstrip(".").upper()
        return format_html(
            "<a href='{}' target='_blank' rel='noopener'>查看（{}）</a>", url, suffix
        )

    @admin.display(description="上传人")
    def uploader(self, evidence):
        return user_name(evidence.uploaded_by)


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = ["reviewer_name", "verdict", "score", "comments", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "验收评审（由考核人员提交）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer")

    @admin.display(description="验收人")
    def reviewer_name(self, review):
        return user_name(review.reviewer)


class RewardInline(ReadOnlyInline):
    model = Reward
    fields = ["kind", "recipient", "amount", "reason", "decided_by", "awarded_at"]
    readonly_fields = fields
    verbose_name_plural = "奖励"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workstation", "cadre", "awarded_by")

    @admin.display(description="获奖对象")
    def recipient(self, reward):
        parts = [str(reward.workstation)] if reward.workstation else []
        if reward.cadre:
            parts.append(user_name(reward.cadre))
        return "、".join(parts)

    @admin.display(description="决定人")
    def decided_by(self, reward):
        return user_name(reward.awarded_by)


class ProjectEventInline(ReadOnlyInline):
    """The audit trail: read only, never edited or deleted."""

    model = ProjectEvent
    fields = ["created_at", "action", "who", "status_change", "note"]
    readonly_fields = fields
    verbose_name_plural = "项目记录（记录不可修改或删除）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    @admin.display(description="操作人")
    def who(self, event):
        return user_name(event.by) if event.by else "系统"

    @admin.display(description="状态")
    def status_change(self, event):
        if event.from_status == event.to_status:
            return "—"
        if not event.from_status:
            return event.get_to_status_display()
        return f"{event.get_from_status_display()} → {event.get_to_status_display()}"


# --- projects -------------------------------------------------------------------------


@admin.register(ServiceProject)
class ServiceProjectAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    form = ProjectAdminForm
    # Lead under the owner and the planned end under the status: the list fits a 1280px
    # screen next to the admin's two sidebars.
    list_display = [
        "title_display",
        "owner_display",
        "status_badge",
        "need_count",
        "worker_count",
        "money_display",
    ]
    list_filter = [
        "status",
        "kind",
        "area",
        "beneficiary",
        ("street", ScopedRelatedFilter),
        OwnerKindFilter,
    ]
    list_select_related = ["area", "street", "workstation", "lead"]
    list_per_page = 50
    search_fields = ["number", "title", "summary"]
    search_help_text = "按项目编号、名称或简介搜索"
    show_full_result_count = False  # one COUNT per page view, not two

    # --- the list -------------------------------------------------------------------

    def get_queryset(self, request):
        linked = (
            ProjectNeed.objects.filter(project=OuterRef("pk"))
            .order_by()
            .values("project")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(linked_needs=Coalesce(Subquery(linked, output_field=IntegerField()), 0))
        )

    def get_changelist_instance(self, request):
        """Attach the number of workers behind each project of the page: two queries in all."""
        changelist = super().get_changelist_instance(request)
        projects = list(changelist.result_list)  # evaluates and caches the page
        workers = workers_behind([p.pk for p in projects])
        for project in projects:
            project.workers_behind = len(workers.get(project.pk, ()))
        return changelist

    @admin.display(description="项目", ordering="number")
    def title_display(self, project):
        return format_html(
            "{}<div class='project-meta'>{} · {} · {}</div>",
            project.title,
            project.number,
            project.get_kind_display(),
            project.area.name,
        )

    @admin.display(description="承办 · 负责人", ordering="workstation__code")
    def owner_display(self, project):
        if project.workstation_id:
            return format_html(
                "{}<div class='project-meta'>负责人 {}</div>",
                project.workstation.name,
                user_name(project.lead),
            )
        return format_html(
            "{}<div class='project-meta'>街道直接承办 · 负责人 {}</div>",
            project.street,
            user_name(project.lead),
        )

    @admin.display(description="状态 · 计划完成", ordering="status")
    def status_badge(self, project):
        end = project.planned_end
        late = project.status in RUNNING and end < timezone.localdate()
        return format_html(
            "{}<div class='project-meta{}'>{}{}</div>",
            badge(project.status, project.get_status_display()),
            " project-over" if late else "",
            "已超期 · " if late else "计划 ",
            end.strftime("%Y-%m-%d"),
        )

    @admin.display(description="诉求", ordering="linked_needs")
    def need_count(self, project):
        return project.linked_needs

    @admin.display(description="职工")
    def worker_count(self, project):
        """Workers who raised or supported a linked need, each counted once."""
        return getattr(project, "workers_behind", "—")

    @admin.display(description="预算（元）", ordering="budget")
    def money_display(self, project):
        over = project.spent > project.budget
        return format_html(
            "{}<div class='project-meta{}'>已支出 {}</div>",
            yuan(project.budget),
            " project-over" if over else "",
            yuan(project.spent) + ("，超支" if over else ""),
        )

    def get_list_filter(self, request):
        # A workstation cadre sees only their workstations' projects: no street-run ones.
        scope = self.jurisdiction(request)
        if scope.everything or scope.district_ids or scope.street_ids:
            return self.list_filter
        return [f for f in self.list_filter if f is not OwnerKindFilter]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "服务项目", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # --- permissions ----------------------------------------------------------------

    def has_add_permission(self, request):
        # A project answers needs: it is created from the needs changelist.
        return False

    def has_delete_permission(self, request, obj=None):
        # A project carries its audit trail and the workers' needs: it is cancelled, not deleted.
        return False

    # --- the change page ------------------------------------------------------------

    def _editable(self, project) -> bool:
        return project is not None and project.status in EDITABLE_STATUSES

    def get_fieldsets(self, request, obj=None):
        project = obj
        if project is None:
            return []
        money = [("budget", "spent_display")]
        if project.overspend_reason:
            money.append("overspend_reason")
        money += [("planned_start", "planned_end"), ("actual_start", "actual_end")]
        fieldsets = [
            (
                "项目",
                {
                    "fields": [
                        ("number", "status_display"),
                        "title",
                        "summary",
                        ("kind", "area_name", "beneficiary"),
                        "owner_full",
                        "lead" if self._editable(project) else "lead_name",
                        "created_display",
                    ]
                },
            ),
            (
                "标准（有标准）",
                {
                    "fields": ["standard", "panel_size"],
                    "description": "立项前须写明项目标准，并在下方设置至少一项可量化的考核指标。"
                    if self._editable(project)
                    else "",
                },
            ),
            ("经费与时间", {"fields": money}),
        ]
        if project.assessment_score is not None or project.result:
            fieldsets.append(
                (
                    "考核与验收（有考核、有验收）",
                    {"fields": ["assessment_display", "acceptance_display", "result_display"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        editable = set(EDITABLE_FIELDS) if self._editable(obj) else set()
        return [f for f in fields if f not in editable]

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        # Once measured, the indicators are shown with their part of the score instead.
        inlines = [IndicatorInline] if obj.assessment_score is None else []
        if obj.status not in {Status.PROPOSED, Status.CANCELLED}:
            inlines.append(ProgressUpdateInline)
        if obj.evidence.exists():
            inlines.append(EvidenceInline)
        if obj.reviews.exists():
            inlines.append(ReviewInline)
        if obj.status == Status.REWARDED:
            inlines.append(RewardInline)
        return [*inlines, ProjectEventInline]

    @admin.display(description="状态")
    def status_display(self, project):
        return badge(project.status, project.get_status_display())

    @admin.display(description="服务领域")
    def area_name(self, project):
        return project.area.name

    @admin.display(description="项目负责人")
    def lead_name(self, project):
        # Plain text: user accounts are the superuser's business (no link to them).
        return user_name(project.lead)

    @admin.display(description="承办单位")
    def owner_full(self, project):
        if project.workstation_id:
            return f"{project.workstation.name}（{project.street}）"
        return f"{project.street}工会（街道直接承办）"

    @admin.display(description="提出")
    def created_display(self, project):
        return (
            f"{user_name(project.created_by)} · "
            f"{timezone.localtime(project.created_at):%Y-%m-%d %H:%M}"
        )

    @admin.display(description="已支出（元）")
    def spent_display(self, project):
        if project.spent > project.budget:
            return format_html("{} {}", project.spent, badge("over", "超出预算"))
        return project.spent

    @admin.display(description="考核得分")
    def assessment_display(self, project):
        if project.assessment_score is None:
            return "—"
        return format_html(
            "<strong>{}</strong> 分（计算过程见下方“考核明细”）", project.assessment_score
        )

    @admin.display(description="验收得分")
    def acceptance_display(self, project):
        if project.acceptance_score is None:
            return "尚未验收"
        return f"{project.acceptance_score} 分（{project.panel_size} 位考核人员评分的平均值）"

    @admin.display(description="项目成果")
    def result_display(self, project):
        return linebreaksbr(project.result) if project.result else "—"

    def get_object(self, request, object_id, from_field=None):
        """Scoped like the list; with what the change page reads several times."""
        queryset = self.get_queryset(request).select_related(
            "area", "street__district", "workstation", "lead", "created_by"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (ValueError, ServiceProject.DoesNotExist):
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            editable = self._editable(obj)
            context.update(
                show_save=editable,
                show_save_and_continue=editable,
                show_save_and_add_another=False,
                show_delete=False,
                demand=self._demand(request, obj),
                assessment=self._assessment(obj),
                score_formula=SCORE_FORMULA,
            )
            if self.has_change_permission(request, obj):
                panel = self._action_panel(request, obj)
                context.update(panel, show_action_panel=True)
                for form in panel["action_forms"]:
                    context["media"] += form.media  # the date pickers
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _assessment(self, project) -> dict | None:
        """Each indicator's part of the score and the sums, once measured (the formula shown)."""
        indicators = list(project.indicators.all())
        if not indicators or any(i.actual is None for i in indicators):
            return None
        rows = [
            {
                "indicator": i,
                "achievement": f"{i.achievement * 100:.0f}%",
                "weighted": i.weight * i.achievement,
            }
            for i in indicators
        ]
        total_weight = sum(i.weight for i in indicators)
        total_weighted = sum(row["weighted"] for row in rows)
        return {
            "rows": [{**row, "weighted": f"{row['weighted']:.2f}"} for row in rows],
            "total_weight": plain(total_weight),
            "total_weighted": f"{total_weighted:.2f}",
        }

    def _demand(self, request, project) -> dict:
        """The demand behind the project: its needs, their workers, their workplaces.

        Names are masked, and a confidential need shows neither who raised it nor
        its title (it might name the employer).
        """
        needs = list(
            Need.objects.filter(project_link__project=project)
            .select_related("submitter__user", "unit__ownership", "area")
            .order_by("created_at", "pk")
        )
        visible = set(
            Need.objects.within_jurisdiction_of(request.user)
            .filter(pk__in=[n.pk for n in needs])
            .values_list("pk", flat=True)
        )
        # Ownership per worker: their unit when they raised the need, or when they supported it.
        ownership: dict[int, str] = {}
        for need in needs:
            unit = need.unit
            ownership.setdefault(
                need.submitter_id, unit.ownership.name if unit and unit.ownership else ""
            )
        supporters = Support.objects.filter(need__project_link__project=project).values_list(
            "member", "member__unit__ownership__name"
        )
        for member_id, name in supporters:
            ownership.setdefault(member_id, name or "")
        counts = Counter(name or "未在单位名录中" for name in ownership.values())
        rows = []
        for need in needs:
            rows.append(
                {
                    "need": need,
                    "url": reverse("admin:needs_need_change", args=[need.pk])
                    if need.pk in visible
                    else "",
                    "title": "（保密诉求，内容不在此显示）" if need.confidential else need.title,
                    "worker": "保密" if need.confidential else mask_name(need.submitter.user.name),
                }
            )
        return {
            "rows": rows,
            "workers": len(ownership),
            "supports": sum(n.support_count for n in needs),
            "ownership": counts.most_common(),
        }

    # --- the action panel -----------------------------------------------------------

    def _panel_actions(self, project) -> list[str]:
        allowed = set(allowed_actions(project.status))
        if project.status in EVIDENCE_STATUSES:
            allowed.add(EVIDENCE)
        return [a for a in PANEL_ORDER if a in allowed]

    def _action_panel(self, request, project) -> dict:
        forms = []
        for action in self._panel_actions(project):
            form = ACTION_FORMS[action](project=project, user=request.user)
            form.refusal = ""
            if action == Action.APPROVE:
                if not services.may_approve(request.user, project):
                    form.refusal = (
                        "立项须由街道（开发区）或县区工会干部批准。"
                        "请先写明项目标准、设置考核指标，再请上级审批。"
                    )
                form.missing = self._missing_for_approval(project)
            elif action == Action.REWARD and not services.may_reward(request.user, project):
                form.refusal = "奖励由县区工会决定。"
            form.open = NEXT_STEP.get(project.status) == action and not form.refusal
            forms.append(form)
        return {
            "action_forms": forms,
            "action_field": ACTION_FIELD,
            "waiting": WAITING.get(project.status, ""),
        }

    def _missing_for_approval(self, project) -> list[str]:
        missing = []
        if not project.standard.strip():
            missing.append("项目标准")
        if not project.indicators.exists():
            missing.append("至少一项考核指标")
        return missing

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST" and ACTION_FIELD in request.POST:
            project = self.get_object(request, unquote(object_id))
            if project is None:
                raise Http404(f"{self.opts.verbose_name} 不存在")
            if not self.has_change_permission(request, project):
                raise PermissionDenied
            self._act(request, project)
            return redirect("admin:projects_serviceproject_change", project.pk)
        extra_context = {"title": "服务项目", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _act(self, request, project) -> None:
        """Run one action of the panel through the services; any refusal changes nothing."""
        action = request.POST.get(ACTION_FIELD)
        form_class = ACTION_FORMS.get(action)
        if form_class is None:
            self.message_user(request, "未知的操作。", messages.ERROR)
            return
        if request.POST.get("expected_status") != project.status:
            self.message_user(
                request,
                f"该项目刚刚已被他人处理，当前状态为“{project.get_status_display()}”。"
                "请查看后再操作。",
                messages.ERROR,
            )
            return
        form = form_class(request.POST, request.FILES, project=project, user=request.user)
        if not form.is_valid():
            self.message_user(request, form_errors_text(form), messages.ERROR)
            return
        try:
            done = self._run(request, project, action, form)
        except (TransitionNotAllowed, ValidationError, PermissionDenied) as exc:
            self.message_user(request, project_error_text(exc), messages.ERROR)
            return
        self.message_user(
            request, SUCCESS[action].format(number=project.number, **done), messages.SUCCESS
        )
        self.log_change(request, project, form.label)

    def _run(self, request, project, action, form) -> dict:
        by, data = request.user, form.cleaned_data
        if action == Action.APPROVE:
            services.project_approve(project=project, by=by, note=data["note"])
        elif action == Action.START:
            services.project_start(project=project, by=by, on=data["on"])
        elif action == Action.PROGRESS:
            services.project_post_progress(
                project=project,
                by=by,
                text=data["text"],
                percent=data["percent"],
                photos=data["photos"],
            )
        elif action == Action.LINK:
            needs = list(Need.objects.within_jurisdiction_of(by).filter(number__in=data["numbers"]))
            missing = sorted(set(data["numbers"]) - {n.number for n in needs})
            if missing:
                raise ValidationError(
                    f"未找到诉求 {'、'.join(missing)}（只能关联您管辖范围内的诉求）。"
                )
            services.project_link_needs(project=project, needs=needs, by=by)
            return {"count": len(needs)}
        elif action == Action.ASSESS:
            assessed = services.project_assess(
                project=project,
                by=by,
                actuals=form.actuals(),
                result=data["result"],
                spent=data["spent"],
                overspend_reason=data["overspend_reason"],
                finished_on=data["finished_on"],
            )
            return {"score": assessed.assessment_score}
        elif action == EVIDENCE:
            add_evidence(
                project=project,
                by=by,
                kind=data["kind"],
                file=data["file"],
                note=data["note"],
                attendance=data["attendance"],
            )
        elif action == Action.REWARD:
            services.project_reward(
                project=project,
                by=by,
                kind=data["kind"],
                reason=data["reason"],
                amount=data["amount"],
                workstation=data["workstation"],
                cadre=data["cadre"],
            )
        elif action == Action.CANCEL:
            services.project_cancel(project=project, by=by, reason=data["reason"])
        return {}

    # --- saving the plan --------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        # Only the edited columns of the plan are written, under a lock: a status
        # changed meanwhile by another cadre is never overwritten with a stale copy.
        fields = [f for f in form.changed_data if f in EDITABLE_FIELDS]
        if not change or not fields:
            return
        current = ServiceProject.objects.select_for_update().get(pk=obj.pk)
        if current.status not in EDITABLE_STATUSES:
            self.message_user(
                request,
                f"项目已{current.get_status_display()}，计划不能再修改。",
                messages.ERROR,
            )
            return
        obj.save(update_fields=[*fields, "updated_at"])

    # --- files (MEDIA_ROOT is not served: each file is read through its project) ------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/photo/<int:photo_id>/",
                view(self.photo_view),
                name="projects_serviceproject_photo",
            ),
            path(
                "<path:object_id>/evidence/<int:evidence_id>/",
                view(self.evidence_view),
                name="projects_serviceproject_evidence",
            ),
            *super().get_urls(),
        ]

    def _project_or_404(self, request, object_id) -> ServiceProject:
        project = self.get_object(request, unquote(object_id))
        if project is None or not self.has_view_or_change_permission(request, project):
            raise Http404("服务项目不存在")
        return project

    def photo_view(self, request, object_id, photo_id):
        project = self._project_or_404(request, object_id)
        photo = ProgressPhoto.objects.filter(update__project=project, pk=photo_id).first()
        if photo is None:
            raise Http404("照片不存在")
        if request.GET.get("size") == "thumb":
            return photos.thumbnail_response(photo.image, public=False)
        return photos.image_response(photo.image, public=False)

    def evidence_view(self, request, object_id, evidence_id):
        project = self._project_or_404(request, object_id)
        evidence = Evidence.objects.filter(project=project, pk=evidence_id).first()
        if evidence is None:
            raise Http404("验收材料不存在")
        stem = f"{project.number}-{evidence.get_kind_display()}-{evidence.pk}"
        return photos.download_response(evidence.file, filename_stem=stem)
