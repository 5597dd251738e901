"""When the database cannot be reached: a short Chinese 503 page, and nothing saved.

The outage is simulated on the test's own connection: every statement (or the ones a test
picks) fails as it does when the server has gone away. Savepoint statements are let
through so that the test's transaction can still roll the request back and be inspected.
"""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.urls import reverse

from apps.core.views import database_unavailable
from apps.needs.models import Attachment, Need, NeedEvent
from apps.notifications.models import Notification

UNAVAILABLE = "服务暂时不可用，请稍后再试。您刚才提交的内容没有保存。"
SAVEPOINTS = ("SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")


def every_statement(sql: str) -> bool:
    return True


@contextmanager
def statements_fail(error=OperationalError, when=every_statement):
    """Statements fail as if the server had gone away (``when`` picks which)."""

    def refuse(execute, sql, params, many, context):
        if when(sql) and not sql.startswith(SAVEPOINTS):
            raise error("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@contextmanager
def cannot_connect():
    """Every new cursor fails to reach the server."""
    refused = OperationalError('connection to server at "127.0.0.1", port 5432 failed')
    with mock.patch.object(connection, "ensure_connection", side_effect=refused):
        yield


OUTAGES = {
    "statements fail": statements_fail,
    "connection closed": lambda: statements_fail(InterfaceError),
    "cannot connect": cannot_connect,
}


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert UNAVAILABLE in body
    assert "Traceback" not in body
    # The Content-Security-Policy allows no inline script or style.
    assert "<script" not in body
    assert "<style" not in body
    assert "style=" not in body


@pytest.fixture
def client(client):
    """The browser's view: the error page, not the exception re-raised into the test."""
    client.raise_request_exception = False
    return client


@pytest.fixture
def logged_in(client, worker):
    client.force_login(worker.user)
    return client


@pytest.mark.parametrize("outage", OUTAGES.values(), ids=OUTAGES.keys())
@pytest.mark.parametrize(
    "url",
    ["/", "/needs/", "/needs/new/", "/needs/public/", "/projects/", "/workstations/", "/reports/"],
)
def test_pages_answer_503_while_the_database_is_down(logged_in, url, outage):
    with outage():
        response = logged_in.get(url)
    assert_unavailable_page(response)


@pytest.mark.parametrize("outage", OUTAGES.values(), ids=OUTAGES.keys())
def test_anonymous_visitors_get_the_same_page(client, db, outage):
    with outage():
        response = client.get(reverse("members:register"))
    assert_unavailable_page(response)


def need_form(rights_area):
    return {
        "step": "details",
        "title": "公司拖欠三个月工资",
        "description": "车间二十多名职工的工资从八月起一直没有发放。",
        "kind": Need.Kind.COMPLAINT,
        "area": rights_area.pk,
        "rights_type": Need.RightsType.LABOUR_ECONOMIC,
        "urgency": Need.Urgency.NORMAL,
    }


def saved_rows():
    return [model.objects.count() for model in (Need, NeedEvent, Attachment, Notification)]


@pytest.mark.parametrize(
    "when",
    [
        every_statement,
        # The need's row is written, then its timeline entry fails: the need goes too.
        lambda sql: 'INSERT INTO "needs_needevent"' in sql,
        # Everything is written; telling the cadres fails at the very end.
        lambda sql: 'INSERT INTO "notifications_notification"' in sql,
    ],
    ids=["from the start", "halfway through", "at the very end"],
)
def test_a_need_submitted_while_the_database_fails_is_not_saved(
    logged_in, rights_area, cadre, when
):
    before = saved_rows()
    with statements_fail(when=when):
        response = logged_in.post(reverse("needs:need-new"), need_form(rights_area))
    assert_unavailable_page(response)
    assert saved_rows() == before
    # Nor is it said to have been saved on the next page.
    follow_up = logged_in.get(reverse("needs:need-list"))
    assert follow_up.status_code == 200
    assert "诉求已提交" not in follow_up.content.decode()


def test_the_page_itself_never_touches_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = database_unavailable()
    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_healthz_keeps_its_json_answer(client, db):
    with statements_fail():
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


def test_other_errors_are_still_server_errors(client, db):
    with mock.patch("apps.core.views.HomeView.get_context_data", side_effect=ValueError):
        response = client.get("/")
    assert response.status_code == 500
    assert UNAVAILABLE not in response.content.decode()
