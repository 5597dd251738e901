"""The project's URLs plus the benchmark's bare view (config.settings.bench only).

Never imported by config.urls: the bare view exists only on the benchmark's server.
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from config.urls import handler500  # noqa: F401 (the URLconf's own 500 page)
from config.urls import urlpatterns as project_urlpatterns

BARE_BODY = b"ok\n"


@require_GET
def bare(request):
    """A fixed short response through the whole middleware stack and no database."""
    return HttpResponse(BARE_BODY, content_type="text/plain; charset=utf-8")


urlpatterns = [
    # /__bench__/bare/
    path("__bench__/bare/", bare, name="bench-bare"),
    *project_urlpatterns,
]
