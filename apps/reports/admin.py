"""The district's ranking weights (考核权重) and the audit trail of 回访抽查.

Weights belong to the district: superusers and district-level cadres set them;
street and workstation cadres, who are ranked by them, do not see them. Samples are
drawn and called on the reviewers' own pages (``follow_up_views``); the admin only
lists them for audit, read-only, to superusers and to reviewers of the district a
superuser has given admin access (reviewers are not staff by default) — never to the
cadres being checked — with every mobile number masked.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.safestring import mark_safe

from apps.core.admin_mixins import JurisdictionAdminMixin
from apps.core.privacy import mask_mobile, mask_name
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import District

from .forms import RankingWeightsForm
from .models import FollowUpCall, FollowUpSample, RankingWeights

WEIGHT_NAMES = {
    "responsiveness": "响应",
    "resolution": "办结",
    "satisfaction": "满意",
    "projects": "项目",
}
FORMULA_HELP = mark_safe(
    "<p><strong>考核得分 = Σ（权重 × 分项得分）÷ Σ 权重</strong>，即四项的加权平均，满分 100。"
    "各分项按 0–100 计：</p>"
    "<ul>"
    "<li>响应 = 按时受理的诉求 ÷ 已受理的诉求 × 100；</li>"
    "<li>办结 = 办结率 × 100（办结数 ÷ 有效诉求数）；</li>"
    "<li>满意 = 满意率 × 100（没有评价记 0）；</li>"
    "<li>项目 = 统计期间内有验收结论的服务项目的平均验收得分（没有记 0）。</li>"
    "</ul>"
    "<p>权重为 0–100 的整数，不能全为 0；只看比例，30/30/25/15 与 60/60/50/30 效果相同。"
    "有效诉求不足 5 件的工作站列出但不排名。</p>"
)


def user_name(user) -> str:
    return (user.name or user.username) if user else "—"


# --- 考核权重 -------------------------------------------------------------------------------


def district_posts(user) -> Jurisdiction:
    """The user's district-level cadre posts only (superusers: everything)."""
    scope = Jurisdiction.for_user(user)
    if scope.everything:
        return scope
    return Jurisdiction(district_ids=scope.district_ids)


@admin.register(RankingWeights)
class RankingWeightsAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    form = RankingWeightsForm
    list_display = [
        "district",
        "responsiveness",
        "resolution",
        "satisfaction",
        "projects",
        "shares",
        "updated_by_name",
        "updated_at",
    ]
    list_select_related = ["district", "updated_by"]
    readonly_fields = ["shares", "updated_by_name", "updated_at"]

    def jurisdiction(self, request) -> Jurisdiction:
        # Street and workstation cadres are ranked by these weights; they do not set them.
        return district_posts(request.user)

    def _may(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and not district_posts(user).is_empty

    # --- permissions ----------------------------------------------------------------

    def has_module_permission(self, request):
        return self._may(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return self._may(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Deleting falls back to the defaults; only a superuser does that.
        return request.user.is_superuser

    # --- the form -------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        weights = {"fields": list(RankingWeights.DEFAULTS), "description": FORMULA_HELP}
        fieldsets = [
            (None, {"fields": ["district"] if obj is None else ["district", "shares"]}),
            ("考核权重", weights),
        ]
        if obj is not None:
            fieldsets.append(("修改记录", {"fields": [("updated_by_name", "updated_at")]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["district", *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            # Districts in reach that have no weights yet (each district has one row).
            kwargs["queryset"] = District.objects.within(self.jurisdiction(request)).filter(
                ranking_weights__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    # --- columns --------------------------------------------------------------------

    @admin.display(description="各项占比")
    def shares(self, weights):
        total = sum(weights.as_dict.values())
        if not total:
            return "—"
        return "，".join(
            f"{WEIGHT_NAMES[name]} {value * 100 / total:.0f}%"
            for name, value in weights.as_dict.items()
        )

    @admin.display(description="修改人")
    def updated_by_name(self, weights):
        return user_name(weights.updated_by)


# --- 回访抽查 (audit) -----------------------------------------------------------------------


class FollowUpCallInline(admin.TabularInline):
    model = FollowUpCall
    fields = [
        "need_number",
        "street",
        "worker",
        "mobile",
        "reached",
        "outcome",
        "score",
        "note",
        "called_at",
        "caller",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "回访记录（只读；回访在“回访抽查”页面进行）"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("need__submitter__user", "street", "called_by")
            .defer("need__description")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="诉求")
    def need_number(self, call):
        flag = "（保密）" if call.need.confidential else ""
        return f"{call.need.number} {call.need.title}{flag}"

    @admin.display(description="职工")
    def worker(self, call):
        return mask_name(call.need.submitter.user.name) or "—"

    @admin.display(description="手机号码")
    def mobile(self, call):
        return mask_mobile(call.need.submitter.mobile)

    @admin.display(description="回访人")
    def caller(self, call):
        return user_name(call.called_by) if call.called_at else "—"


@admin.register(FollowUpSample)
class FollowUpSampleAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = [
        "drawn_display",
        "district",
        "where",
        "period",
        "per_street",
        "drawn_by_name",
        "progress",
    ]
    list_filter = ["district"]
    list_select_related = ["district", "street", "drawn_by"]
    date_hierarchy = "drawn_at"
    fields = [
        ("district", "street"),
        ("period_start", "period_end", "per_street"),
        ("drawn_by_name", "drawn_at"),
    ]
    readonly_fields = [
        "district",
        "street",
        "period_start",
        "period_end",
        "per_street",
        "drawn_by_name",
        "drawn_at",
    ]
    inlines = [FollowUpCallInline]

    def jurisdiction(self, request) -> Jurisdiction:
        # The reviewers' check: the cadres being checked do not see who is called.
        return Jurisdiction.for_user(request.user, role="reviewer")

    def _may(self, request) -> bool:
        return request.user.is_active and not self.jurisdiction(request).is_empty

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                calls_total=Count("calls"),
                calls_made=Count("calls", filter=Q(calls__reached__isnull=False)),
            )
        )

    # --- permissions: view only -------------------------------------------------------

    def has_module_permission(self, request):
        return self._may(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns --------------------------------------------------------------------

    @admin.display(description="抽取时间", ordering="drawn_at")
    def drawn_display(self, sample):
        return f"{timezone.localtime(sample.drawn_at):%Y-%m-%d %H:%M}"

    @admin.display(description="范围")
    def where(self, sample):
        return sample.street.name if sample.street else "全部街道（开发区）"

    @admin.display(description="诉求提出期间", ordering="period_start")
    def period(self, sample):
        return f"{sample.period_start:%Y-%m-%d} 至 {sample.period_end:%Y-%m-%d}"

    @admin.display(description="抽取人")
    def drawn_by_name(self, sample):
        return user_name(sample.drawn_by)

    @admin.display(description="已回访 / 抽取")
    def progress(self, sample):
        return f"{sample.calls_made} / {sample.calls_total}"
