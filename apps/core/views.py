import logging
import sys

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from apps.workstations.models import Street, Unit, Workstation

logger = logging.getLogger(__name__)


class HomeView(TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["counts"] = {
            "streets": Street.objects.count(),
            "workstations": Workstation.objects.active().count(),
            "units": Unit.objects.count(),
        }
        return context


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unavailable")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# The database cannot be reached right now: connection refused or lost, the server shutting
# down, a timeout. Anything else (a DataError, an IntegrityError) is a bug and stays a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Seconds a browser or proxy is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30


def database_unavailable(request=None) -> HttpResponse:
    """503 and a short page, drawn without the request's context processors (they query)."""
    html = loader.get_template("503.html").render({"SITE_NAME": settings.SITE_NAME})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def server_error(request):
    """``handler500``: the 503 page when the database is unreachable, else the 500 page.

    Django calls it for an exception raised anywhere in the request, in a middleware as
    well as in a view; a middleware's ``process_exception`` would miss the first query of
    most requests (the session, read by the middleware before the view). Writes run in
    transactions, so a request that lost the database saved nothing: the page says so.
    Django logs the exception (``django.request``) as for any 5xx.
    """
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return defaults.server_error(request)
