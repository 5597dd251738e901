"""/messages/: the message box, its unread count in the header, and marking read."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.needs import services
from apps.needs.models import Need, ServiceArea
from apps.notifications.models import Notification
from apps.notifications.services import notify

User = get_user_model()
URL = reverse("notifications:inbox")
READ_ALL = reverse("notifications:mark-all-read")


def badge(body):
    """The header's unread count, or None when no badge is shown."""
    marker = '<span class="visually-hidden">条未读</span>'
    if marker not in body:
        return None
    head = body.split(marker)[0]
    return int(head.rsplit(">", 2)[-2].split("<")[0])


def make(user, count, **fields):
    now = timezone.now()
    return [
        Notification.objects.create(
            user=user,
            title=f"消息{i:02d}",
            created_at=now - dt.timedelta(minutes=count - i),
            **fields,
        )
        for i in range(count)
    ]


def test_header_shows_the_unread_count(client, worker):
    make(worker.user, 3)
    client.force_login(worker.user)
    assert badge(client.get(reverse("needs:need-list")).content.decode()) == 3


def test_no_badge_without_unread_messages(client, worker):
    client.force_login(worker.user)
    assert badge(client.get(reverse("home")).content.decode()) is None


def test_anonymous_pages_run_no_count_query(client, db):
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    assert not [q for q in queries.captured_queries if "notification" in q["sql"]]


def test_pages_without_the_header_run_no_count_query(admin_client):
    Notification.objects.create(user=User.objects.get(username="admin"), title="x")
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(reverse("admin:index")).status_code == 200
    assert not [q for q in queries.captured_queries if "notification" in q["sql"]]


def test_opening_the_box_marks_the_page_read(client, worker):
    make(worker.user, 3)
    client.force_login(worker.user)
    response = client.get(URL)
    body = response.content.decode()
    assert body.count("is-unread") == 3  # still highlighted on this visit
    assert badge(body) is None  # the header already counts them read
    assert not Notification.objects.unread().exists()
    assert "is-unread" not in client.get(URL).content.decode()


def test_newest_first_and_only_ones_own(client, worker, other_worker):
    make(worker.user, 3)
    Notification.objects.create(user=other_worker.user, title="王强的消息")
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert body.index("消息02") < body.index("消息01") < body.index("消息00")
    assert "王强的消息" not in body
    assert Notification.objects.filter(user=other_worker.user).unread().count() == 1


def test_paginated_box_marks_only_the_page_and_offers_mark_all(client, worker):
    make(worker.user, 25)
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert Notification.objects.unread().count() == 5
    assert READ_ALL in body
    assert "其余 5 条全部标为已读" in body
    response = client.post(READ_ALL, follow=True)
    assert "已将 5 条消息标为已读" in response.content.decode()
    assert not Notification.objects.unread().exists()


def test_mark_all_read_is_post_only_and_per_user(client, worker, other_worker):
    Notification.objects.create(user=other_worker.user, title="王强的消息")
    client.force_login(worker.user)
    assert client.get(READ_ALL).status_code == 405
    client.post(READ_ALL)
    assert Notification.objects.filter(user=other_worker.user).unread().count() == 1


def test_messages_link_inside_the_portal_only(client, worker):
    Notification.objects.create(user=worker.user, title="站内", url="/needs/1/")
    Notification.objects.create(user=worker.user, title="站外", url="https://evil.example/")
    Notification.objects.create(user=worker.user, title="脚本", url="javascript:alert(1)")
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert 'href="/needs/1/"' in body
    assert "evil.example" not in body
    assert "javascript:" not in body


def test_markup_in_messages_is_escaped(client, worker):
    Notification.objects.create(user=worker.user, title="<b>粗</b>", body="<script>x()</script>")
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert "<script>x()</script>" not in body
    assert "&lt;b&gt;粗&lt;/b&gt;" in body


def test_need_changes_arrive_in_the_box(client, reference, worker, cadre):
    need = services.need_submit(
        member=worker,
        kind=Need.Kind.CONSULTATION,
        area=ServiceArea.objects.get(code="rights"),
        rights_type=Need.RightsType.LABOUR_ECONOMIC,
        title="加班费怎么算",
        description="节假日加班费怎么算？",
    )
    services.need_accept(need=need, by=cadre, public_note="已受理")
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert "诉求已受理" in body
    assert reverse("needs:need-detail", args=[need.pk]) in body


def test_email_is_sent_when_the_user_has_an_address(
    worker, mailoutbox, django_capture_on_commit_callbacks
):
    worker.user.email = "alice@example.com"
    worker.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=worker.user, title="诉求已受理", url="/needs/1/")
    assert len(mailoutbox) == 1
    assert "诉求已受理" in mailoutbox[0].subject


def test_login_required(client):
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_does_not_grow_with_the_box(client, worker, django_assert_num_queries, count):
    make(worker.user, count)
    client.force_login(worker.user)
    # 1. the session  2. the user  3. COUNT for the paginator  4. the page
    # 5. UPDATE the page's unread ones as read  6. the header's unread count
    with django_assert_num_queries(6):
        client.get(URL)
