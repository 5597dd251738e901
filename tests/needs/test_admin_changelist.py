"""The cadres' needs queue in the admin: scoped, masked, prioritised, a fixed number of queries."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.needs import services
from apps.needs.models import Need

CHANGELIST = reverse("admin:needs_need_changelist")


def rows(response):
    return [need.number for need in response.context["cl"].result_list]


@pytest.fixture
def three_workstations(make_need, worker, other_worker, zone_worker):
    """One need at each workstation: ws_a1 (alice), ws_a2 (bob), ws_b1 (carol)."""
    return (
        make_need(worker, title="食堂饭菜涨价"),
        make_need(other_worker, title="纺织车间高温"),
        make_need(zone_worker, title="园区通勤班车"),
    )


def test_cadre_sees_only_their_workstations_needs(client, cadre, three_workstations):
    own, other, zone = three_workstations
    client.force_login(cadre)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert rows(response) == [own.number]
    body = response.content.decode()
    assert "食堂饭菜涨价" in body
    assert "纺织车间高温" not in body and "王强" not in body
    assert "园区通勤班车" not in body and "陈静" not in body


def test_street_and_district_cadres_see_what_is_below_them(
    client, street_cadre, district_cadre, three_workstations
):
    own, other, zone = three_workstations
    client.force_login(street_cadre)
    assert set(rows(client.get(CHANGELIST))) == {own.number, other.number}
    client.force_login(district_cadre)
    assert set(rows(client.get(CHANGELIST))) == {own.number, other.number, zone.number}


def test_search_does_not_leak_other_workstations(client, cadre, three_workstations):
    client.force_login(cadre)
    for term in ("纺织车间", three_workstations[1].number, "王强"):
        response = client.get(CHANGELIST, {"q": term})
        assert rows(response) == []
        assert "纺织车间高温" not in response.content.decode()


def test_search_finds_by_number_title_and_description(client, cadre, make_need, worker):
    need = make_need(worker, title="劳动合同没签", description="入职半年单位一直不签合同")
    client.force_login(cadre)
    for term in (need.number, "合同没签", "一直不签"):
        assert rows(client.get(CHANGELIST, {"q": term})) == [need.number]


def filter_choices(response, title):
    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    return [label for _, label in specs[title].lookup_choices] if title in specs else []


def test_workstation_and_street_filters_offer_only_the_jurisdiction(
    client, cadre, street_cadre, district_cadre, three_workstations
):
    client.force_login(street_cadre)
    response = client.get(CHANGELIST)
    assert filter_choices(response, "承办工作站") == ["东湖第一网格工作站", "东湖第二网格工作站"]
    assert "高新园区网格工作站" not in response.content.decode()
    client.force_login(district_cadre)
    response = client.get(CHANGELIST)
    assert filter_choices(response, "街道（开发区）") == ["东湖街道", "高新开发区"]
    # A single choice is no choice: the workstation cadre's list shows neither filter.
    client.force_login(cadre)
    response = client.get(CHANGELIST)
    assert filter_choices(response, "承办工作站") == []
    body = response.content.decode()
    assert "东湖第二网格工作站" not in body and "高新开发区" not in body


def test_filtering_on_another_workstation_shows_none_of_its_needs(
    client, street_cadre, ws_b1, three_workstations
):
    client.force_login(street_cadre)
    response = client.get(CHANGELIST, {"workstation__id__exact": ws_b1.pk})
    assert three_workstations[2].number not in rows(response)
    assert "园区通勤班车" not in response.content.decode()


def test_list_masks_mobiles_and_confidential_names(client, cadre, make_need, worker, other_worker):
    from apps.members.services import member_change_unit

    member_change_unit(member=other_worker, unit=worker.unit, by=cadre)  # Bob now at ws_a1
    make_need(worker, title="普通诉求")
    make_need(other_worker, title="举报单位欠薪", confidential=True)
    client.force_login(cadre)
    body = client.get(CHANGELIST).content.decode()
    assert "138****0001" in body and "13800000001" not in body
    assert "138****0002" in body and "13800000002" not in body
    assert "张丽" in body
    assert "王强" not in body  # confidential: not even the name in a list
    assert "王*" in body and "保密" in body


def test_queue_opens_on_open_needs_and_a_search_looks_at_everything(
    client, cadre, make_need, worker
):
    waiting = make_need(worker, title="待受理的诉求")
    rejected = make_need(worker, title="已不予受理的诉求")
    services.need_reject(need=rejected, by=cadre, reason="不属于工会受理范围")
    client.force_login(cadre)
    assert rows(client.get(CHANGELIST)) == [waiting.number]
    assert set(rows(client.get(CHANGELIST, {"status": "all"}))) == {
        waiting.number,
        rejected.number,
    }
    assert rows(client.get(CHANGELIST, {"status": "rejected"})) == [rejected.number]
    assert rows(client.get(CHANGELIST, {"q": "不予受理的诉求"})) == [rejected.number]


def test_overdue_filter(client, cadre, make_need, worker):
    late = make_need(worker, title="超时的诉求")
    Need.objects.filter(pk=late.pk).update(accept_due=timezone.now() - timezone.timedelta(hours=1))
    on_time = make_need(worker, title="未超时的诉求")
    client.force_login(cadre)
    assert rows(client.get(CHANGELIST, {"overdue": "yes"})) == [late.number]
    assert rows(client.get(CHANGELIST, {"overdue": "no"})) == [on_time.number]
    assert "超时" in client.get(CHANGELIST).content.decode()


def test_field_filters_narrow_the_queue(client, cadre, make_need, worker, reference):
    from apps.needs.models import Channel

    confidential = make_need(worker, title="保密诉求", confidential=True)
    urgent = make_need(worker, title="紧急诉求", urgency=Need.Urgency.URGENT)
    consult = make_need(worker, title="咨询", kind=Need.Kind.CONSULTATION)
    offline = make_need(
        worker,
        title="热线诉求",
        channel=Channel.objects.get(code="hotline"),
        recorded_by=cadre,
    )
    client.force_login(cadre)
    assert rows(client.get(CHANGELIST, {"confidential__exact": "1"})) == [confidential.number]
    assert rows(client.get(CHANGELIST, {"urgency__exact": "urgent"})) == [urgent.number]
    assert rows(client.get(CHANGELIST, {"kind__exact": "consultation"})) == [consult.number]
    hotline = Channel.objects.get(code="hotline")
    assert rows(client.get(CHANGELIST, {"channel__id__exact": hotline.pk})) == [offline.number]


def test_default_order_is_priority_then_age(client, cadre, make_need, worker, other_worker):
    old = make_need(worker, title="最早的一般诉求")
    newer = make_need(worker, title="较新的一般诉求")
    shared = make_need(worker, title="多人支持的诉求")
    Need.objects.filter(pk=shared.pk).update(support_count=3)
    urgent = make_need(worker, title="紧急诉求", urgency=Need.Urgency.URGENT)
    client.force_login(cadre)
    assert rows(client.get(CHANGELIST)) == [
        urgent.number,
        shared.number,
        old.number,
        newer.number,
    ]


def test_all_statuses_list_open_needs_first(client, cadre, make_need, worker):
    done = make_need(worker, title="已办结的特殊诉求", urgency=Need.Urgency.SPECIAL)
    services.need_accept(need=done, by=cadre)
    services.need_resolve(need=done, by=cadre, resolution="已解决")
    waiting = make_need(worker, title="一般诉求")
    client.force_login(cadre)
    assert rows(client.get(CHANGELIST, {"status": "all"})) == [waiting.number, done.number]


def test_reviewer_has_no_needs_admin(client, reviewer, need):
    client.force_login(reviewer)
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("count", [3, 30])
def test_changelist_runs_a_fixed_number_of_queries(
    client, cadre, make_need, worker, count, django_assert_num_queries
):
    for i in range(count):
        make_need(worker, title=f"诉求 {i}", confidential=i % 2 == 0)
    client.force_login(cadre)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 the cadre's posts
    # (Jurisdiction), 6 service-area filter choices, 7 channel filter choices, 8 street
    # and 9 workstation filter choices (each limited to the jurisdiction by a subquery),
    # 10 COUNT of the filtered queue, 11 the page of needs with area, workstation and the
    # worker joined (list_select_related). No query per row.
    with django_assert_num_queries(11):
        response = client.get(CHANGELIST)
    assert len(rows(response)) == count
