"""``show_report_nav`` for the header: whether the user may open /reports/.

Like the review link, worked out once at login and kept in the session, so no page
pays a query for it.
"""

from __future__ import annotations

from .scope import report_scope

SESSION_KEY = "reports_may_view"


def remember_report_access(request, may_view: bool) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) != may_view:
        session[SESSION_KEY] = may_view


def on_login(sender, request, user, **kwargs):
    """``user_logged_in`` receiver (connected in ``ReportsConfig.ready``)."""
    if request is not None:
        remember_report_access(request, not report_scope(user).is_empty)


def report_nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show_report_nav": False}
    return {"show_report_nav": bool(request.session.get(SESSION_KEY, False))}
