"""Site-wide middleware."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation


class RefuseNulMiddleware:
    """A NUL character in the address or its query string answers 400 Bad Request.

    PostgreSQL refuses NUL in text, so a value read straight from the URL into a query
    failed with a 500 (the admin's list filters and autocomplete did). Form fields refuse
    NUL themselves (``apps.core.forms``); this covers everything else a URL carries.
    Nobody types a NUL: only scripts send one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            # Django answers 400 (templates/400.html) and logs it to django.security.
            raise SuspiciousOperation("NUL character in the request's address")
        return self.get_response(request)
