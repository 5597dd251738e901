"""The cadres' project list in the admin: scoped, with the demand behind each project."""

import pytest
from django.urls import reverse

from apps.members import services as member_services
from apps.needs import services as need_services
from apps.projects.workflow import Status
from tests.conftest import PASSWORD

CHANGELIST = reverse("admin:projects_serviceproject_changelist")


def rows(response):
    return [project.number for project in response.context["cl"].result_list]


@pytest.fixture
def three_projects(make_project, make_need, worker, other_worker, zone_worker, cadre, other_cadre,
                   street_cadre, street_a, district_cadre):  # fmt: skip
    """One project at ws_a1, one at ws_a2, one run by street A itself, one at ws_b1."""
    return {
        "own": make_project(needs=[make_need(worker, title="职工书屋")], by=cadre),
        "other": make_project(needs=[make_need(other_worker, title="高温")], by=other_cadre),
        "street": make_project(
            needs=[make_need(worker, title="街道项目")], by=street_cadre, street=street_a
        ),
        "zone": make_project(needs=[make_need(zone_worker, title="园区")], by=district_cadre),
    }


def test_a_workstation_cadre_sees_only_their_workstations_projects(client, cadre, three_projects):
    client.force_login(cadre)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    # Street-run projects have no workstation: only the street and the district see them.
    assert rows(response) == [three_projects["own"].number]


def test_street_and_district_cadres_see_everything_below_them(
    client, street_cadre, district_cadre, three_projects
):
    client.force_login(street_cadre)
    assert set(rows(client.get(CHANGELIST))) == {
        three_projects[k].number for k in ("own", "other", "street")
    }
    client.force_login(district_cadre)
    assert set(rows(client.get(CHANGELIST))) == {p.number for p in three_projects.values()}


def test_search_does_not_leak_other_jurisdictions(client, cadre, three_projects):
    client.force_login(cadre)
    for term in (three_projects["other"].number, three_projects["street"].number):
        assert rows(client.get(CHANGELIST, {"q": term})) == []


def test_street_filter_offers_only_streets_with_projects_in_reach(
    client, street_cadre, district_cadre, three_projects
):
    client.force_login(district_cadre)
    response = client.get(CHANGELIST)
    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    assert [label for _, label in specs["街道（开发区）"].lookup_choices] == [
        "东湖街道",
        "高新开发区",
    ]
    # A single choice is no choice: the street cadre's list has no street filter.
    client.force_login(street_cadre)
    response = client.get(CHANGELIST)
    assert "街道（开发区）" not in {spec.title for spec in response.context["cl"].filter_specs}
    assert "高新开发区" not in response.content.decode()


def test_status_filter(client, district_cadre, make_project, make_need, worker, cadre):
    proposal = make_project(needs=[make_need(worker)], by=cadre)
    running = make_project(needs=[make_need(worker)], by=cadre, status=Status.IN_PROGRESS)
    client.force_login(district_cadre)
    assert rows(client.get(CHANGELIST, {"status__exact": Status.IN_PROGRESS})) == [running.number]
    assert rows(client.get(CHANGELIST, {"status__exact": Status.PROPOSED})) == [proposal.number]


def test_columns_show_the_demand_behind_each_project(
    client, cadre, make_project, make_need, worker, unit_a1
):
    """Two needs of Alice, one of Dave supported by Erin and by Alice: 3 workers, 3 needs."""
    dave = member_services.member_register(
        username="dave", name="刘洋", mobile="13800000004", password=PASSWORD, unit=unit_a1
    )
    erin = member_services.member_register(
        username="erin", name="何敏", mobile="13800000005", password=PASSWORD, unit=unit_a1
    )
    shared = make_need(dave, title="希望开设技能培训班")
    need_services.need_publish(need=shared, by=cadre, public_title="开设技能培训班")
    need_services.need_support(need=shared, member=erin)
    need_services.need_support(need=shared, member=worker)
    needs = [make_need(worker, title="一"), make_need(worker, title="二"), shared]
    project = make_project(needs=needs, by=cadre, budget="5000")
    client.force_login(cadre)
    response = client.get(CHANGELIST)
    row = response.context["cl"].result_list[0]
    assert row.pk == project.pk
    assert row.linked_needs == 3
    assert row.workers_behind == 3  # Alice, Dave, Erin — Alice counted once
    body = response.content.decode()
    assert "5,000" in body and "已支出 0" in body and "职工法律讲堂" in body


def test_cadres_cannot_add_or_delete_projects(client, cadre, three_projects):
    client.force_login(cadre)
    project = three_projects["own"]
    assert client.get(reverse("admin:projects_serviceproject_add")).status_code == 403
    assert (
        client.get(reverse("admin:projects_serviceproject_delete", args=[project.pk])).status_code
        == 403
    )
    assert (
        client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [project.pk], "index": 0},
        ).status_code
        == 200  # the action does not exist: the list comes back with a message
    )
    project.refresh_from_db()


@pytest.mark.parametrize("count", [3, 30])
def test_changelist_runs_a_fixed_number_of_queries(
    client, district_cadre, make_project, make_need, worker, other_worker, cadre, other_cadre,
    count, django_assert_num_queries,
):  # fmt: skip
    for i in range(count):
        owner, by = (worker, cadre) if i % 2 else (other_worker, other_cadre)
        make_project(needs=[make_need(owner, title=f"诉求 {i}")], by=by, title=f"项目 {i}")
    client.force_login(district_cadre)
    # 1 session, 2 user, 3 the cadre's posts (Jurisdiction), 4-5 the user's own and group
    # permissions, 6 service-area filter choices, 7 street filter choices (limited to the
    # jurisdiction by a subquery), 8 COUNT of the filtered list, 9 the page of projects
    # with area, street, workstation and lead joined and the linked needs counted by a
    # subquery, 10 the workers who raised and 11 those who supported the page's needs.
    with django_assert_num_queries(11):
        response = client.get(CHANGELIST)
    assert len(rows(response)) == count


def test_the_owner_level_filter_is_for_those_who_see_street_run_projects(
    client, cadre, street_cadre, three_projects
):
    def filters(user):
        client.force_login(user)
        return {spec.title for spec in client.get(CHANGELIST).context["cl"].filter_specs}

    assert "承办层级" not in filters(cadre)
    assert "承办层级" in filters(street_cadre)
    client.force_login(street_cadre)
    response = client.get(CHANGELIST, {"owner": "street"})
    assert rows(response) == [three_projects["street"].number]
