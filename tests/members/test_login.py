from django.urls import reverse

from tests.conftest import PASSWORD


def test_login_with_username(client, worker):
    response = client.post(reverse("members:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("members:profile")


def test_login_with_mobile(client, worker):
    response = client.post(
        reverse("members:login"), {"username": worker.mobile, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_shows_message(client, worker):
    response = client.post(reverse("members:login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only_and_ends_session(client, worker):
    client.force_login(worker.user)
    assert client.get(reverse("members:logout")).status_code == 405
    response = client.post(reverse("members:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_profile_requires_login(client, db):
    response = client.get(reverse("members:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("members:login"))


def test_staff_without_worker_profile_goes_to_the_admin(client, cadre):
    client.force_login(cadre)
    assert client.get(reverse("members:profile"))["Location"] == reverse("admin:index")
