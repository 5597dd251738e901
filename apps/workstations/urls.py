from django.urls import path

from . import views

app_name = "workstations"

urlpatterns = [
    # /workstations/
    path("", views.WorkstationListView.as_view(), name="workstation-list"),
]
