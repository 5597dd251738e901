from django.contrib import admin
from django.db.models import Count
from import_export.admin import ImportExportModelAdmin

from apps.core.admin_mixins import (
    JurisdictionAdminMixin,
    ScopedImportExportMixin,
    ScopedRelatedFilter,
)

from .models import CadreAssignment, District, OwnershipType, Street, Unit, Workstation
from .resources import UnitResource
from .services import cadre_grant_access, unit_sync_members


@admin.register(OwnershipType)
class OwnershipTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "order"]
    search_fields = ["name", "code"]


@admin.register(District)
class DistrictAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["union_name", "name", "code", "phone"]
    search_fields = ["name", "union_name", "code"]


@admin.register(Street)
class StreetAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "district", "code", "workstation_count"]
    list_filter = ["kind"]
    list_select_related = ["district"]
    search_fields = ["name", "code"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_workstations=Count("workstations", distinct=True))
        )

    @admin.display(description="工作站数", ordering="n_workstations")
    def workstation_count(self, obj):
        return obj.n_workstations


class AssignmentInline(admin.TabularInline):
    model = CadreAssignment
    fk_name = "workstation"
    fields = ["user", "title", "office_phone", "is_active"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Workstation)
class WorkstationAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["name", "street", "address", "hours", "phone", "is_active"]
    list_filter = ["is_active", ("street", ScopedRelatedFilter)]
    list_select_related = ["street"]
    search_fields = ["name", "code", "address"]
    inlines = [AssignmentInline]


@admin.register(Unit)
class UnitAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, ImportExportModelAdmin):
    resource_classes = [UnitResource]
    list_display = [
        "name",
        "ownership",
        "industry",
        "headcount",
        "has_union",
        "workstation",
    ]
    list_filter = [
        "ownership",
        "has_union",
        ("workstation__street", ScopedRelatedFilter),
        ("workstation", ScopedRelatedFilter),
    ]
    list_select_related = ["ownership", "workstation"]
    search_fields = ["name", "credit_code", "industry"]
    autocomplete_fields = ["workstation"]
    fieldsets = [
        (None, {"fields": ["name", "credit_code", "ownership", "industry", "headcount"]}),
        ("基层工会", {"fields": ["has_union", "union_name"]}),
        ("网格", {"fields": ["workstation", "address"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "workstation" in form.changed_data:
            moved = unit_sync_members(unit=obj)
            if moved:
                self.message_user(
                    request, f"该单位的 {moved} 名职工已随单位划入{obj.workstation}。"
                )


@admin.register(CadreAssignment)
class CadreAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "level", "node_name", "title", "office_phone", "is_active"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user", "district", "street", "workstation"]
    search_fields = ["user__name", "user__username", "title"]
    autocomplete_fields = ["user", "street", "workstation"]

    @admin.display(description="层级")
    def level(self, obj):
        return obj.level_label

    @admin.display(description="任职单位")
    def node_name(self, obj):
        return obj.node

    # Posts decide who sees what; only superusers hand them out.
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        cadre_grant_access(obj.user)
