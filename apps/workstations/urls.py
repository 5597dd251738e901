from django.urls import path

from . import views

app_name = "workstations"

urlpatterns = [
    # /workstations/
    path("", views.WorkstationListView.as_view(), name="workstation-list"),
    # /workstations/units/?q= — employer name suggestions for the registration form
    path("units/", views.unit_search, name="unit-search"),
]
