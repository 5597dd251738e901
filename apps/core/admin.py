from django.contrib import admin

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
