from django.urls import path

from . import views

app_name = "needs"

urlpatterns = [
    # /needs/
    path("", views.NeedListView.as_view(), name="need-list"),
    path("new/", views.NeedCreateView.as_view(), name="need-new"),
    path("public/", views.PublicNeedListView.as_view(), name="public-list"),
    # /needs/<pk>/
    path("<int:pk>/", views.NeedDetailView.as_view(), name="need-detail"),
    path("<int:pk>/withdraw/", views.need_withdraw, name="need-withdraw"),
    path("<int:pk>/rate/", views.need_rate, name="need-rate"),
    path("<int:pk>/support/", views.need_support, name="need-support"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment-download",
    ),
]
