from django.utils.functional import SimpleLazyObject

from .models import Notification


def unread_notifications(request):
    """``unread_notification_count`` for the header: one COUNT, and only if a page shows it.

    Lazy, so pages that do not render the site header (the admin) pay nothing;
    anonymous visitors get 0 without a query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notification_count": 0}
    return {
        "unread_notification_count": SimpleLazyObject(
            lambda: Notification.objects.filter(user=user).unread().count()
        )
    }
