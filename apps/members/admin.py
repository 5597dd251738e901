from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from import_export.admin import ImportExportModelAdmin

from apps.core.admin_mixins import (
    CappedCountPaginator,
    JurisdictionAdminMixin,
    ScopedImportExportMixin,
    ScopedRelatedFilter,
)
from apps.core.errors import error_text
from apps.core.privacy import mask_id_number, mask_mobile

from . import services
from .forms import MemberAdminAddForm, MemberAdminChangeForm, RejectionForm
from .models import Employment, Member, MembershipApplication, User
from .resources import MemberResource


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "name", "email", "is_staff", "is_active", "last_login"]
    search_fields = ["username", "name", "email"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["name", "email"]}),
        ("权限", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("时间", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "name", "password1", "password2"]})]

    # Accounts are the superuser's business; cadres manage workers through 职工.
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


class EmploymentInline(admin.TabularInline):
    model = Employment
    fields = ["unit_name", "workstation", "started_on", "ended_on", "recorded_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "工作经历（变更单位时自动记录）"

    def has_add_permission(self, request, obj=None):
        return False


class ApplicationInline(admin.TabularInline):
    model = MembershipApplication
    fields = ["submitted_at", "status", "reason", "decided_by", "decided_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, ImportExportModelAdmin):
    resource_classes = [MemberResource]
    form = MemberAdminChangeForm
    add_form = MemberAdminAddForm
    list_display = [
        "display_name",
        "masked_mobile",
        "unit_name",
        "workstation",
        "status",
        "member_number",
        "created_at",
    ]
    list_filter = [
        "status",
        ("workstation__street", ScopedRelatedFilter),
        ("workstation", ScopedRelatedFilter),
        ("unit__ownership", ScopedRelatedFilter),
        # A date filter, not date_hierarchy: that one runs a DISTINCT over every member in
        # the jurisdiction (half a million in a district) on each view of the list.
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["user", "workstation"]
    search_fields = ["user__name", "=mobile", "=member_number", "unit_name"]
    search_help_text = "按姓名、单位名称搜索，或输入完整的手机号码、会员编号"
    autocomplete_fields = ["unit", "workstation"]
    readonly_fields = ["name_display", "status", "member_number", "joined_on", "created_at"]
    inlines = [EmploymentInline, ApplicationInline]
    show_full_result_count = False  # one COUNT per page view, not two
    paginator = CappedCountPaginator

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["name", "mobile", "unit", "unit_name", "workstation"]})]
        return [
            ("职工", {"fields": ["name_display", "mobile", "id_number"]}),
            (
                "工作单位",
                {
                    "fields": ["unit", "unit_name", "workstation"],
                    "description": "变更单位会结束当前工作经历并新增一条，历史保留。",
                },
            ),
            ("会员", {"fields": ["status", "member_number", "joined_on", "created_at"]}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="姓名", ordering="user__name")
    def display_name(self, obj):
        return obj.user.name or obj.user.username

    @admin.display(description="姓名")
    def name_display(self, obj):
        return obj.user.name

    @admin.display(description="手机号码")
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)

    def save_model(self, request, obj, form, change):
        if not change:
            member = services.member_register_offline(
                name=form.cleaned_data["name"],
                mobile=form.cleaned_data["mobile"],
                unit=form.cleaned_data.get("unit"),
                unit_name=form.cleaned_data.get("unit_name", ""),
                workstation=form.cleaned_data.get("workstation"),
            )
            # The admin logs and redirects with ``obj``: make it the saved member.
            obj.pk, obj.user, obj.workstation = member.pk, member.user, member.workstation
            obj.unit_name = member.unit_name
            obj._state.adding, obj._state.db = False, member._state.db
            return
        moved = {"unit", "unit_name", "workstation"} & set(form.changed_data)
        if moved:
            original = Member.objects.get(pk=obj.pk)
            employer = (obj.unit, obj.unit_name, obj.workstation)
            obj.unit, obj.unit_name, obj.workstation = (
                original.unit,
                original.unit_name,
                original.workstation,
            )
            obj.save()
            services.member_change_unit(
                member=obj,
                unit=employer[0],
                unit_name=employer[1],
                workstation=employer[2],
                by=request.user,
            )
        else:
            obj.save()

    def has_delete_permission(self, request, obj=None):
        # A worker's record carries their needs and history; only superusers remove it.
        return request.user.is_superuser


