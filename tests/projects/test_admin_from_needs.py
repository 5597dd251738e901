"""The needs changelist's project actions: create a project from needs, add needs to one."""

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from apps.needs import services as need_services
from apps.needs.models import ServiceArea
from apps.needs.workflow import Status as NeedStatus
from apps.notifications.models import Notification
from apps.projects.models import ProjectNeed, ServiceProject
from apps.projects.workflow import Status

CHANGELIST = reverse("admin:needs_need_changelist")


def run(client, action, needs, **extra):
    """The first step: the action picked in the changelist (no confirmation yet)."""
    return client.post(
        CHANGELIST + "?status=all",
        {"action": action, ACTION_CHECKBOX_NAME: [n.pk for n in needs], "index": 0, **extra},
    )


def confirm(client, action, needs, **data):
    """The intermediate page's submit."""
    return client.post(
        CHANGELIST + "?status=all",
        {"action": action, ACTION_CHECKBOX_NAME: [n.pk for n in needs], "confirm": "yes", **data},
    )


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


def plan(ws, lead, **overrides):
    today = timezone.localdate()
    return {
        "title": "企业欠薪集中调处",
        "summary": "联合劳动监察，集中调处辖区企业拖欠工资问题",
        "kind": ServiceProject.Kind.HARD,
        "area": ServiceArea.objects.get(code="rights").pk,
        "beneficiary": ServiceProject.Beneficiary.WORKERS,
        "owner": f"w{ws.pk}",
        "lead": lead.pk,
        "planned_start": today.isoformat(),
        "planned_end": (today + dt.timedelta(days=60)).isoformat(),
        "budget": "3000",
        **overrides,
    }


@pytest.fixture
def wage_needs(make_need, worker):
    """Two open needs at the cadre's workstation (ws_a1), same area."""
    return [
        make_need(worker, title="公司拖欠三个月工资"),
        make_need(worker, title="工资被拖欠，车间停发"),
    ]


@pytest.fixture
def bobs_need(make_need, other_worker):
    return make_need(other_worker, title="纺织厂拖欠工资")


# --- create a project from needs --------------------------------------------------------


def test_create_action_shows_the_plan_with_the_needs_defaults(client, cadre, wage_needs, ws_a1):
    client.force_login(cadre)
    response = run(client, "create_project_from_needs", wage_needs)
    assert response.status_code == 200
    body = response.content.decode()
    assert "从所选诉求创建服务项目" in body
    for need in wage_needs:
        assert need.number in body
    form = response.context["form"]
    assert form.initial["area"] == ServiceArea.objects.get(code="rights").pk
    assert form.initial["owner"] == f"w{ws_a1.pk}"
    assert form.initial["lead"] == cadre.pk
    assert not ServiceProject.objects.exists()


def test_owner_choices_stay_inside_the_jurisdiction(
    client, cadre, street_cadre, wage_needs, ws_a1, ws_a2, ws_b1, street_a
):
    client.force_login(cadre)
    owners = run(client, "create_project_from_needs", wage_needs).context["form"]["owner"]
    values = {value for value, _ in owners.field.choices[1:][0][1]}
    # A workstation cadre runs projects of their workstation only (not the street's).
    assert values == {f"w{ws_a1.pk}"}
    client.force_login(street_cadre)
    owners = run(client, "create_project_from_needs", wage_needs).context["form"]["owner"]
    values = {value for _, group in owners.field.choices[1:] for value, _ in group}
    assert values == {f"s{street_a.pk}", f"w{ws_a1.pk}", f"w{ws_a2.pk}"}
    assert f"w{ws_b1.pk}" not in values


def test_confirm_creates_the_project_and_moves_the_needs(client, cadre, wage_needs, ws_a1, worker):
    client.force_login(cadre)
    response = confirm(client, "create_project_from_needs", wage_needs, **plan(ws_a1, cadre))
    project = ServiceProject.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:projects_serviceproject_change", args=[project.pk])
    assert project.status == Status.PROPOSED
    assert (project.workstation, project.street, project.lead) == (ws_a1, ws_a1.street, cadre)
    assert project.title == "企业欠薪集中调处"
    for need in wage_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.IN_PROGRESS
        assert need.project_link.project == project
    assert (
        Notification.objects.filter(
            user=worker.user, title__startswith="诉求已纳入服务项目"
        ).count()
        == 2
    )
    assert f"已创建服务项目 {project.number}" in messages_of(response)[0]


def test_needs_that_cannot_join_are_listed_and_left_out(
    client, cadre, wage_needs, make_need, worker
):
    done = make_need(worker, title="已办结的诉求")
    need_services.need_accept(need=done, by=cadre)
    need_services.need_resolve(need=done, by=cadre, resolution="已解决")
    client.force_login(cadre)
    response = run(client, "create_project_from_needs", [*wage_needs, done])
    assert [n.pk for n in response.context["needs"]] == [n.pk for n in wage_needs]
    assert [n.pk for n, _ in response.context["skipped"]] == [done.pk]
    assert "已办结待评价" in response.content.decode()


def test_out_of_jurisdiction_needs_are_refused(client, cadre, wage_needs, bobs_need, ws_a1):
    client.force_login(cadre)
    # A forged selection including another workstation's need: nothing at all happens.
    response = confirm(
        client, "create_project_from_needs", [*wage_needs, bobs_need], **plan(ws_a1, cadre)
    )
    assert response.status_code == 302
    assert "不在您管辖范围内" in messages_of(response)[0]
    assert not ServiceProject.objects.exists()
    for need in [*wage_needs, bobs_need]:
        need.refresh_from_db()
        assert need.status == NeedStatus.SUBMITTED


