from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    # /messages/
    path("", views.InboxView.as_view(), name="inbox"),
    path("read-all/", views.mark_all_read, name="mark-all-read"),
]