class PendingFirstFilter(admin.SimpleListFilter):
    """Cadres open the queue on what waits for them."""

    title = "审核状态"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*MembershipApplication.Status.choices, ("all", "全部")]

    def queryset(self, request, queryset):
        value = self.value() or MembershipApplication.Status.PENDING
        if value == "all":
            return queryset
        return queryset.filter(status=value)

    def choices(self, changelist):
        current = self.value() or MembershipApplication.Status.PENDING
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = [
        "applicant",
        "masked_mobile",
        "unit_name",
        "workstation",
        "submitted_at",
        "status",
        "decided_by",
    ]
    list_filter = [PendingFirstFilter, ("member__workstation", ScopedRelatedFilter)]
    list_select_related = ["member__user", "member__workstation", "decided_by"]
    search_fields = ["member__user__name", "=member__mobile", "member__unit_name"]
    ordering = ["submitted_at"]
    actions = ["approve_selected", "reject_selected"]
    fields = [
        "applicant",
        "mobile",
        "id_number",
        "unit_name",
        "workstation",
        "statement",
        "submitted_at",
        "status",
        "reason",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields

    @admin.display(description="申请人", ordering="member__user__name")
    def applicant(self, obj):
        return obj.member.user.name

    @admin.display(description="手机号码")
    def masked_mobile(self, obj):
        return mask_mobile(obj.member.mobile)

    @admin.display(description="手机号码")
    def mobile(self, obj):
        # Shown in full on the decision page: the cadre may need to call the worker.
        return obj.member.mobile

    @admin.display(description="身份证号码")
    def id_number(self, obj):
        return mask_id_number(obj.member.id_number) or "—"

    @admin.display(description="工作单位")
    def unit_name(self, obj):
        return obj.member.unit_name

    @admin.display(description="所属工作站")
    def workstation(self, obj):
        return obj.member.workstation

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "POST" and obj.is_pending:
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
            return self._decide(request, obj)
        extra_context = {
            **(extra_context or {}),
            "rejection_form": RejectionForm(),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide(self, request, obj):
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                services.membership_approve(application=obj, by=request.user)
                self.message_user(request, f"已批准 {obj.member.user.name} 的入会申请。")
            elif decision == "reject":
                form = RejectionForm(request.POST)
                if not form.is_valid():
                    self.message_user(request, "驳回必须填写理由。", messages.ERROR)
                    return self._redirect_to(obj)
                services.membership_reject(
                    application=obj, by=request.user, reason=form.cleaned_data["reason"]
                )
                self.message_user(request, f"已驳回 {obj.member.user.name} 的入会申请。")
            else:
                self.message_user(request, "请选择批准或驳回。", messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
        return self._redirect_to(obj)

    def _redirect_to(self, obj):
        from django.shortcuts import redirect

        return redirect("admin:members_membershipapplication_change", obj.pk)

    @admin.action(description="批准所选入会申请", permissions=["change"])
    def approve_selected(self, request, queryset):
        done, skipped = 0, 0
        for application in queryset.filter(status=MembershipApplication.Status.PENDING):
            services.membership_approve(application=application, by=request.user)
            done += 1
        skipped = queryset.count() - done
        self.message_user(
            request,
            f"已批准 {done} 份申请" + (f"，跳过 {skipped} 份已处理的申请。" if skipped else "。"),
        )

    @admin.action(description="驳回所选入会申请（需填写理由）", permissions=["change"])
    def reject_selected(self, request, queryset):
        pending = queryset.filter(status=MembershipApplication.Status.PENDING)
        form = RejectionForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            count = 0
            for application in pending:
                services.membership_reject(
                    application=application, by=request.user, reason=form.cleaned_data["reason"]
                )
                count += 1
            self.message_user(request, f"已驳回 {count} 份申请。")
            return None
        return TemplateResponse(
            request,
            "admin/members/reject_applications.html",
            {
                **self.admin_site.each_context(request),
                "title": "驳回入会申请",
                "opts": self.model._meta,
                "applications": pending.select_related("member__user"),
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
