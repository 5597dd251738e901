"""Sending a message to a user's box (and by e-mail when they gave an address)."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from .models import Notification


def notify(*, user, title: str, body: str = "", url: str = "") -> Notification:
    notification = Notification.objects.create(user=user, title=title, body=body, url=url)
    email = getattr(user, "email", "")
    if email:
        # A subject is one line: Django refuses a line break there (after the action that
        # sends it was saved), and a title may quote text someone else typed.
        subject = " ".join(f"【职工之家】{title}".splitlines())
        transaction.on_commit(
            lambda: send_mail(
                subject,
                f"{body}\n\n{settings.SITE_URL}{url}" if url else body,
                None,
                [email],
                fail_silently=True,
            )
        )
    return notification
