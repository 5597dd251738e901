"""The cadres' side of needs: a scoped, prioritised queue; the action panel; offline recording.

Every change of a need goes through ``apps.needs.services``; the admin never
sets a workflow field itself. The change form edits only the handler.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.core.admin import DistrictEditsAdminMixin
from apps.core.admin_mixins import (
    CappedCountPaginator,
    JurisdictionAdminMixin,
    ScopedRelatedFilter,
)
from apps.core.errors import error_text
from apps.core.privacy import mask_mobile, mask_name
from apps.members.services import member_register_offline
from apps.members.validators import mobile_validator
from apps.projects import services as project_services
from apps.projects.admin_forms import ProjectCreateForm, ProjectLinkForm, running_projects
from apps.projects.models import ProjectNeed, ServiceProject
from apps.projects.workflow import RUNNING
from apps.projects.workflow import TransitionNotAllowed as ProjectTransitionNotAllowed

from . import services
from .admin_forms import (
    ACTION_FORMS,
    TEMPLATE_FIELD,
    BulkReasonForm,
    NeedAdminForm,
    OfflineNeedForm,
)
from .models import Channel, Need, NeedEvent, Referral, ReplyTemplate, ServiceArea, TimeLimit
from .similarity import need_text, rank_similar
from .workflow import (
    OPEN_STATUSES,
    TRANSITIONS,
    WORKING,
    Action,
    Actor,
    Status,
    TransitionNotAllowed,
    allowed_actions,
)

ACTION_FIELD = "_need_action"
SIMILAR_FIELD = "_similar_action"

# The similar-needs panel compares the need with at most this many open needs of its
# area (the newest), so the page costs the same however long the queue grows.
SIMILAR_CANDIDATES = 200
SIMILAR_SHOWN = 10

# Refusals of the project services (and of the needs they move), shown to the cadre as they are.
PROJECT_ERRORS = (
    ValidationError,
    PermissionDenied,
    ProjectTransitionNotAllowed,
    TransitionNotAllowed,
)

# Statuses in which a cadre may still write on the need's timeline (handler, referral follow-up).
NOTE_STATUSES = TRANSITIONS[Action.NOTE].sources

# The step a cadre most likely takes next: its panel section starts open.
NEXT_STEP = {
    Status.SUBMITTED: Action.ACCEPT,
    Status.ACCEPTED: Action.START,
    Status.IN_PROGRESS: Action.RESOLVE,
    Status.RESOLVED: Action.REPLY,
}

SUCCESS = {
    Action.ACCEPT: "诉求 {number} 已受理。",
    Action.REJECT: "诉求 {number} 已不予受理，理由已告知职工。",
    Action.MERGE: "诉求 {number} 已合并到 {into}，职工已收到通知。",
    Action.START: "诉求 {number} 已开始办理。",
    Action.REPLY: "已回复职工（诉求 {number}）。",
    Action.NOTE: "已记录内部备注（诉求 {number}）。",
    Action.REFER: "诉求 {number} 已转介，请在“转介”中记录跟进情况。",
    Action.RESOLVE: "诉求 {number} 已办结，已请职工评价。",
    Action.PUBLISH: "诉求 {number} 已公开征集“我也有此需求”。",
    Action.UNPUBLISH: "诉求 {number} 已取消公开。",
}


def _error_text(exc: Exception) -> str:
    return error_text(exc, denied="您无权处理该诉求。")


def _badge(tone: str, text: str):
    return format_html('<span class="need-badge need-badge--{}">{}</span>', tone, text)


# --- list filters ---------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """The queue opens on what still waits for the union; a search looks at everything."""

    title = "状态"
    parameter_name = "status"
    OPEN, ALL = "open", "all"

    def lookups(self, request, model_admin):
        return [(self.OPEN, "待办（待受理、已受理、办理中）"), *Status.choices, (self.ALL, "全部")]

    @classmethod
    def _pick(cls, value: str | None, searching: bool) -> str:
        return value or (cls.ALL if searching else cls.OPEN)

    def _current(self, searching: bool) -> str:
        return self._pick(self.value(), searching)

    @classmethod
    def current(cls, request) -> str:
        """The status the list shows for ``request``, before the filter is built."""
        return cls._pick(request.GET.get(cls.parameter_name), bool(request.GET.get(SEARCH_VAR)))

    def queryset(self, request, queryset):
        value = self._current(bool(request.GET.get(SEARCH_VAR)))
        if value == self.ALL:
            return queryset
        if value == self.OPEN:
            return queryset.open()
        return queryset.filter(status=value)

    def choices(self, changelist):
        current = self._current(bool(changelist.query))
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class OverdueFilter(admin.SimpleListFilter):
    title = "是否超时"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已超过时限"), ("no", "未超时")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.exclude(pk__in=Need.objects.overdue().values("pk"))
        return queryset


# --- inlines --------------------------------------------------------------------------


class ReferralInline(admin.TabularInline):
    """Referrals are created by the "refer" action; the follow-up is kept here."""

    model = Referral
    fields = ["target", "target_detail", "created_at", "referred_by", "state", "follow_up"]
    readonly_fields = ["target", "target_detail", "created_at", "referred_by"]
    extra = 0
    can_delete = False
    verbose_name_plural = "转介（请持续记录跟进情况，保存后记入办理记录）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "follow_up":
            field.widget.attrs.update(rows=2, cols=30)
        return field

    @admin.display(description="转介人")
    def referred_by(self, referral):
        # Plain text: user accounts are the superuser's business (no link to them).
        return referral.created_by.name or referral.created_by.username

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return (
            obj is not None
            and obj.status in NOTE_STATUSES
            and super().has_change_permission(request, obj)
        )


class NeedEventInline(admin.TabularInline):
    """The audit trail, internal notes included: read only, never edited or deleted."""

    model = NeedEvent
    fields = ["created_at", "action", "who", "status_change", "public_note", "internal_note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "办理记录（含内部备注；记录不可修改或删除）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="操作人")
    def who(self, event):
        if event.by is None:
            return event.get_actor_display()
        return f"{event.by.name or event.by.username}（{event.get_actor_display()}）"

    @admin.display(description="状态")
    def status_change(self, event):
        if event.from_status == event.to_status:
            return "—"
        if not event.from_status:
            return event.get_to_status_display()
        return f"{event.get_from_status_display()} → {event.get_to_status_display()}"


# --- needs ----------------------------------------------------------------------------


class PriorityQueueAdmin(admin.ModelAdmin):
    """Annotates ``priority`` before ordering by it.

    ``ModelAdmin.get_queryset`` orders the rows before a subclass could add the
    annotation, so the annotation comes first here; the jurisdiction mixin then
    scopes the result as for every other model.
    """

    def get_queryset(self, request):
        still_open = Case(
            When(status__in=OPEN_STATUSES, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        qs = self.model._default_manager.with_priority().annotate(still_open=still_open)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_ordering(self, request):
        # What still waits comes first; then urgency and shared demand; among equals
        # the oldest, which has waited longest. When the list shows one kind of status
        # (the open queue by default) "still open" is the same for every row and is left
        # out, so the open queue is read in the order of its index (need_open_queue).
        # A search looks for a particular need among all of them: newest first, which the
        # created_at index serves without collecting every match first.
        if request.GET.get(SEARCH_VAR):
            return ["-created_at"]
        if StatusFilter.current(request) != StatusFilter.ALL:
            return ["-priority", "created_at"]
        return ["-still_open", "-priority", "created_at"]


@admin.register(Need)
class NeedAdmin(JurisdictionAdminMixin, PriorityQueueAdmin):
    form = NeedAdminForm
    # Number, kind and area sit under the title and the limit under the status, and the
    # workstation shows only to cadres who oversee several: the queue fits a 1280px
    # screen next to the admin's two sidebars.
    list_display = [
        "title_display",
        "status_badge",
        "urgency_badge",
        "supporters",
        "workstation",
        "submitter_masked",
    ]
    list_filter = [
        StatusFilter,
        OverdueFilter,
        "escalation",
        "urgency",
        "kind",
        "area",
        "rights_type",
        "channel",
        "confidential",
        ("workstation__street", ScopedRelatedFilter),
        ("workstation", ScopedRelatedFilter),
    ]
    list_select_related = ["area", "workstation", "submitter__user"]
    list_per_page = 50
    search_fields = ["number", "title", "description"]
    search_help_text = "按诉求编号、标题或具体情况搜索（搜索时显示全部状态）"
    show_full_result_count = False  # one COUNT per page view, not two
    paginator = CappedCountPaginator
    actions = [
        "accept_selected",
        "reject_selected",
        "resolve_selected",
        "create_project_from_needs",
        "link_to_project",
    ]
    inlines = [ReferralInline, NeedEventInline]

    # --- queue ------------------------------------------------------------------------

    @admin.display(description="诉求", ordering="number")
    def title_display(self, need):
        return format_html(
            "{}<div class='need-meta'>{} · {} · {}</div>",
            need.title,
            need.number,
            need.get_kind_display(),
            need.area.name,
        )

    @admin.display(description="状态 · 时限", ordering="status")
    def status_badge(self, need):
        """The status, escalation and the limit of the current stage (red once passed)."""
        badges = self.status_display(need)
        if need.status == Status.SUBMITTED:
            stage, limit = "受理", need.accept_due
        elif need.status in WORKING:
            stage, limit = "办结", need.resolve_due
        else:
            return badges
        if limit is None:
            return badges
        late = limit < timezone.now()
        return format_html(
            "{}<div class='need-meta need-due{}'>{}{} {}</div>",
            badges,
            " need-due--late" if late else "",
            "已超时 · " if late else "",
            stage,
            timezone.localtime(limit).strftime("%m-%d %H:%M"),
        )

    @admin.display(description="状态")
    def status_display(self, need):
        parts = [_badge(need.status, need.get_status_display())]
        if need.escalation:
            parts.append(_badge("escalated", need.get_escalation_display()))
        return format_html_join(" ", "{}", ((p,) for p in parts))

    @admin.display(description="紧急", ordering="urgency")
    def urgency_badge(self, need):
        if need.urgency == Need.Urgency.NORMAL:
            return need.get_urgency_display()
        return _badge(need.urgency, need.get_urgency_display())

    @admin.display(description="支持", ordering="support_count")
    def supporters(self, need):
        """我也有此需求: how many other workers share the need."""
        return need.support_count

    @admin.display(description="提出人")
    def submitter_masked(self, need):
        """Never the full mobile in a list; a confidential worker's name is masked too."""
        member = need.submitter
        name = member.user.name or "—"
        if need.confidential:
            return format_html(
                "{} {}<div class='need-meta'>{}</div>",
                mask_name(name),
                _badge("secret", "保密"),
                mask_mobile(member.mobile),
            )
        return format_html("{}<div class='need-meta'>{}</div>", name, mask_mobile(member.mobile))

    def get_list_display(self, request):
        scope = self.jurisdiction(request)
        several = scope.everything or scope.district_ids or scope.street_ids
        if several or len(scope.workstation_ids) > 1:
            return self.list_display
        return [column for column in self.list_display if column != "workstation"]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": "诉求办理（按紧急程度、支持人数、等待时间排序）",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- change page ------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        # A need carries its audit trail; nothing deletes it through the UI.
        return False

    def _editable(self, need) -> bool:
        return need is not None and need.status in NOTE_STATUSES

    def _duplicates(self, request, need) -> tuple[list, int]:
        """Needs merged into this one: those the cadre may open, and how many in all.

        A district cadre may merge needs of two workstations; each workstation's
        cadre then sees only the numbers they could open anyway. Cached on the
        need, as the admin builds the fieldsets several times per request.
        """
        if not hasattr(need, "_duplicates"):
            visible = list(self.get_queryset(request).filter(merged_into=need).order_by("pk"))
            need._duplicates = (visible, need.duplicates.count())
        return need._duplicates

    def get_fieldsets(self, request, obj=None):
        need = obj
        if need is None:
            return []  # the add view is the offline-recording form (add_view)
        handling = ["handler", "created_at", "accept_due_display", "resolve_due_display"]
        if need.escalation:
            handling.append("escalation_display")
        if need.merged_into_id or self._duplicates(request, need)[1]:
            handling.append("merge_display")
        if self._project_link(request, need) is not None:
            handling.append("project_display")
        if need.rejection_reason:
            handling.append("rejection_reason")
        if need.resolution:
            handling.append("resolution_display")
        handling += ["ratings_display", "follow_up_consent"]
        fieldsets = [
            (
                "诉求",
                {
                    "fields": [
                        ("number", "status_display"),
                        "title",
                        "description_display",
                        ("kind", "area", "rights_type"),
                        ("urgency", "channel"),
                        "confidential_display",
                        "attachments_display",
                    ]
                },
            ),
            (
                "提出人（仅承办干部可见，请勿外传）",
                {
                    "fields": [
                        "submitter_name",
                        "submitter_mobile",
                        "unit_display",
                        "workstation",
                        "recorded_by_display",
                    ]
                },
            ),
            ("办理", {"fields": handling}),
        ]
        if need.is_public or need.public_title or need.support_count:
            fieldsets.append(
                (
                    "公开征集“我也有此需求”",
                    {"fields": ["is_public", "public_title", "public_summary", "support_count"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        editable = {"handler"} if self._editable(obj) else set()
        return [f for f in fields if f not in editable]

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if obj.referrals.exists():
            return [ReferralInline, NeedEventInline]
        return [NeedEventInline]

    @admin.display(description="具体情况")
    def description_display(self, need):
        return linebreaksbr(need.description)

    @admin.display(description="保密")
    def confidential_display(self, need):
        if need.confidential:
            return format_html(
                "{} 职工要求保密：除承办干部外，不得向任何人（包括其单位）透露提出人身份。",
                _badge("secret", "保密"),
            )
        return "否"

    @admin.display(description="附件")
    def attachments_display(self, need):
        attachments = list(need.attachments.all())
        if not attachments:
            return "无"
        # The worker pages' download view lets in the cadres of the need's jurisdiction.
        return format_html_join(
            mark_safe("<br>"),
            "<a href='{}' target='_blank' rel='noopener'>{}</a>（{} KB）",
            (
                (
                    reverse("needs:attachment-download", args=[need.pk, a.pk]),
                    a.original_name,
                    max(a.size // 1024, 1),
                )
                for a in attachments
            ),
        )

    @admin.display(description="姓名")
    def submitter_name(self, need):
        member = need.submitter
        url = reverse("admin:members_member_change", args=[member.pk])
        return format_html("<a href='{}'>{}</a>", url, member.user.name or member.user.username)

    @admin.display(description="手机号码")
    def submitter_mobile(self, need):
        # Shown in full here: the cadre handling the need calls the worker back.
        return need.submitter.mobile

    @admin.display(description="代为登记的干部")
    def recorded_by_display(self, need):
        if need.recorded_by is None:
            return "—（职工在线提交）"
        return need.recorded_by.name or need.recorded_by.username

    @admin.display(description="工作单位")
    def unit_display(self, need):
        return need.unit or need.submitter.unit_name or "—"

    @admin.display(description="受理时限")
    def accept_due_display(self, need):
        return self._deadline(need.accept_due, need.accepted_at, need.accepted_late, "受理")

    @admin.display(description="办结时限")
    def resolve_due_display(self, need):
        return self._deadline(need.resolve_due, need.resolved_at, need.resolved_late, "办结")

    def _deadline(self, limit, done_at, late, verb):
        if limit is None:
            return "—"
        text = timezone.localtime(limit).strftime("%Y-%m-%d %H:%M")
        if done_at is not None:
            done = timezone.localtime(done_at).strftime("%Y-%m-%d %H:%M")
            if late:
                return format_html("{}（{} {}，{}）", text, done, verb, _badge("late", "超时"))
            return f"{text}（{done} {verb}，按时）"
        if limit < timezone.now():
            return format_html("{} {}", text, _badge("late", "已超时"))
        return text

    @admin.display(description="督办")
    def escalation_display(self, need):
        when = (
            timezone.localtime(need.escalated_at).strftime("%Y-%m-%d") if need.escalated_at else ""
        )
        return format_html("{} {}", _badge("escalated", need.get_escalation_display()), when)

    @admin.display(description="合并")
    def merge_display(self, need):
        def link(other):
            url = reverse("admin:needs_need_change", args=[other.pk])
            return format_html("<a href='{}'>{}</a>", url, other)

        parts = []
        if need.merged_into_id:
            parts.append(format_html("已合并到 {}", link(need.merged_into)))
        visible, total = getattr(need, "_duplicates", ([], 0))
        if visible:
            parts.append(
                format_html(
                    "合并进来的重复诉求：{}",
                    format_html_join("、", "{}", ((link(d),) for d in visible)),
                )
            )
        if total > len(visible):
            parts.append(f"另有 {total - len(visible)} 件其他工作站的诉求合并进来")
        return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts))

    def _project_link(self, request, need) -> ProjectNeed | None:
        """The need's service project, if any, and whether the cadre may open it.

        Cached on the need: the admin builds the fieldsets several times per request,
        and a display method has no request to scope with.
        """
        if not hasattr(need, "_project_link_cache"):
            link = (
                ProjectNeed.objects.filter(need=need)
                .select_related("project__street", "project__workstation")
                .first()
            )
            if link is not None:
                link.visible = (
                    ServiceProject.objects.within_jurisdiction_of(request.user)
                    .filter(pk=link.project_id)
                    .exists()
                )
            need._project_link_cache = link
        return need._project_link_cache

    @admin.display(description="服务项目")
    def project_display(self, need):
        link = need._project_link_cache
        project = link.project
        text = f"{project.number} {project.title}（{project.get_status_display()}）"
        if not link.visible:
            # A street-run project is not in a workstation cadre's list: name it only.
            return f"{text} · 由{project.owner}承办"
        url = reverse("admin:projects_serviceproject_change", args=[project.pk])
        return format_html("<a href='{}'>{}</a>", url, text)

    @admin.display(description="办理结果")
    def resolution_display(self, need):
        return linebreaksbr(need.resolution)

    @admin.display(description="职工评价")
    def ratings_display(self, need):
        ratings = list(need.ratings.all())
        if not ratings:
            return "尚无"
        return format_html_join(
            mark_safe("<br>"),
            "{} · {} · {} 分 {}",
            (
                (
                    timezone.localtime(r.created_at).strftime("%Y-%m-%d"),
                    r.get_outcome_display(),
                    r.score,
                    r.comment,
                )
                for r in ratings
            ),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            editable = self._editable(obj)
            context.update(
                show_save=editable,
                show_save_and_continue=editable,
                show_save_and_add_another=False,
                show_delete=False,
            )
            if self.has_change_permission(request, obj):
                context.update(self._action_panel(request, obj), show_action_panel=True)
                if obj.status in OPEN_STATUSES:
                    context.update(self._similar_panel(request, obj), show_similar_panel=True)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- similar needs ----------------------------------------------------------------

    def _similar(self, request, need) -> list[tuple[Need, float]]:
        """Open needs of the same area in the cadre's jurisdiction, most similar first.

        Compared on the full text (title and description): the cadre may read them
        all. The newest ``SIMILAR_CANDIDATES`` are compared, in two queries.
        """
        candidates = (
            self.get_queryset(request)
            .filter(area=need.area_id, status__in=OPEN_STATUSES)
            .exclude(pk=need.pk)
            .select_related("workstation", "project_link__project")
            .order_by("-created_at", "-pk")[:SIMILAR_CANDIDATES]
        )
        return rank_similar(need_text(need), candidates, limit=SIMILAR_SHOWN)

    def _similar_panel(self, request, need) -> dict:
        link = self._project_link(request, need)
        project = link.project if link is not None else None
        project_running = project is not None and project.status in RUNNING and link.visible
        rows = []
        for other, score in self._similar(request, need):
            other_link = getattr(other, "project_link", None)
            rows.append(
                {
                    "need": other,
                    "score": f"{score:.2f}",
                    "project": other_link.project if other_link is not None else None,
                }
            )
        scope = self.jurisdiction(request)
        return {
            "similar": rows,
            "similar_selectable": any(row["project"] is None for row in rows),
            # Every candidate is at the cadre's one workstation: no need to name it.
            "similar_show_workstation": scope.everything
            or scope.district_ids
            or scope.street_ids
            or len(scope.workstation_ids) > 1,
            "similar_field": SIMILAR_FIELD,
            "selected_field": admin.helpers.ACTION_CHECKBOX_NAME,
            "own_project": project,
            "own_project_running": project_running,
        }

    def _act_on_similar(self, request, need) -> None:
        """Merge the ticked similar needs into this one, or add them to its project.

        All or nothing: one refusal (another cadre acted first, a need outside the
        jurisdiction) leaves every need as it was.
        """
        operation = request.POST.get(SIMILAR_FIELD)
        ids = {
            int(value)
            for value in request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
            if value.isdigit()
        } - {need.pk}
        if not ids:
            self.message_user(request, "请先勾选相似诉求。", messages.WARNING)
            return
        others = list(
            self.get_queryset(request)
            .filter(pk__in=ids)
            .select_related("project_link__project")
            .order_by("pk")
        )
        if len(others) != len(ids):
            self.message_user(
                request, "所选诉求不在您的管辖范围内或已不存在，未做任何修改。", messages.ERROR
            )
            return
        expected = {other.pk: request.POST.get(f"expected_{other.pk}", "") for other in others}
        if any(status not in Status.values for status in expected.values()):
            self.message_user(request, "页面已过期，请刷新后再操作。", messages.ERROR)
            return
        numbers = "、".join(other.number for other in others)
        in_projects = [o for o in others if getattr(o, "project_link", None) is not None]
        if in_projects:
            self.message_user(
                request,
                "、".join(
                    f"{o.number}（已属于服务项目 {o.project_link.project.number}）"
                    for o in in_projects
                )
                + " 由项目统一办理，不能在此合并或分组，未做任何修改。",
                messages.ERROR,
            )
            return
        try:
            with transaction.atomic():
                if operation == "merge":
                    for other in others:
                        services.need_merge(
                            need=other,
                            into=need,
                            by=request.user,
                            expected_status=expected[other.pk],
                        )
                    text = f"已将诉求 {numbers} 合并到本诉求，相关职工已收到通知。"
                elif operation == "link":
                    link = self._project_link(request, need)
                    if link is None:
                        raise ValidationError("本诉求没有所属的服务项目。")
                    for other in others:
                        if other.status != expected[other.pk]:
                            raise services.StaleNeed(other)
                    project_services.project_link_needs(
                        project=link.project, needs=others, by=request.user
                    )
                    text = (
                        f"已将诉求 {numbers} 加入服务项目 {link.project.number}，职工已收到通知。"
                    )
                else:
                    self.message_user(request, "未知的操作。", messages.ERROR)
                    return
        except PROJECT_ERRORS as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return
        self.message_user(request, text, messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        # Only the handler is editable, and only that column is written: a status
        # changed meanwhile by another cadre is never overwritten with a stale copy.
        if change and "handler" in form.changed_data and self._editable(obj):
            services.need_assign(need=obj, by=request.user, handler=obj.handler)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Referral:
            return super().save_formset(request, form, formset, change)
        # Read by the admin's change message (LogEntry).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for referral_form in formset.forms:
            if not referral_form.has_changed() or referral_form.instance.pk is None:
                continue
            data = referral_form.cleaned_data
            try:
                referral = services.referral_update(
                    referral=referral_form.instance,
                    by=request.user,
                    follow_up=data.get("follow_up", ""),
                    done=data.get("state") == Referral.State.DONE,
                )
            except (TransitionNotAllowed, ValidationError, PermissionDenied) as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                formset.changed_objects.append((referral, referral_form.changed_data))
        return None

    # --- the action panel -------------------------------------------------------------

    def _panel_actions(self, need) -> list[str]:
        actions = allowed_actions(need.status, Actor.CADRE)
        hidden = Action.PUBLISH if need.is_public else Action.UNPUBLISH
        return [a for a in ACTION_FORMS if a in actions and a != hidden]

    def _action_panel(self, request, need) -> dict:
        actions = self._panel_actions(need)
        templates = list(
            ReplyTemplate.objects.filter(is_active=True, action__in=actions).filter(
                Q(kind=need.kind) | Q(kind="")
            )
        )
        chosen = next((t for t in templates if str(t.pk) == request.GET.get("template")), None)
        forms = []
        for action in actions:
            form_class = ACTION_FORMS[action]
            initial = {}
            if chosen is not None and chosen.action == action:
                initial[TEMPLATE_FIELD[action]] = chosen.body
            if action == Action.PUBLISH:
                initial["public_title"] = need.public_title
            form = form_class(initial=initial)
            form.templates = [t for t in templates if t.action == action]
            form.chosen = chosen.pk if chosen is not None and chosen.action == action else None
            next_step = NEXT_STEP.get(need.status) == action
            form.open = form.chosen is not None or (chosen is None and next_step)
            forms.append(form)
        return {
            "action_forms": forms,
            "action_field": ACTION_FIELD,
            "merge_candidates": self._merge_candidates(request, need)
            if Action.MERGE in actions
            else [],
        }

    def _merge_candidates(self, request, need):
        """Likely duplicates: same workstation and area first, then either; still mergeable."""
        closeness = Case(
            When(Q(workstation=need.workstation_id) & Q(area=need.area_id), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return list(
            self.get_queryset(request)
            .filter(Q(workstation=need.workstation_id) | Q(area=need.area_id))
            .exclude(pk=need.pk)
            .exclude(status__in=[Status.MERGED, Status.REJECTED, Status.WITHDRAWN])
            .select_related("area")  # shown with each candidate
            .annotate(closeness=closeness)
            .order_by("closeness", "-created_at")[:8]
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST" and (
            ACTION_FIELD in request.POST or SIMILAR_FIELD in request.POST
        ):
            need = self.get_object(request, unquote(object_id))
            if need is None:
                raise Http404(f"{self.opts.verbose_name} 不存在")
            if not self.has_change_permission(request, need):
                raise PermissionDenied
            if ACTION_FIELD in request.POST:
                self._act(request, need)
            else:
                self._act_on_similar(request, need)
            return redirect("admin:needs_need_change", need.pk)
        extra_context = {"title": "办理诉求", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _act(self, request, need) -> None:
        """Run one action of the panel through the services; any refusal changes nothing."""
        action = request.POST.get(ACTION_FIELD)
        form_class = ACTION_FORMS.get(action)
        if form_class is None:
            self.message_user(request, "未知的操作。", messages.ERROR)
            return
        form = form_class(request.POST)
        if not form.is_valid():
            errors = [
                f"{form.fields[f].label}：{'；'.join(e)}" if f in form.fields else "；".join(e)
                for f, e in form.errors.items()
            ]
            self.message_user(request, "；".join(errors), messages.ERROR)
            return
        expected = request.POST.get("expected_status", "")
        if expected not in Status.values:
            self.message_user(request, "页面已过期，请刷新后再操作。", messages.ERROR)
            return
        try:
            if need.status != expected:
                raise services.StaleNeed(need)
            into = self._run(request, need, action, form.cleaned_data, expected)
        except (TransitionNotAllowed, ValidationError, PermissionDenied) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return
        self.message_user(
            request, SUCCESS[action].format(number=need.number, into=into), messages.SUCCESS
        )

    def _run(self, request, need, action, data, expected):
        by = request.user
        if action == Action.ACCEPT:
            services.need_accept(
                need=need,
                by=by,
                public_note=data["public_note"],
                internal_note=data["internal_note"],
                expected_status=expected,
            )
        elif action == Action.REJECT:
            services.need_reject(
                need=need,
                by=by,
                reason=data["reason"],
                internal_note=data["internal_note"],
                expected_status=expected,
            )
        elif action == Action.MERGE:
            into = self.get_queryset(request).filter(number=data["into"]).first()
            if into is None:
                raise ValidationError(
                    f"未找到编号为 {data['into']} 的诉求（只能合并到您管辖范围内的诉求）。"
                )
            services.need_merge(
                need=need,
                into=into,
                by=by,
                public_note=data["public_note"],
                internal_note=data["internal_note"],
                expected_status=expected,
            )
            return into.number
        elif action == Action.START:
            services.need_start(
                need=need, by=by, public_note=data["public_note"], expected_status=expected
            )
        elif action == Action.REPLY:
            services.need_reply(
                need=need,
                by=by,
                public_note=data["public_note"],
                internal_note=data["internal_note"],
            )
        elif action == Action.NOTE:
            services.need_add_note(need=need, by=by, internal_note=data["internal_note"])
        elif action == Action.REFER:
            services.need_refer(
                need=need,
                by=by,
                target=data["target"],
                target_detail=data["target_detail"],
                public_note=data["public_note"],
                internal_note=data["internal_note"],
                expected_status=expected,
            )
        elif action == Action.RESOLVE:
            services.need_resolve(
                need=need,
                by=by,
                resolution=data["resolution"],
                internal_note=data["internal_note"],
                expected_status=expected,
            )
        elif action == Action.PUBLISH:
            services.need_publish(
                need=need,
                by=by,
                public_title=data["public_title"],
                public_summary=data["public_summary"],
            )
        elif action == Action.UNPUBLISH:
            if not need.is_public:
                raise ValidationError("该诉求没有公开。")
            services.need_unpublish(need=need, by=by)
        return None

    # --- bulk actions -----------------------------------------------------------------

    def _bulk(self, request, queryset, action, verb, call) -> None:
        """Each row through its service; rows the state machine refuses are skipped."""
        done, skipped = 0, []
        for need in queryset:
            if action not in allowed_actions(need.status, Actor.CADRE):
                skipped.append(need.number)
                continue
            try:
                call(need)
            except (TransitionNotAllowed, ValidationError, PermissionDenied):
                skipped.append(need.number)
            else:
                done += 1
        text = f"已{verb} {done} 件诉求。"
        if skipped:
            shown = "、".join(skipped[:10]) + ("等" if len(skipped) > 10 else "")
            text += f"跳过 {len(skipped)} 件当前状态不能{verb}的诉求：{shown}。"
        self.message_user(request, text, messages.SUCCESS if not skipped else messages.WARNING)

    @admin.action(description="受理所选诉求", permissions=["change"])
    def accept_selected(self, request, queryset):
        self._bulk(
            request,
            queryset,
            Action.ACCEPT,
            "受理",
            lambda need: services.need_accept(
                need=need, by=request.user, expected_status=need.status
            ),
        )

    @admin.action(description="不予受理所选诉求（需填写理由）", permissions=["change"])
    def reject_selected(self, request, queryset):
        return self._bulk_with_text(
            request,
            queryset,
            Action.REJECT,
            "不予受理",
            "不予受理理由（职工可见）",
            lambda need, text: services.need_reject(
                need=need, by=request.user, reason=text, expected_status=need.status
            ),
        )

    @admin.action(description="办结所选诉求（需填写办理结果）", permissions=["change"])
    def resolve_selected(self, request, queryset):
        return self._bulk_with_text(
            request,
            queryset,
            Action.RESOLVE,
            "办结",
            "办理结果（职工可见）",
            lambda need, text: services.need_resolve(
                need=need, by=request.user, resolution=text, expected_status=need.status
            ),
        )

    def _bulk_with_text(self, request, queryset, action, verb, label, call):
        """An intermediate page asks for the text every selected worker will read."""
        form = BulkReasonForm(request.POST if "confirm" in request.POST else None)
        form.fields["text"].label = label
        if form.is_valid():
            text = form.cleaned_data["text"]
            self._bulk(request, queryset, action, verb, lambda need: call(need, text))
            return None
        needs = list(queryset.select_related(None).only("pk", "number", "title", "status"))
        return TemplateResponse(
            request,
            "admin/needs/need/bulk_text.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{verb}所选诉求",
                "opts": self.opts,
                "verb": verb,
                "action": request.POST.get("action", ""),
                "needs": [n for n in needs if action in allowed_actions(n.status, Actor.CADRE)],
                "skipped": [
                    n for n in needs if action not in allowed_actions(n.status, Actor.CADRE)
                ],
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    # --- service projects from needs -----------------------------------------------------

    def _selected_needs(self, request, queryset) -> list[Need] | None:
        """The ticked needs, whatever the list's filters; None when one is out of reach.

        Re-read by id through the scoped queryset, so that a need no longer matching
        the list's status filter is still seen (and refused by the service) rather
        than silently dropped, and a forged id of another jurisdiction refuses it all.
        """
        ids = None
        if request.POST.get("select_across") == "1":
            rows = queryset
        else:
            ids = {
                int(value)
                for value in request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
                if value.isdigit()
            }
            rows = self.get_queryset(request).filter(pk__in=ids)
        needs = list(
            rows.select_related("area", "workstation__street", "project_link__project").order_by(
                "created_at", "pk"
            )
        )
        if ids is not None and len(needs) != len(ids):
            self.message_user(
                request,
                "所选诉求中有不在您管辖范围内或已不存在的诉求，未做任何修改。",
                messages.ERROR,
            )
            return None
        return needs

    @staticmethod
    def _project_ready(needs) -> tuple[list[Need], list[tuple[Need, str]]]:
        """Needs a project may take (open, in no project yet), and the others with why not."""
        ready, skipped = [], []
        for need in needs:
            link = getattr(need, "project_link", None)
            if need.status not in OPEN_STATUSES:
                skipped.append((need, need.get_status_display()))
            elif link is not None:
                skipped.append((need, f"已属于服务项目 {link.project.number}"))
            else:
                ready.append(need)
        return ready, skipped

    def _project_page(self, request, template, title, needs, skipped, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "action": request.POST.get("action", ""),
                "needs": needs,
                "skipped": skipped,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                **context,
            },
        )

    @admin.action(description="从所选诉求创建服务项目", permissions=["change"])
    def create_project_from_needs(self, request, queryset):
        """Group shared needs into a project (立项申请); the intermediate page asks for the plan."""
        needs = self._selected_needs(request, queryset)
        if needs is None:
            return None
        confirm = "confirm" in request.POST
        ready, skipped = self._project_ready(needs)
        if confirm:
            # The page listed only needs that were ready: any change since is refused whole.
            ready, skipped = needs, []
        if not ready:
            self.message_user(
                request,
                "所选诉求都不能纳入服务项目：只有待受理、已受理或办理中、且尚未加入其他项目的诉求可以。",
                messages.WARNING,
            )
            return None
        form = ProjectCreateForm(
            request.POST if confirm else None,
            user=request.user,
            initial=self._project_initial(request, ready),
        )
        if confirm and form.is_valid():
            data = form.cleaned_data
            try:
                project = project_services.project_create_from_needs(
                    needs=ready,
                    by=request.user,
                    title=data["title"],
                    summary=data["summary"],
                    kind=data["kind"],
                    area=data["area"],
                    beneficiary=data["beneficiary"],
                    street=data["street"],
                    workstation=data["workstation"],
                    lead=data["lead"],
                    planned_start=data["planned_start"],
                    planned_end=data["planned_end"],
                    budget=data["budget"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and set(exc.error_dict) <= {
                    *form.fields,
                    NON_FIELD_ERRORS,
                }:
                    form.add_error(None, exc)  # a field of the plan: correct it on the page
                else:
                    self.message_user(request, _error_text(exc), messages.ERROR)
                    return None
            except PROJECT_ERRORS as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
                return None
            else:
                self.message_user(
                    request,
                    f"已创建服务项目 {project.number}（立项申请），{len(ready)} 件诉求已纳入项目办理，"
                    "职工已收到通知。请写明项目标准、设置考核指标，再报街道（开发区）或县区工会批准。",
                    messages.SUCCESS,
                )
                return redirect("admin:projects_serviceproject_change", project.pk)
        return self._project_page(
            request,
            "admin/needs/need/create_project.html",
            "从所选诉求创建服务项目",
            ready,
            skipped,
            form=form,
            media=self.media + form.media,
        )

    @staticmethod
    def _project_initial(request, needs) -> dict:
        """The needs' common area and owner, the cadre as lead, starting today."""
        initial = {
            "planned_start": timezone.localdate(),
            "lead": request.user.pk,
            "beneficiary": ServiceProject.Beneficiary.WORKERS,
        }
        areas = {n.area_id for n in needs}
        if len(areas) == 1:
            initial["area"] = areas.pop()
        workstations = {n.workstation_id for n in needs}
        streets = {n.workstation.street_id for n in needs}
        if len(workstations) == 1:
            initial["owner"] = f"w{workstations.pop()}"
        elif len(streets) == 1:
            initial["owner"] = f"s{streets.pop()}"
        return initial

    @admin.action(description="将所选诉求加入服务项目", permissions=["change"])
    def link_to_project(self, request, queryset):
        """Add needs to a running project of the jurisdiction, chosen on the intermediate page."""
        needs = self._selected_needs(request, queryset)
        if needs is None:
            return None
        confirm = "confirm" in request.POST
        ready, skipped = self._project_ready(needs)
        if confirm:
            ready, skipped = needs, []
        if not ready:
            self.message_user(
                request,
                "所选诉求都不能加入服务项目：只有待受理、已受理或办理中、且尚未加入其他项目的诉求可以。",
                messages.WARNING,
            )
            return None
        form = ProjectLinkForm(request.POST if confirm else None, user=request.user)
        if confirm and form.is_valid():
            project = form.cleaned_data["project"]
            try:
                project_services.project_link_needs(project=project, needs=ready, by=request.user)
            except PROJECT_ERRORS as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                f"已将 {len(ready)} 件诉求加入服务项目 {project.number}，职工已收到通知。",
                messages.SUCCESS,
            )
            return None
        projects = self._projects_for(request, ready)
        if not projects:
            self.message_user(
                request,
                "您的管辖范围内没有可以加入诉求的服务项目（立项申请、已立项或实施中）。"
                "可以选择“从所选诉求创建服务项目”。",
                messages.WARNING,
            )
            return None
        return self._project_page(
            request,
            "admin/needs/need/link_project.html",
            "将所选诉求加入服务项目",
            ready,
            skipped,
            form=form,
            projects=projects,
        )

    @staticmethod
    def _projects_for(request, needs) -> list[ServiceProject]:
        """Running projects of the jurisdiction, those of the needs' areas first."""
        areas = {n.area_id for n in needs}
        projects = list(
            running_projects(request.user)
            .annotate(linked_needs=Count("links"))
            .order_by("-created_at", "-pk")
        )
        return sorted(projects, key=lambda p: p.area_id not in areas)

    # --- recording an offline need ----------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """代为登记: a need met on a visit, on the 12351 hotline, at a forum or by letter."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        kwargs = {"user": request.user, "admin_site": self.admin_site}
        if request.method == "POST":
            form = OfflineNeedForm(request.POST, **kwargs)
            mobile = request.POST.get("mobile", "").strip()
            if form.is_valid():
                need = self._record_offline(request, form)
                if need is not None:
                    return redirect("admin:needs_need_change", need.pk)
        else:
            mobile = request.GET.get("mobile", "").strip()
            form = OfflineNeedForm(initial={"mobile": mobile}, **kwargs)
        lookup_error, state, member = "", None, None
        if mobile:
            try:
                mobile_validator(mobile)
            except ValidationError as exc:
                lookup_error = exc.messages[0]
            else:
                state, member = form.lookup(mobile)
                if state == form.ELSEWHERE:
                    lookup_error = (
                        "该手机号码已登记在您管辖范围以外，不能在此代为登记。"
                        "请告知职工联系其所属工作站，或转县区总工会处理。"
                    )
        return TemplateResponse(
            request,
            "admin/needs/need/record_offline.html",
            {
                **self.admin_site.each_context(request),
                "title": "代为登记线下诉求",
                "opts": self.opts,
                "form": form,
                "media": self.media + form.media,
                "mobile": mobile,
                "state": state,
                "member": member,
                "lookup_error": lookup_error,
                "offline_channels": "、".join(
                    Channel.objects.filter(is_online=False).values_list("name", flat=True)
                ),
            },
        )

    def _record_offline(self, request, form) -> Need | None:
        data = form.cleaned_data
        try:
            with transaction.atomic():
                member = form.member or member_register_offline(
                    name=data["name"].strip(),
                    mobile=data["mobile"],
                    unit=data["unit"],
                    unit_name=data["unit_name"].strip(),
                    workstation=data["workstation"],
                )
                need = services.need_submit(
                    member=member,
                    kind=data["kind"],
                    area=data["area"],
                    rights_type=data["rights_type"],
                    title=data["title"],
                    description=data["description"],
                    urgency=data["urgency"],
                    confidential=data["confidential"],
                    follow_up_consent=data["follow_up_consent"],
                    channel=data["channel"],
                    recorded_by=request.user,
                )
        except ValidationError as exc:
            form.add_error(None, exc)
            return None
        except IntegrityError:
            form.add_error("mobile", "该手机号码刚刚已被登记，请重新查找职工。")
            return None
        self.log_addition(request, need, [{"added": {}}])
        created = "" if form.member else "，并已登记为新职工"
        self.message_user(
            request,
            f"已为 {member.user.name} 登记线下诉求 {need.number}（{need.channel.name}）{created}。",
            messages.SUCCESS,
        )
        return need


# --- reference data and district settings ---------------------------------------------


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(DistrictEditsAdminMixin, admin.ModelAdmin):
    list_display = ["title", "action", "kind_display", "is_active"]
    list_filter = ["action", "kind", "is_active"]
    search_fields = ["title", "body"]
    fields = ["title", "action", "kind", "body", "is_active"]

    @admin.display(description="适用诉求类型", ordering="kind")
    def kind_display(self, template):
        return template.get_kind_display() or "通用"


@admin.register(TimeLimit)
class TimeLimitAdmin(DistrictEditsAdminMixin, admin.ModelAdmin):
    list_display = ["stage", "kind_display", "urgency_display", "working_days"]
    list_filter = ["stage"]
    fieldsets = [
        (
            None,
            {
                "fields": ["stage", "kind", "urgency", "working_days"],
                "description": "时限按工作日计算，法定节假日和调休已计入；"
                "同一环节以“类型+紧急程度”最具体的一条为准。修改只影响之后开始计时的环节。",
            },
        )
    ]

    @admin.display(description="诉求类型", ordering="kind")
    def kind_display(self, limit):
        return limit.get_kind_display() or "所有类型"

    @admin.display(description="紧急程度", ordering="urgency")
    def urgency_display(self, limit):
        return limit.get_urgency_display() or "所有"


class ReferenceDataAdmin(admin.ModelAdmin):
    """Reference data loaded from seeds/reference: read only except for superusers."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ServiceArea)
class ServiceAreaAdmin(ReferenceDataAdmin):
    list_display = ["name", "code", "description", "order"]


@admin.register(Channel)
class ChannelAdmin(ReferenceDataAdmin):
    list_display = ["name", "code", "is_online", "order"]
