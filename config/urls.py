from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # / and /healthz/
    path("", include("apps.core.urls")),
    # /accounts/
    path("accounts/", include("apps.members.urls")),
    # /needs/
    path("needs/", include("apps.needs.urls")),
    # /projects/
    path("projects/", include("apps.projects.urls")),
    # /messages/
    path("messages/", include("apps.notifications.urls")),
    # /reports/
    path("reports/", include("apps.reports.urls")),
    # /workstations/
    path("workstations/", include("apps.workstations.urls")),
    # /admin/
    path("admin/", admin.site.urls),
]

# A lost database answers 503 with a short page; any other error the 500 page.
handler500 = "apps.core.views.server_error"
