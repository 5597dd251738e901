"""Every admin surface of members and units is limited to the cadre's jurisdiction."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.members.models import Member
from apps.workstations.models import Unit

MEMBER_LIST = reverse("admin:members_member_changelist")
UNIT_LIST = reverse("admin:workstations_unit_changelist")
AUTOCOMPLETE = reverse("admin:autocomplete")


@pytest.fixture
def everyone(worker, other_worker, zone_worker):
    return worker, other_worker, zone_worker


def test_member_changelist_shows_only_own_workstation(client, cadre, everyone):
    client.force_login(cadre)
    body = client.get(MEMBER_LIST).content.decode()
    assert "张丽" in body
    assert "王强" not in body
    assert "陈静" not in body


def test_member_changelist_masks_mobiles(client, cadre, worker):
    client.force_login(cadre)
    body = client.get(MEMBER_LIST).content.decode()
    assert "138****0001" in body
    assert worker.mobile not in body


def test_member_change_view_shows_mobile_to_acting_cadre(client, cadre, worker):
    client.force_login(cadre)
    url = reverse("admin:members_member_change", args=[worker.pk])
    body = client.get(url).content.decode()
    assert worker.mobile in body


def test_street_and_district_cadres_see_what_is_below_them(
    client, street_cadre, district_cadre, everyone
):
    client.force_login(street_cadre)
    body = client.get(MEMBER_LIST).content.decode()
    assert "张丽" in body and "王强" in body and "陈静" not in body
    client.force_login(district_cadre)
    body = client.get(MEMBER_LIST).content.decode()
    assert "张丽" in body and "王强" in body and "陈静" in body


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_direct_url_to_other_jurisdiction_is_404(client, cadre, other_worker, view):
    client.force_login(cadre)
    url = reverse(f"admin:members_member_{view}", args=[other_worker.pk])
    assert client.get(url).status_code == 404


def test_post_to_other_jurisdiction_changes_nothing(client, cadre, other_worker):
    client.force_login(cadre)
    url = reverse("admin:members_member_change", args=[other_worker.pk])
    response = client.post(url, {"mobile": "13999999999", "unit_name": "x"})
    assert response.status_code == 404
    other_worker.refresh_from_db()
    assert other_worker.mobile == "13800000002"


def test_unit_direct_url_to_other_jurisdiction_is_404(client, cadre, unit_a2):
    client.force_login(cadre)
    assert (
        client.get(reverse("admin:workstations_unit_change", args=[unit_a2.pk])).status_code == 404
    )
    assert (
        client.get(reverse("admin:workstations_unit_delete", args=[unit_a2.pk])).status_code == 404
    )


def test_unit_changelist_and_filter_choices_are_scoped(client, cadre, unit_a1, unit_a2, unit_b1):
    client.force_login(cadre)
    body = client.get(UNIT_LIST).content.decode()
    assert unit_a1.name in body
    assert unit_a2.name not in body
    # Filter sidebar offers only workstations the cadre can see.
    assert "东湖第一网格工作站" in body
    assert "东湖第二网格工作站" not in body
    assert "高新园区网格工作站" not in body


def test_unit_cannot_be_moved_to_another_jurisdiction(client, cadre, unit_a1, ws_a2, ownerships):
    client.force_login(cadre)
    url = reverse("admin:workstations_unit_change", args=[unit_a1.pk])
    response = client.post(
        url,
        {
            "name": unit_a1.name,
            "credit_code": "",
            "ownership": ownerships["state"].pk,
            "industry": "制造业",
            "headcount": 10,
            "union_name": "",
            "workstation": ws_a2.pk,
            "address": "",
        },
    )
    assert response.status_code == 200  # re-rendered with an error
    unit_a1.refresh_from_db()
    assert unit_a1.workstation.code == "W-A1"


def test_autocomplete_is_scoped(client, cadre, unit_a1, unit_a2):
    client.force_login(cadre)
    response = client.get(
        AUTOCOMPLETE,
        {"app_label": "members", "model_name": "member", "field_name": "unit", "term": "东湖"},
    )
    assert response.status_code == 200
    names = [row["text"] for row in response.json()["results"]]
    assert names == [unit_a1.name]
    response = client.get(
        AUTOCOMPLETE,
        {
            "app_label": "workstations",
            "model_name": "unit",
            "field_name": "workstation",
            "term": "",
        },
    )
    assert [row["text"] for row in response.json()["results"]] == ["东湖第一网格工作站"]


def test_search_does_not_reach_outside_jurisdiction(client, cadre, other_worker):
    client.force_login(cadre)
    body = client.get(MEMBER_LIST, {"q": other_worker.mobile}).content.decode()
    assert "王强" not in body
    assert "0 条结果" in body or "0 个" in body or "0 " in body


def test_cadre_adds_a_worker_met_offline(client, cadre, unit_a1):
    client.force_login(cadre)
    response = client.post(
        reverse("admin:members_member_add"),
        {
            "name": "吴敏",
            "mobile": "13711112222",
            "unit": unit_a1.pk,
            "unit_name": "",
            "workstation": "",
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(mobile="13711112222")
    assert member.user.name == "吴敏"
    assert member.workstation == unit_a1.workstation
    assert not member.user.has_usable_password()


def test_cadre_moves_a_worker_and_history_is_kept(client, street_cadre, worker, unit_a2):
    client.force_login(street_cadre)
    url = reverse("admin:members_member_change", args=[worker.pk])
    response = client.post(
        url,
        {
            "mobile": worker.mobile,
            "id_number": "",
            "unit": unit_a2.pk,
            "unit_name": worker.unit_name,
            "workstation": worker.workstation.pk,
            "employments-TOTAL_FORMS": 1,
            "employments-INITIAL_FORMS": 1,
            "applications-TOTAL_FORMS": 0,
            "applications-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    worker.refresh_from_db()
    assert worker.unit == unit_a2
    assert worker.workstation == unit_a2.workstation
    assert worker.employments.count() == 2


def test_workers_cannot_enter_the_admin(client, worker):
    client.force_login(worker.user)
    response = client.get(MEMBER_LIST)
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_reviewer_sees_no_personal_data_in_admin(client, reviewer, worker):
    client.force_login(reviewer)
    response = client.get(MEMBER_LIST)
    assert response.status_code == 302  # reviewers read reports, not the admin
    assert "张丽" not in response.content.decode()


def test_cadre_cannot_delete_members(client, cadre, worker):
    client.force_login(cadre)
    url = reverse("admin:members_member_delete", args=[worker.pk])
    assert client.get(url).status_code == 403
    assert Member.objects.filter(pk=worker.pk).exists()


def test_only_superuser_manages_posts(client, cadre, superuser):
    client.force_login(cadre)
    assert client.get(reverse("admin:workstations_cadreassignment_changelist")).status_code == 403
    client.force_login(superuser)
    assert client.get(reverse("admin:workstations_cadreassignment_changelist")).status_code == 200


def test_member_changelist_query_count_is_fixed(client, cadre, unit_a1, django_assert_num_queries):
    from apps.members import services

    for i in range(30):
        services.member_register_offline(name=f"职工{i}", mobile=f"1370000{i:04d}", unit=unit_a1)
    client.force_login(cadre)
    client.get(MEMBER_LIST)  # warm up the session and content types
    # session, user, user perms, group perms, posts, filter choices (street, workstation,
    # ownership), COUNT, page rows — none per row, and no scan for date bounds.
    with django_assert_num_queries(10):
        response = client.get(MEMBER_LIST)
    assert response.status_code == 200
    assert Unit.objects.count() == 1


def test_moving_a_unit_moves_its_workers(client, street_cadre, worker, unit_a1, ws_a2):
    client.force_login(street_cadre)
    url = reverse("admin:workstations_unit_change", args=[unit_a1.pk])
    response = client.post(
        url,
        {
            "name": unit_a1.name,
            "credit_code": "",
            "ownership": unit_a1.ownership_id,
            "industry": "制造业",
            "headcount": 10,
            "union_name": "",
            "workstation": ws_a2.pk,
            "address": "",
        },
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.workstation == ws_a2
    assert worker.employments.get().workstation == ws_a2


@pytest.mark.parametrize(
    "changelist", ["admin:needs_need_changelist", "admin:members_member_changelist"]
)
def test_street_and_workstation_filters_never_scan_the_listed_rows(
    client, district_cadre, cadre, everyone, changelist, ws_a1, ws_a2, ws_b1
):
    """Their choices come from the jurisdiction's streets and workstations, not a DISTINCT
    over every need or member in the district on each view."""
    client.force_login(district_cadre)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse(changelist)).content.decode()
    distinct = [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    assert distinct == []
    for ws in (ws_a1, ws_a2, ws_b1):
        assert f"workstation__id__exact={ws.pk}" in body
    # A workstation's cadre has one workstation to pick: the filter offers no other.
    client.force_login(cadre)
    body = client.get(reverse(changelist)).content.decode()
    assert f"workstation__id__exact={ws_a2.pk}" not in body
    assert f"workstation__id__exact={ws_b1.pk}" not in body
