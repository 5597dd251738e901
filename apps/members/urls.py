from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import LoginForm

app_name = "members"

urlpatterns = [
    # /accounts/
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="members/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.RegisterView.as_view(), name="register"),
    path("profile/", views.profile, name="profile"),
    path("profile/membership/", views.apply_for_membership, name="apply"),
    path("profile/employer/", views.ChangeEmployerView.as_view(), name="change-employer"),
]
