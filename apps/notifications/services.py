"""Sending a message to a user's box (and by e-mail when they gave an address)."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from .models import Notification


def notify(*, user, title: str, body: str = "", url: str = "") -> Notification:
    notification = Notification.objects.create(user=user, title=title, body=body, url=url)
    email = getattr(user, "email", "")
    if email:
        transaction.on_commit(
            lambda: send_mail(
                f"【职工之家】{title}",
                f"{body}\n\n{settings.SITE_URL}{url}" if url else body,
                None,
                [email],
                fail_silently=True,
            )
        )
    return notification
