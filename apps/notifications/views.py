"""The message box: what changed on the user's needs since they last looked."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from .models import Notification


class InboxView(LoginRequiredMixin, ListView):
    """Newest first; the messages on the page are marked read by opening it.

    They are still shown as new on this visit (the objects were read before the
    update), and the header's count, rendered afterwards, already excludes them.
    """

    template_name = "notifications/inbox.html"
    context_object_name = "notifications"
    paginate_by = 20

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = list(context["notifications"])
        host = self.request.get_host()
        for notification in page:
            # Only links inside the portal are followed (messages store a path).
            notification.link = (
                notification.url
                if notification.url
                and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={host})
                else ""
            )
        unread = [n.pk for n in page if n.read_at is None]
        if unread:
            Notification.objects.filter(user=self.request.user, pk__in=unread).update(
                read_at=timezone.now()
            )
        context["notifications"] = page
        return context


@require_POST
@login_required
def mark_all_read(request):
    count = Notification.objects.filter(user=request.user).unread().update(read_at=timezone.now())
    if count:
        messages.success(request, f"已将 {count} 条消息标为已读。")
    return redirect("notifications:inbox")
