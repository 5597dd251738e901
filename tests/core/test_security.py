"""Security headers, cookies, and pages that run under the Content-Security-Policy.

The policy allows the site's own files only, so no page may carry inline code: no
<script> without src, no <style>, no style="" and no on…="" handler attributes.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.staticfiles import finders
from django.urls import reverse

from apps.projects import services as project_services
from apps.projects.workflow import Status
from tests.conftest import PASSWORD
from tests.needs.conftest import make_need  # noqa: F401  (shared fixtures)
from tests.projects.conftest import make_project  # noqa: F401

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {words[0]: words[1:] for words in directives if words}


# --- headers and cookies ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/admin/login/", "/healthz/"])
def test_every_response_carries_the_security_headers(client, db, url):
    response = client.get(url, secure=True)
    assert response.status_code == 200
    assert policy(response) == EXPECTED_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_error_pages_carry_the_policy_too(client, db):
    response = client.get("/no-such-page/", secure=True)
    assert response.status_code == 404
    assert policy(response) == EXPECTED_POLICY


def test_csrf_cookie_is_secure_and_same_site(client, db):
    response = client.get(reverse("members:login"), secure=True)
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_session_cookie_is_secure_http_only_and_same_site(client, worker):
    response = client.post(
        reverse("members:login"), {"username": "alice", "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# --- no inline code anywhere --------------------------------------------------------------


class InlineCode(HTMLParser):
    """Collects what the policy would block, and the static files a page loads."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if "src" in attributes:
                self.assets.append(attributes["src"])
            elif attributes.get("type") != "application/json":  # data, never run
                self.blocked.append(f"<script> without src: {self.getpos()}")
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.assets.append(attributes["href"])
        if tag == "style":
            self.blocked.append(f"<style> at {self.getpos()}")
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.blocked.append(f'<{tag} {name}="{attributes[name]}">')


def inspect(response) -> InlineCode:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser


def assert_runs_under_the_policy(response, *, allowed=()):
    page = inspect(response)
    assert sorted(page.blocked) == sorted(allowed), response.wsgi_request.path
    for url in page.assets:
        path = urlsplit(url).path
        assert path.startswith(settings.STATIC_URL) or path.startswith("/admin/jsi18n"), url
        if path.startswith(settings.STATIC_URL):
            assert finders.find(path.removeprefix(settings.STATIC_URL)), url


@pytest.fixture
def project(make_project, make_need, worker, cadre):  # noqa: F811
    """A project under way, with progress and spending, so its bars are drawn."""
    needs = [make_need(worker, title="公司拖欠三个月工资"), make_need(worker, title="欠薪")]
    project = make_project(needs=needs, by=cadre, status=Status.IN_PROGRESS)
    project_services.project_post_progress(project=project, by=cadre, text="已走访", percent=40)
    return project


def test_public_and_worker_pages_have_no_inline_code(client, project, worker):
    for url in ["/", "/accounts/login/", "/accounts/register/", "/workstations/"]:
        assert_runs_under_the_policy(client.get(url))
    # Progress and budget bars get their width from a class, not style="width: …".
    listing = client.get(reverse("projects:project-list"))
    assert 'class="progress-bar w-pct-40"' in listing.content.decode()
    assert_runs_under_the_policy(listing)
    detail = client.get(reverse("projects:project-detail", args=[project.pk]))
    assert 'class="progress-bar w-pct-0 bg-success"' in detail.content.decode()
    assert_runs_under_the_policy(detail)

    client.force_login(worker.user)
    need = worker.needs.first()
    for url in [
        "/needs/",
        "/needs/new/",
        "/needs/public/",
        reverse("needs:need-detail", args=[need.pk]),
        "/accounts/profile/",
        "/messages/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_runs_under_the_policy(response)


def test_error_and_lockout_pages_have_no_inline_code(client, worker, settings):
    assert_runs_under_the_policy(client.get("/no-such-page/"))
    settings.AXES_FAILURE_LIMIT = 1
    lockout = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert lockout.status_code == 429
    assert_runs_under_the_policy(lockout)


def test_the_500_page_loads_its_style_from_a_file(client):
    from django.template.loader import render_to_string

    page = InlineCode()
    page.feed(render_to_string("500.html"))
    assert page.blocked == []
    assert page.assets == [settings.STATIC_URL + "css/error.css"]
    assert finders.find("css/error.css")


def test_cadre_admin_pages_have_no_inline_code(client, cadre, worker, project, make_need):  # noqa: F811
    need = make_need(worker, title="食堂饭菜涨价")
    client.force_login(cadre)
    for url in [
        reverse("admin:index"),
        reverse("admin:needs_need_changelist"),
        reverse("admin:needs_need_change", args=[need.pk]),
        reverse("admin:needs_need_add") + f"?mobile={worker.mobile}",
        reverse("admin:projects_serviceproject_changelist"),
        reverse("admin:projects_serviceproject_change", args=[project.pk]),
        reverse("admin:members_member_changelist"),
        reverse("admin:workstations_unit_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_runs_under_the_policy(response)

    # The need's action panel loads the reply-template script from a file.
    change = client.get(reverse("admin:needs_need_change", args=[need.pk])).content.decode()
    assert "admin-extra/need-reply-templates.js" in change

    # The intermediate page of "create a project from the selected needs".
    create = client.post(
        reverse("admin:needs_need_changelist") + "?status=all",
        {"action": "create_project_from_needs", ACTION_CHECKBOX_NAME: [need.pk], "index": 0},
    )
    assert create.status_code == 200
    assert_runs_under_the_policy(create)


def test_the_export_page_gets_its_inline_handler_from_a_file(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:members_member_export"))
    assert response.status_code == 200
    # django-import-export's own markup; the policy ignores it, and these files stand in.
    assert_runs_under_the_policy(
        response,
        allowed=[
            '<input onchange="onSelectToggleChange(event)">',
            '<label style="font-weight: bold;">',
            '<p style="padding: 0;">',
        ],
    )
    body = response.content.decode()
    assert "admin-extra/import-export.js" in body
    assert "admin-extra/import-export.css" in body


def test_superuser_admin_pages_have_no_inline_code(client, superuser, worker):
    client.force_login(superuser)
    for url in [
        reverse("admin:index"),
        reverse("admin:members_user_changelist"),
        reverse("admin:members_user_change", args=[worker.user.pk]),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:workstations_cadreassignment_add"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_runs_under_the_policy(response)
