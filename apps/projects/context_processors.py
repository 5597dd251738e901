"""``show_review_nav`` for the header: whether the user holds a reviewer post (考核人员).

Worked out once, when the user logs in, and kept in the session, so no page pays a
query for it (anonymous visitors and workers included). The review pages refresh it
whenever they look the posts up anyway; a post granted meanwhile shows at the next
login, and a post taken away leaves a link that answers 403.
"""

from __future__ import annotations

from apps.workstations.jurisdiction import Jurisdiction

SESSION_KEY = "projects_is_reviewer"


def has_reviewer_post(user) -> bool:
    return not Jurisdiction.for_user(user, role="reviewer").is_empty


def remember_reviewer_post(request, is_reviewer: bool) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) != is_reviewer:
        session[SESSION_KEY] = is_reviewer


def on_login(sender, request, user, **kwargs):
    """``user_logged_in`` receiver (connected in ``ProjectsConfig.ready``)."""
    if request is not None:
        remember_reviewer_post(request, has_reviewer_post(user))


def review_nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show_review_nav": False}
    return {"show_review_nav": bool(request.session.get(SESSION_KEY, False))}
