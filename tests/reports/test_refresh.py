"""manage.py refresh_reports: the standard reports are ready before anyone opens them."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.needs import conftest as need_fixtures

make_need = need_fixtures.make_need

REPORT = reverse("reports:report")


def refresh() -> str:
    out = io.StringIO()
    call_command("refresh_reports", stdout=out)
    return out.getvalue()


@pytest.fixture
def needs(make_need, worker, zone_worker, settings):
    settings.NEED_SUBMISSIONS_PER_DAY = 100
    return [make_need(worker, title="东湖的诉求"), make_need(zone_worker, title="高新区的诉求")]


def test_computes_every_districts_and_streets_standard_reports(needs, street_a, street_b):
    # One district and two streets, each this month, quarter and year.
    assert "重新计算 9 份，沿用 0 份" in refresh()


@pytest.mark.parametrize("who", ["reviewer", "district_cadre", "street_cadre"])
def test_readers_then_find_figures_and_sections_ready(
    client, request, needs, who, django_assert_num_queries
):
    refresh()
    client.force_login(request.getfixturevalue(who))
    # session, user, posts, fingerprint, unread messages, the filter's selects (2):
    # neither build_report nor the sections' rendering.
    with django_assert_num_queries(7):
        response = client.get(REPORT + "?period=year")
    assert response.status_code == 200
    assert "reports/_report_body.html" not in [t.name for t in response.templates]


def test_a_second_run_without_changes_computes_nothing(needs):
    refresh()
    assert "重新计算 0 份，沿用 9 份" in refresh()


def test_a_change_is_computed_at_once_whatever_the_stale_window(
    needs, make_need, worker, settings, client, reviewer
):
    settings.REPORT_STALE_SECONDS = 3600
    refresh()
    make_need(worker, title="又一件")
    # The district's three and street A's three; street B's figures did change too
    # (the fingerprint is the whole database's), so all nine are computed again.
    assert "重新计算 9 份" in refresh()
    client.force_login(reviewer)
    body = client.get(REPORT).content.decode()
    assert "之后没有新的记录，是最新数据" in body
