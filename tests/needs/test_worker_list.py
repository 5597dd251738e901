"""/needs/: the worker's own needs, newest first, filtered and paginated."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.needs import services
from apps.needs.models import Need, ServiceArea

URL = reverse("needs:need-list")


def make_many(make_need, member, count, **fields):
    start = timezone.now() - dt.timedelta(days=count)
    return [
        make_need(member, title=f"诉求{i:02d}", at=start + dt.timedelta(hours=i), **fields)
        for i in range(count)
    ]


def titles(response):
    return [need.title for need in response.context["needs"]]


def test_only_own_needs_newest_first(client, make_need, worker, other_worker):
    make_many(make_need, worker, 3)
    make_need(other_worker, title="王强的诉求")
    client.force_login(worker.user)
    response = client.get(URL)
    assert response.status_code == 200
    assert titles(response) == ["诉求02", "诉求01", "诉求00"]
    assert "王强的诉求" not in response.content.decode()


def test_status_badges(client, make_need, worker, cadre):
    need = make_need(worker)
    services.need_accept(need=need, by=cadre)
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert "need-status-accepted" in body
    assert "已受理" in body


def test_pagination_ten_per_page(client, make_need, worker):
    make_many(make_need, worker, 13)
    client.force_login(worker.user)
    first = client.get(URL)
    assert len(titles(first)) == 10
    assert "第 1 / 2 页" in first.content.decode()
    second = client.get(URL, {"page": 2})
    assert titles(second) == ["诉求02", "诉求01", "诉求00"]
    assert client.get(URL, {"page": 99}).status_code == 404


def test_pagination_keeps_the_filters(client, make_need, worker):
    make_many(make_need, worker, 12, kind=Need.Kind.CONSULTATION)
    client.force_login(worker.user)
    body = client.get(URL, {"kind": "consultation"}).content.decode()
    assert "?kind=consultation&amp;page=2" in body


def test_filter_by_status_group(client, make_need, worker, cadre):
    waiting, resolved, closed, withdrawn = (make_need(worker, title=t) for t in "ABCD")
    for need in (resolved, closed):
        services.need_accept(need=need, by=cadre)
        services.need_resolve(need=need, by=cadre, resolution="已解决")
    services.need_rate(need=closed, by=worker.user, outcome="yes", score=5)
    services.need_withdraw(need=withdrawn, by=worker.user)
    client.force_login(worker.user)
    assert titles(client.get(URL, {"state": "open"})) == ["A"]
    assert titles(client.get(URL, {"state": "to_rate"})) == ["B"]
    assert titles(client.get(URL, {"state": "closed"})) == ["C"]
    assert titles(client.get(URL, {"state": "ended"})) == ["D"]


def test_filter_by_kind_and_area(client, make_need, worker, reference):
    culture = ServiceArea.objects.get(code="culture")
    make_need(worker, title="书屋", kind=Need.Kind.SUGGESTION, area=culture)
    make_need(worker, title="欠薪")
    client.force_login(worker.user)
    assert titles(client.get(URL, {"kind": "suggestion"})) == ["书屋"]
    assert titles(client.get(URL, {"area": culture.pk})) == ["书屋"]
    assert titles(client.get(URL, {"kind": "suggestion", "area": culture.pk})) == ["书屋"]


@pytest.mark.parametrize("params", [{"state": "nope"}, {"kind": "<b>"}, {"area": "abc"}])
def test_unknown_filter_values_do_not_break_the_page(client, make_need, worker, params):
    make_need(worker)
    client.force_login(worker.user)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert "<b>" not in response.content.decode()


def test_empty_list_invites_a_first_need(client, worker):
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert "您还没有提过诉求" in body
    assert reverse("needs:need-new") in body


def test_login_required(client):
    response = client.get(URL)
    assert response.status_code == 302


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_does_not_grow_with_the_list(
    client, make_need, worker, cadre, django_assert_num_queries, count
):
    needs = make_many(make_need, worker, count)
    services.need_accept(need=needs[-1], by=cadre)
    client.force_login(worker.user)
    # 1. the session  2. the user  3. COUNT of the worker's needs (paginator)
    # 4. the page of needs with their service area (one JOIN)
    # 5. the service areas for the filter's select
    # 6. the header's unread message count
    with django_assert_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["needs"]) == min(count, 10)