def test_an_owner_outside_the_jurisdiction_is_refused(client, cadre, wage_needs, ws_a2):
    client.force_login(cadre)
    response = confirm(client, "create_project_from_needs", wage_needs, **plan(ws_a2, cadre))
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert not ServiceProject.objects.exists()


def test_dates_out_of_order_keep_the_page_with_an_error(client, cadre, wage_needs, ws_a1):
    client.force_login(cadre)
    today = timezone.localdate()
    response = confirm(
        client,
        "create_project_from_needs",
        wage_needs,
        **plan(
            ws_a1,
            cadre,
            planned_start=today.isoformat(),
            planned_end=(today - dt.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["planned_end"] == ["计划完成日期不能早于计划开始日期。"]
    assert not ServiceProject.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("budget", "很多"), ("budget", "-5"), ("title", ""), ("kind", "huge")],
)
def test_bad_plan_input_is_an_error_on_the_page(client, cadre, wage_needs, ws_a1, field, value):
    client.force_login(cadre)
    data = plan(ws_a1, cadre, **{field: value})
    response = confirm(client, "create_project_from_needs", wage_needs, **data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ServiceProject.objects.exists()


def test_a_lead_who_does_not_cover_the_owner_is_an_error_on_the_page(
    client, street_cadre, other_cadre, wage_needs, ws_a1
):
    client.force_login(street_cadre)
    # other_cadre (ws_a2) is a cadre near the street, but does not cover ws_a1.
    response = confirm(client, "create_project_from_needs", wage_needs, **plan(ws_a1, other_cadre))
    assert response.status_code == 200
    assert "项目负责人必须是管辖该项目的工会干部" in response.content.decode()
    assert not ServiceProject.objects.exists()


def test_a_need_handled_meanwhile_refuses_the_whole_project(client, cadre, wage_needs, ws_a1):
    client.force_login(cadre)
    first, second = wage_needs
    need_services.need_reject(need=second, by=cadre, reason="重复反映")  # another cadre, meanwhile
    response = confirm(client, "create_project_from_needs", wage_needs, **plan(ws_a1, cadre))
    assert response.status_code == 302
    assert "以下诉求不能纳入项目" in messages_of(response)[0]
    assert not ServiceProject.objects.exists()
    first.refresh_from_db()
    assert first.status == NeedStatus.SUBMITTED


def test_street_cadre_groups_needs_of_two_workstations_under_the_street(
    client, street_cadre, wage_needs, bobs_need, street_a
):
    client.force_login(street_cadre)
    needs = [*wage_needs, bobs_need]
    response = run(client, "create_project_from_needs", needs)
    assert response.context["form"].initial["owner"] == f"s{street_a.pk}"
    confirm(
        client,
        "create_project_from_needs",
        needs,
        **plan(street_a, street_cadre, owner=f"s{street_a.pk}"),
    )
    project = ServiceProject.objects.get()
    assert project.workstation is None and project.street == street_a
    assert project.links.count() == 3


# --- add needs to a project ---------------------------------------------------------------


@pytest.fixture
def project(make_project, make_need, worker, cadre):
    return make_project(needs=[make_need(worker, title="职工想学劳动法")], by=cadre)


def test_link_action_offers_running_projects_of_the_jurisdiction(
    client, cadre, wage_needs, project, make_project, make_need, other_worker, other_cadre
):
    elsewhere = make_project(needs=[make_need(other_worker)], by=other_cadre)
    client.force_login(cadre)
    response = run(client, "link_to_project", wage_needs)
    assert response.status_code == 200
    assert [p.pk for p in response.context["projects"]] == [project.pk]
    assert elsewhere.number not in response.content.decode()


def test_confirm_adds_the_needs_to_the_project(client, cadre, wage_needs, project, worker):
    client.force_login(cadre)
    response = confirm(client, "link_to_project", wage_needs, project=project.pk)
    assert response.status_code == 302
    assert messages_of(response) == [
        f"已将 2 件诉求加入服务项目 {project.number}，职工已收到通知。"
    ]
    assert set(ProjectNeed.objects.filter(project=project).values_list("need", flat=True)) == {
        project.links.first().need_id,
        *[n.pk for n in wage_needs],
    }
    for need in wage_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.IN_PROGRESS
    assert project.events.filter(action="link").exists()


def test_another_jurisdictions_project_cannot_be_chosen(
    client, cadre, wage_needs, project, make_project, make_need, other_worker, other_cadre
):
    elsewhere = make_project(needs=[make_need(other_worker)], by=other_cadre)
    client.force_login(cadre)
    response = confirm(client, "link_to_project", wage_needs, project=elsewhere.pk)
    assert response.status_code == 200
    assert "该服务项目已不能加入诉求" in response.content.decode()
    assert elsewhere.links.count() == 1 and project.links.count() == 1
    for need in wage_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.SUBMITTED


def test_a_project_no_longer_running_is_refused(client, cadre, wage_needs, project):
    client.force_login(cadre)
    from apps.projects import services

    services.project_cancel(project=project, by=cadre, reason="并入街道项目")
    response = confirm(client, "link_to_project", wage_needs, project=project.pk)
    assert response.status_code == 302
    assert project.links.count() == 1
    assert any("没有可以加入诉求的服务项目" in m for m in messages_of(response))


def test_linked_needs_are_skipped_when_adding_to_another_project(
    client, cadre, project, make_project, make_need, worker
):
    second = make_project(needs=[make_need(worker, title="另一个")], by=cadre)
    already = project.links.get().need
    fresh = make_need(worker, title="新诉求")
    client.force_login(cadre)
    response = run(client, "link_to_project", [already, fresh])
    assert [n.pk for n in response.context["needs"]] == [fresh.pk]
    assert response.context["skipped"][0][1] == f"已属于服务项目 {project.number}"
    assert {p.pk for p in response.context["projects"]} == {project.pk, second.pk}
