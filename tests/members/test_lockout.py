"""Login throttling (django-axes): five wrong passwords lock a username from one address."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD

LOGIN = reverse("members:login")
ADMIN_LOGIN = reverse("admin:login")


@pytest.fixture(autouse=True)
def limits(settings):
    """The production numbers, spelled out here so the tests read on their own."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)


def fail(client, username, times=1, url=LOGIN, **extra):
    response = None
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "wrong-pass"}, **extra)
    return response


def log_in(client, username, url=LOGIN, **extra):
    return client.post(url, {"username": username, "password": PASSWORD}, **extra)


def test_four_wrong_passwords_only_say_the_password_is_wrong(client, worker):
    response = fail(client, "alice", times=4)
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_the_fifth_wrong_password_locks_out_with_a_clear_message(client, worker):
    fail(client, "alice", times=4)
    before = timezone.now()
    response = fail(client, "alice")
    assert response.status_code == 429
    body = response.content.decode()
    assert "登录已暂时锁定" in body
    assert "连续 5 次密码错误，已暂停登录 30 分钟" in body
    assert "之后再试" in body
    assert "联系您所属的网格化工会工作站" in body
    retry_at = response.context["retry_at"]
    assert (
        before + dt.timedelta(minutes=30) <= retry_at <= timezone.now() + dt.timedelta(minutes=30)
    )
    assert timezone.localtime(retry_at).strftime("%H:%M") in body
    assert "_auth_user_id" not in client.session


def test_a_locked_out_account_refuses_even_the_right_password(client, worker):
    fail(client, "alice", times=5)
    response = log_in(client, "alice")
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_mobile_and_username_count_against_the_same_account(client, worker):
    fail(client, "alice", times=3)
    response = fail(client, worker.mobile, times=2)
    assert response.status_code == 429
    assert log_in(client, worker.mobile).status_code == 429


def test_the_lockout_is_for_that_username_only(client, worker, other_worker):
    fail(client, "alice", times=5)
    response = log_in(client, "bob")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other_worker.user.pk)


def test_the_lockout_is_for_that_address_only(client, worker):
    fail(client, "alice", times=5)
    response = log_in(client, "alice", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_a_successful_login_clears_the_count(client, worker):
    fail(client, "alice", times=4)
    assert log_in(client, "alice").status_code == 302
    client.post(reverse("members:logout"))
    response = fail(client, "alice", times=4)
    assert response.status_code == 200


def test_the_account_opens_again_after_the_cool_off(client, worker):
    fail(client, "alice", times=5)
    assert log_in(client, "alice").status_code == 429
    # Half an hour passes since the last try.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=31))
    response = log_in(client, "alice")
    assert response.status_code == 302
    assert response.url == reverse("members:profile")


def test_a_try_during_the_lockout_starts_the_wait_again(client, worker):
    fail(client, "alice", times=5)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=20))
    assert fail(client, "alice").status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=20))
    # 40 minutes after the fifth failure, but only 20 after the last try.
    assert log_in(client, "alice").status_code == 429


def test_the_admin_login_is_covered_too(client, cadre):
    response = fail(client, "cadre_a1", times=5, url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert log_in(client, "cadre_a1", url=ADMIN_LOGIN).status_code == 429
    # The portal's login is the same account from the same address.
    assert log_in(client, "cadre_a1").status_code == 429


def test_wrong_passwords_of_an_unknown_username_lock_that_name_only(client, worker):
    response = fail(client, "nobody", times=5)
    assert response.status_code == 429
    assert log_in(client, "alice").status_code == 302
