"""/needs/public/ and "我也有此需求": public wording only, support once, never the worker."""

import pytest
from django.urls import reverse

from apps.needs import services
from apps.needs.models import Need, ServiceArea, Support

URL = reverse("needs:public-list")


def support_url(need):
    return reverse("needs:need-support", args=[need.pk])


def publish(need, by, title="部分企业拖欠职工工资", summary="多家企业拖欠工资。"):
    return services.need_publish(need=need, by=by, public_title=title, public_summary=summary)


@pytest.fixture
def published(need, cadre):
    """Alice's confidential wage claim, published by her workstation's cadre."""
    Need.objects.filter(pk=need.pk).update(confidential=True)
    return publish(need, cadre)


def test_anyone_may_read_the_public_list(client, published):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "部分企业拖欠职工工资" in body
    assert "多家企业拖欠工资。" in body
    assert "登录后表示" in body


def test_a_confidential_need_never_shows_its_worker(client, published, worker, other_worker):
    private = [
        worker.user.name,
        worker.mobile,
        "138****0001",
        worker.unit_name,
        published.title,
        published.description,
        published.number,
    ]
    for viewer in (None, other_worker.user):
        if viewer:
            client.force_login(viewer)
        body = client.get(URL).content.decode()
        for text in private:
            assert text not in body, text


def test_a_non_confidential_need_shows_only_its_public_wording_too(client, need, cadre, worker):
    publish(need, cadre, title="公开标题", summary="公开说明")
    body = client.get(URL).content.decode()
    assert "公开标题" in body
    for text in (worker.user.name, worker.unit_name, need.title, need.description):
        assert text not in body


def test_unpublished_rejected_and_withdrawn_needs_are_not_listed(
    client, make_need, worker, other_worker, cadre, other_cadre
):
    make_need(worker, title="没公开的")
    rejected = publish(make_need(worker), cadre, title="被驳回的")
    services.need_reject(need=rejected, by=cadre, reason="不属于受理范围")
    withdrawn = publish(make_need(other_worker), other_cadre, title="撤回的")
    services.need_withdraw(need=withdrawn, by=other_worker.user)
    unpublished = publish(make_need(worker), cadre, title="取消公开的")
    services.need_unpublish(need=unpublished, by=cadre)
    body = client.get(URL).content.decode()
    for title in ("没公开的", "被驳回的", "撤回的", "取消公开的"):
        assert title not in body
    assert "目前没有公开征集的诉求" in body


def test_support_once(client, published, other_worker):
    client.force_login(other_worker.user)
    response = client.post(support_url(published), follow=True)
    assert "已记录" in response.content.decode()
    published.refresh_from_db()
    assert published.support_count == 1
    assert "您已表示“我也有此需求”" in response.content.decode()

    response = client.post(support_url(published), follow=True)
    assert "您已经表示过" in response.content.decode()
    published.refresh_from_db()
    assert published.support_count == 1
    assert Support.objects.count() == 1


def test_no_support_for_ones_own_need(client, published, worker):
    client.force_login(worker.user)
    body = client.get(URL).content.decode()
    assert "这是您反映的问题" in body
    assert support_url(published) not in body
    response = client.post(support_url(published), follow=True)
    assert "这是您自己提出的诉求" in response.content.decode()
    assert not Support.objects.exists()


def test_no_support_for_an_unpublished_need(client, need, other_worker):
    client.force_login(other_worker.user)
    assert client.post(support_url(need)).status_code == 404
    assert not Support.objects.exists()


def test_support_needs_a_login(client, published):
    response = client.post(support_url(published))
    assert response.status_code == 302
    assert reverse("members:login") in response["Location"]
    assert not Support.objects.exists()


def test_staff_without_a_worker_profile_cannot_support(client, published, other_cadre):
    client.force_login(other_cadre)
    response = client.post(support_url(published), follow=True)
    assert "职工档案" in response.content.decode()
    assert not Support.objects.exists()


def test_support_returns_to_the_page_it_came_from_but_never_off_site(
    client, published, other_worker
):
    client.force_login(other_worker.user)
    back = f"{URL}?page=1"
    assert client.post(support_url(published), {"next": back})["Location"] == back
    Support.objects.all().delete()
    response = client.post(support_url(published), {"next": "https://evil.example/"})
    assert response["Location"] == URL


def test_filter_by_area_street_and_my_support(
    client, make_need, worker, zone_worker, other_worker, cadre, district_cadre, reference
):
    culture = ServiceArea.objects.get(code="culture")
    wages = publish(make_need(worker), cadre, title="东湖的欠薪")
    publish(make_need(zone_worker, area=culture), district_cadre, title="高新的书屋")
    services.need_support(need=wages, member=other_worker)
    client.force_login(other_worker.user)

    def titles(**params):
        return [n.public_title for n in client.get(URL, params).context["needs"]]

    assert titles(area=culture.pk) == ["高新的书屋"]
    assert titles(street=worker.workstation.street_id) == ["东湖的欠薪"]
    assert titles(mine="on") == ["东湖的欠薪"]
    assert sorted(titles()) == ["东湖的欠薪", "高新的书屋"]


def test_pagination(client, make_need, worker, cadre):
    for i in range(12):
        publish(make_need(worker, title=f"诉求{i}"), cadre, title=f"公开{i:02d}")
    first = client.get(URL)
    assert len(first.context["needs"]) == 10
    assert len(client.get(URL, {"page": 2}).context["needs"]) == 2


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_does_not_grow_with_the_list(
    client, make_need, worker, other_worker, cadre, django_assert_num_queries, count
):
    for i in range(count):
        publish(make_need(worker, title=f"诉求{i}"), cadre, title=f"公开{i:02d}")
    client.force_login(other_worker.user)
    # 1. the session  2. the user  3. the viewer's worker profile
    # 4. COUNT of published needs  5. the page, with area and street (JOINs)
    # 6. which needs on the page the viewer already supports
    # 7. service areas and 8. streets for the filter's selects
    # 9. the header's unread message count
    with django_assert_num_queries(9):
        response = client.get(URL)
    assert response.status_code == 200
