from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # / and /healthz/
    path("", include("apps.core.urls")),
    # /accounts/
    path("accounts/", include("apps.members.urls")),
    # /workstations/
    path("workstations/", include("apps.workstations.urls")),
    # /admin/
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
