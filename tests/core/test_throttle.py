"""Rate limits kept in the cache, the client address they count by, and registration's limit."""

import datetime as dt

import pytest
from django.test import RequestFactory

from apps.core import throttle
from apps.members.models import Member
from tests.members.test_register import form_data

REGISTER = "/accounts/register/"


@pytest.fixture
def clock(monkeypatch):
    """The limits' clock, moved by hand: ``clock.advance(seconds)``."""

    class Clock:
        at = 1_800_000_000.0

        def advance(self, seconds):
            self.at += seconds

    fake = Clock()
    monkeypatch.setattr(throttle, "now", lambda: fake.at)
    return fake


# --- the client's address ---------------------------------------------------------------


def request_from(remote="203.0.113.9", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_the_address_is_the_connections(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert throttle.client_ip(request_from(forwarded="198.51.100.7")) == "203.0.113.9"


def test_behind_one_proxy_the_address_is_the_one_it_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; only the proxy's entry is trusted.
    request = request_from(remote="10.0.0.1", forwarded="1.2.3.4, 198.51.100.7")
    assert throttle.client_ip(request) == "198.51.100.7"


def test_behind_two_proxies_the_outer_proxys_entry_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = request_from(remote="10.0.0.2", forwarded="1.2.3.4, 198.51.100.7, 10.0.0.1")
    assert throttle.client_ip(request) == "198.51.100.7"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address"])
def test_a_missing_or_bad_header_falls_back_to_the_connection(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert throttle.client_ip(request_from(forwarded=forwarded)) == "203.0.113.9"


# --- the sliding window -----------------------------------------------------------------


def test_a_limit_allows_its_count_then_says_when_to_retry(settings, clock):
    settings.REGISTRATIONS_PER_HOUR = 3
    limit = throttle.REGISTRATIONS
    first = clock.at
    for _ in range(3):
        assert limit.retry_at("203.0.113.9") is None
        limit.hit("203.0.113.9")
        clock.advance(60)
    assert limit.retry_at("203.0.113.9") == dt.datetime.fromtimestamp(first + 3600, tz=dt.UTC)
    assert limit.retry_at("198.51.100.7") is None  # another address is not affected

    clock.advance(first + 3600 - clock.at)  # the first hit leaves the window
    assert limit.retry_at("203.0.113.9") is None


def test_a_limit_of_zero_is_off(settings, clock):
    settings.REGISTRATIONS_PER_HOUR = 0
    for _ in range(20):
        throttle.REGISTRATIONS.hit("203.0.113.9")
    assert throttle.REGISTRATIONS.retry_at("203.0.113.9") is None


# --- registration -----------------------------------------------------------------------


def register(client, n, **extra):
    response = client.post(
        REGISTER, form_data(username=f"worker{n}", mobile=f"1391234560{n}"), **extra
    )
    client.post("/accounts/logout/")
    return response


def test_registrations_from_one_address_are_limited_per_hour(client, settings, clock, unit_a1):
    settings.REGISTRATIONS_PER_HOUR = 2
    assert register(client, 1).status_code == 302
    clock.advance(600)
    assert register(client, 2).status_code == 302

    # Told before filling in the form, and a form sent anyway creates nothing.
    page = client.get(REGISTER)
    assert page.status_code == 429
    body = page.content.decode()
    assert "注册太频繁" in body
    assert "一小时内已注册 2 个账号" in body
    assert "之后再试" in body
    assert "联系所属的网格化工会工作站" in body
    assert register(client, 3).status_code == 429
    assert Member.objects.count() == 2

    # Another address may register; an hour after the first, this one may again.
    assert register(client, 4, REMOTE_ADDR="198.51.100.7").status_code == 302
    clock.advance(3000)
    assert register(client, 5).status_code == 302
    assert Member.objects.count() == 4


def test_invalid_registrations_do_not_use_up_the_limit(client, settings, clock, unit_a1):
    settings.REGISTRATIONS_PER_HOUR = 1
    for _ in range(3):
        response = client.post(REGISTER, form_data(password2="mismatch"))
        assert response.status_code == 200
    assert register(client, 1).status_code == 302
    assert client.get(REGISTER).status_code == 429
