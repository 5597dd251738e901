"""Running several app servers: a read replica for reports, Redis for cache and sessions.

The app servers keep no state of their own: sessions, login lockouts, registration counts and
kept report figures live in the database or the shared cache, so any server can answer any
request.
"""

import socket

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.routers import ReportsReplicaRouter, reports_database
from apps.needs.models import Need
from tests.core.test_settings import STRONG_KEY, run_manage
from tests.needs import conftest as need_fixtures

make_need = need_fixtures.make_need

REPORT = reverse("reports:report")
REDIS_URL = "redis://127.0.0.1:6379/15"


# --- the router -------------------------------------------------------------------------


def test_reads_go_to_the_reports_database_only_inside_the_block(settings):
    settings.REPORTS_DATABASE = "replica"
    router = ReportsReplicaRouter()
    assert router.db_for_read(Need) is None
    with reports_database() as alias:
        assert alias == "replica"
        assert router.db_for_read(Need) == "replica"
        assert router.db_for_write(Need) == "default"
    assert router.db_for_read(Need) is None


def test_without_a_replica_reports_read_from_default(settings):
    assert django_settings.REPORTS_DATABASE == "default"  # the test settings set no replica URL
    with reports_database() as alias:
        assert alias == "default"
        assert ReportsReplicaRouter().db_for_read(Need) == "default"


def test_only_the_primary_is_migrated():
    router = ReportsReplicaRouter()
    assert router.allow_migrate("default", "needs") is True
    assert router.allow_migrate("replica", "needs") is False


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_report_page_reads_its_figures_from_the_replica(
    client, reviewer, make_need, worker, settings
):
    """Committed rows, a second connection: the report's aggregation runs there only."""
    settings.REPORTS_DATABASE = "replica"
    settings.NEED_SUBMISSIONS_PER_DAY = 100
    for i in range(3):
        make_need(worker, title=f"诉求{i}")
    client.force_login(reviewer)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(REPORT)
    assert response.status_code == 200
    replica_sql = " ".join(q["sql"] for q in replica.captured_queries)
    primary_sql = " ".join(q["sql"] for q in primary.captured_queries)
    # The fingerprint and build_report's 30 queries; none of them on the primary.
    assert len(replica.captured_queries) == 31
    assert "needs_need" in replica_sql
    assert "needs_need" not in primary_sql
    # Session, user, posts, unread messages and the filter's selects stay on the primary.
    assert len(primary.captured_queries) == 6
    foot = response.content.decode().split("<tfoot>", 1)[1]
    assert ">3<" in foot.split("</tfoot>", 1)[0]


def test_replica_url_adds_the_alias_and_sends_reports_there():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "r = s.DATABASES['replica']; "
        "print(s.REPORTS_DATABASE, r['HOST'], r['NAME'], r['TEST']['MIRROR'], s.DATABASE_ROUTERS)",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="zgzj.example.cn",
        DATABASE_URL="postgres://app@primary.example.cn:5432/zhigong",
        DATABASE_REPLICA_URL="postgres://report@replica.example.cn:5432/zhigong",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "replica replica.example.cn zhigong default ['apps.core.routers.ReportsReplicaRouter']"
    )


# --- Redis: a shared cache and sessions ------------------------------------------------


def test_redis_url_selects_the_redis_cache_and_cached_sessions():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; c = s.CACHES['default']; "
        "print(c['BACKEND'], c['LOCATION'], s.SESSION_ENGINE)",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="zgzj.example.cn",
        REDIS_URL="redis://cache.example.cn:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "django.core.cache.backends.redis.RedisCache redis://cache.example.cn:6379/0 "
        "django.contrib.sessions.backends.cached_db"
    )


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


redis_needed = pytest.mark.skipif(
    not _redis_answers(), reason="Redis is not running at 127.0.0.1:6379"
)


@pytest.fixture
def redis_everywhere(settings):
    """The settings REDIS_URL produces, on a database of Redis kept for the tests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "zhigong-test",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


@redis_needed
def test_two_app_servers_share_a_login_through_redis(redis_everywhere, worker):
    """A session made on one server is honoured by another (no server keeps it)."""
    first, second = Client(), Client()
    first.force_login(worker.user)
    second.cookies = first.cookies
    response = second.get(reverse("members:profile"))
    assert response.status_code == 200
    assert worker.user.username in response.content.decode() or response.context["user"] == (
        worker.user
    )
    session_key = first.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert redis_everywhere.get(f"django.contrib.sessions.cached_db{session_key}") is not None


@redis_needed
def test_registration_limit_adds_up_across_servers_in_redis(redis_everywhere, settings):
    from apps.core.throttle import REGISTRATIONS

    settings.REGISTRATIONS_PER_HOUR = 2
    address = "203.0.113.9"
    REGISTRATIONS.hit(address)
    # Another server process: a new client connection, the same counts (kept in Redis).
    caches["default"].close()
    assert REGISTRATIONS.retry_at(address) is None
    REGISTRATIONS.hit(address)
    caches["default"].close()
    assert REGISTRATIONS.retry_at(address) is not None
    assert redis_everywhere.get(f"throttle:register:{address}") is not None


@redis_needed
def test_kept_report_figures_are_shared_through_redis(
    redis_everywhere, client, reviewer, make_need, worker, django_assert_max_num_queries
):
    make_need(worker)
    client.force_login(reviewer)
    assert client.get(REPORT).status_code == 200
    # Another server: its own client connection, nothing in its memory; the figures come
    # from Redis, so build_report does not run again.
    caches["default"].close()
    other = Client()
    other.cookies = client.cookies
    with django_assert_max_num_queries(8):
        assert other.get(REPORT).status_code == 200
