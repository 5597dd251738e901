from django.urls import path

from . import follow_up_views, views

app_name = "reports"

urlpatterns = [
    # /reports/ — the report page (reviewers, district and street cadres)
    path("", views.ReportView.as_view(), name="report"),
    # /reports/export/<table>.<csv|xlsx>?<the page's filters>
    path("export/<slug:table>.<str:fmt>", views.export_table, name="export"),
    # /reports/follow-up/ — 回访抽查: the reviewer's samples, and drawing a new one
    path("follow-up/", follow_up_views.SampleListView.as_view(), name="follow-up-list"),
    path("follow-up/draw/", follow_up_views.draw_sample, name="follow-up-draw"),
    path(
        "follow-up/<int:pk>/", follow_up_views.SampleDetailView.as_view(), name="follow-up-detail"
    ),
    path(
        "follow-up/<int:pk>/calls/<int:call_pk>/",
        follow_up_views.record_call,
        name="follow-up-call",
    ),
]
