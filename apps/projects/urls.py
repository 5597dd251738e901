from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    # /projects/ — the public showcase
    path("", views.ProjectListView.as_view(), name="project-list"),
    # /projects/review/ — the reviewer's queue
    path("review/", views.ReviewQueueView.as_view(), name="review-queue"),
    # /projects/<pk>/
    path("<int:pk>/", views.ProjectDetailView.as_view(), name="project-detail"),
    path("<int:pk>/photos/<int:photo_pk>/", views.progress_photo, name="progress-photo"),
    path("<int:pk>/review/", views.ProjectReviewView.as_view(), name="project-review"),
    path("<int:pk>/review/submit/", views.project_review_submit, name="project-review-submit"),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/",
        views.evidence_download,
        name="evidence-download",
    ),
]
