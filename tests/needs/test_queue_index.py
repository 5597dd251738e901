"""The cadres' open queue is read in the order of its index, not sorted on every view."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory

from apps.needs.models import Need
from tests.needs import conftest as need_fixtures

make_need = need_fixtures.make_need
need = need_fixtures.need


def _changelist_queryset(user, query=""):
    request = RequestFactory().get(f"/admin/needs/need/{query}")
    request.user = user
    model_admin = admin.site._registry[Need]
    return model_admin.get_changelist_instance(request).get_queryset(request)


def test_the_open_queue_is_ordered_by_priority_then_age_without_still_open(district_cadre):
    ordering = _changelist_queryset(district_cadre).query.order_by
    assert ordering[:2] == ("-priority", "created_at")
    everything = _changelist_queryset(district_cadre, "?status=all").query.order_by
    assert everything[0] == "-still_open"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_district_queues_first_page_can_be_read_from_the_partial_index(district_cadre):
    """The ORDER BY and WHERE of the admin's own query match need_open_queue's expression
    and condition (a seq scan is ruled out, so only a matching index can serve it)."""
    page = _changelist_queryset(district_cadre)[:50]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        plan = page.explain()
    assert "need_open_queue" in plan, plan


def test_a_search_lists_the_newest_first(district_cadre):
    assert _changelist_queryset(district_cadre, "?q=工资").query.order_by[0] == "-created_at"


@pytest.fixture
def six_needs(make_need, worker, settings):
    settings.NEED_SUBMISSIONS_PER_DAY = 100
    return [make_need(worker, title=f"诉求{i}") for i in range(6)]


def test_the_count_stops_at_the_cap_and_the_page_says_more_than(
    client, district_cadre, six_needs, monkeypatch
):
    from django.test.utils import CaptureQueriesContext

    from apps.core.admin_mixins import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    client.force_login(district_cadre)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/admin/needs/need/").content.decode()
    assert "超过 4 条诉求" in body
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 5" in counts[0]
    monkeypatch.setattr(CappedCountPaginator, "cap", 10)
    body = client.get("/admin/needs/need/").content.decode()
    assert "超过 10 条" not in body and "6 诉求" in body


def test_the_selection_box_is_djangos_markup_without_the_widget_machinery(need):
    from django.contrib.admin import ModelAdmin

    model_admin = admin.site._registry[Need]
    assert str(model_admin.action_checkbox(need)) == str(
        ModelAdmin.action_checkbox(model_admin, need)
    )
