from datetime import UTC, datetime

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.workstations.jurisdiction import Jurisdiction

from .models import WorkdayOverride


def edits_district_settings(user) -> bool:
    """District-wide settings (calendar, time limits, reply templates) belong to the district."""
    return user.is_active and (user.is_superuser or bool(Jurisdiction.for_user(user).district_ids))


class DistrictEditsAdminMixin:
    """Every cadre with view permission reads; district cadres and superusers edit.

    Workstation and street cadres work by these settings but do not change
    them for the whole district.
    """

    def has_add_permission(self, request, *args):
        return edits_district_settings(request.user)

    def has_change_permission(self, request, obj=None):
        return edits_district_settings(request.user)

    def has_delete_permission(self, request, obj=None):
        return edits_district_settings(request.user)


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(DistrictEditsAdminMixin, admin.ModelAdmin):
    list_display = ["date", "weekday", "is_workday", "note"]
    list_filter = ["is_workday"]
    search_fields = ["note"]
    date_hierarchy = "date"
    ordering = ["-date"]

    @admin.display(description="星期")
    def weekday(self, obj):
        return "星期" + "一二三四五六日"[obj.date.weekday()]


# --- 操作记录: the audit history (apps/core/audit.py), for superusers only ------------------


def reads_audit_history(user) -> bool:
    """The history shows every change to personal data: superusers only, whatever perms say."""
    return user.is_active and user.is_superuser


class AuditedModelFilter(admin.SimpleListFilter):
    title = "对象类型"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        types = ContentType.objects.get_for_models(*auditlog.get_models())
        choices = [(str(ct.pk), str(model._meta.verbose_name)) for model, ct in types.items()]
        return sorted(choices, key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(content_type_id=self.value())
        return queryset


class ActorFilter(admin.SimpleListFilter):
    title = "操作人"
    parameter_name = "actor"
    SYSTEM, OTHERS = "system", "others"

    def lookups(self, request, model_admin):
        # Staff (cadres, superusers) by name; workers are found by searching their username.
        staff = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [
            (self.SYSTEM, "系统（无登录用户，如定时督办）"),
            (self.OTHERS, "非工作人员账号（职工等）"),
            *((str(user.pk), f"{user}（{user.username}）") for user in staff),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.SYSTEM:
            return queryset.filter(actor__isnull=True)
        if value == self.OTHERS:
            return queryset.filter(actor__is_staff=False)
        if value and value.isdigit():
            return queryset.filter(actor_id=value)
        return queryset


def _shown(field, value) -> str:
    """One recorded value as a person reads it: labels, local times, related names."""
    if value is None or value in ("", "None"):
        return "（空）"
    value = str(value)
    if field is None:
        return value
    if field.choices:
        return {str(key): str(label) for key, label in field.flatchoices}.get(value, value)
    if isinstance(field, models.BooleanField):
        return {"True": "是", "False": "否"}.get(value, value)
    if isinstance(field, models.DateTimeField):
        # auditlog stores date-times as naive UTC.
        try:
            moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError:
            return value
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
    if field.many_to_one or field.one_to_one:
        try:
            related = field.related_model._base_manager.filter(pk=value).first()
        except (ValueError, ValidationError):
            return value
        return f"{related}（#{value}）" if related else f"#{value}（已删除）"
    return value


class AuditLogEntryAdmin(LogEntryAdmin):
    """Read-only: nobody adds, edits or deletes history, superusers included."""

    # No date hierarchy: it scans the whole (ever-growing) table for its dates; the date
    # filter below costs nothing.
    date_hierarchy = None
    list_display = ["when", "actor_display", "action", "object_display", "fields_display"]
    list_display_links = ["when"]
    list_filter = [
        "action",
        AuditedModelFilter,
        ActorFilter,
        ("timestamp", admin.DateFieldListFilter),
    ]
    list_select_related = ["content_type", "actor"]
    list_per_page = 50
    show_full_result_count = False  # the table only grows
    search_fields = ["=object_pk", "object_repr", "=actor__username", "actor__name"]
    search_help_text = "按对象编号（ID，精确）、对象名称、操作人账号（精确）或姓名搜索"
    fieldsets = [
        (None, {"fields": ["when", "actor_display", "remote_addr", "batch"]}),
        ("改动", {"fields": ["action", "object_display", "changes_table"]}),
    ]
    readonly_fields = [
        "when",
        "actor_display",
        "remote_addr",
        "batch",
        "action",
        "object_display",
        "changes_table",
    ]

    def has_module_permission(self, request):
        return reads_audit_history(request.user)

    def has_view_permission(self, request, obj=None):
        return reads_audit_history(request.user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "操作记录", **(extra_context or {})})

    @admin.display(description="时间", ordering="timestamp")
    def when(self, entry):
        return f"{timezone.localtime(entry.timestamp):%Y-%m-%d %H:%M:%S}"

    @admin.display(description="操作人", ordering="actor")
    def actor_display(self, entry):
        if entry.actor is None:
            return "系统"
        return f"{entry.actor}（{entry.actor.get_username()}）"

    @admin.display(description="对象")
    def object_display(self, entry):
        model = entry.content_type.model_class()
        kind = model._meta.verbose_name if model else entry.content_type.model
        text = f"{kind} #{entry.object_pk} {entry.object_repr}"
        if model is None or entry.action == LogEntry.Action.DELETE:
            return text
        try:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[entry.object_pk],
            )
        except NoReverseMatch:
            return text
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description="改动的字段")
    def fields_display(self, entry):
        if entry.action == LogEntry.Action.DELETE:
            return "—"
        names = [label for label, *_ in self._changes(entry)]
        shown = "、".join(names[:6])
        return f"{shown} 等 {len(names)} 项" if len(names) > 6 else shown

    @admin.display(description="改动（原值 → 新值）")
    def changes_table(self, entry):
        rows = [
            (label, _shown(field, old), _shown(field, new))
            for label, field, old, new in self._changes(entry)
        ]
        if not rows:
            return "—"
        body = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            "<table><thead><tr><th>字段</th><th>原值</th><th>新值</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    @staticmethod
    def _changes(entry):
        """(label, field, old, new) per recorded field, in the model's field order."""
        model = entry.content_type.model_class()
        fields = {f.name: f for f in model._meta.get_fields()} if model else {}
        order = list(fields)
        changes = sorted(
            entry.changes_dict.items(),
            key=lambda item: order.index(item[0]) if item[0] in fields else len(order),
        )
        for name, change in changes:
            field = fields.get(name)
            if field is not None and not field.concrete:
                continue  # auditlog lists reverse relations on create, always empty
            old, new = change if isinstance(change, list | tuple) else ("", change)
            label = str(field.verbose_name) if field is not None else name
            yield label, field, old, new

    @admin.display(description="同一次操作")
    def batch(self, entry):
        if not entry.cid:
            return "—"
        url = reverse("admin:auditlog_logentry_changelist") + f"?cid={entry.cid}"
        return format_html('<a href="{}">查看这次操作的全部记录</a>', url)


# auditlog registers its own English admin; this one replaces it.
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditLogEntryAdmin)
