"""/needs/<id>/: a worker whose need is handled by a service project follows the project there."""

import pytest
from django.urls import reverse

from apps.needs import services as need_services
from apps.projects import services
from apps.projects.workflow import Status


def need_page(need):
    return reverse("needs:need-detail", args=[need.pk])


def project_page(project):
    return reverse("projects:project-detail", args=[project.pk])


def test_need_page_shows_the_running_project_and_its_latest_progress(
    client, make_project, need, cadre, worker
):
    project = make_project(needs=[need], by=cadre, status=Status.IN_PROGRESS, title="职工法律讲堂")
    services.project_post_progress(project=project, by=cadre, text="第一场讲座已举办", percent=25)
    services.project_post_progress(project=project, by=cadre, text="已举办 3 场讲座", percent=45)
    client.force_login(worker.user)
    body = client.get(need_page(need)).content.decode()
    assert "本诉求由服务项目办理" in body
    assert "职工法律讲堂" in body and project.number in body
    assert "project-status-in_progress" in body
    assert 'aria-valuenow="45"' in body and "已举办 3 场讲座" in body
    assert "第一场讲座已举办" not in body  # only the latest
    assert project_page(project) in body


def test_a_proposed_project_is_named_but_not_linked(client, make_project, need, cadre, worker):
    project = make_project(needs=[need], by=cadre, title="待立项的项目")
    client.force_login(worker.user)
    body = client.get(need_page(need)).content.decode()
    assert "待立项的项目" in body and "正在申请立项" in body
    assert project_page(project) not in body


def test_a_cancelled_project_says_the_need_went_back(client, make_project, need, cadre, worker):
    project = make_project(needs=[need], by=cadre, status=Status.CANCELLED, title="撤销的项目")
    client.force_login(worker.user)
    body = client.get(need_page(need)).content.decode()
    assert "项目已撤销" in body
    assert project_page(project) not in body


def test_a_need_without_a_project_shows_none(client, need, worker):
    client.force_login(worker.user)
    assert "由服务项目办理" not in client.get(need_page(need)).content.decode()


def test_a_merged_duplicate_follows_the_project_of_the_need_it_joined(
    client, make_project, make_need, need, cadre, worker
):
    duplicate = make_need(worker, title="工资还是没发")
    need_services.need_merge(need=duplicate, into=need, by=cadre)
    project = make_project(needs=[need], by=cadre, status=Status.APPROVED, title="欠薪协调项目")
    client.force_login(worker.user)
    body = client.get(need_page(duplicate)).content.decode()
    assert "合并后的诉求由服务项目办理" in body
    assert project_page(project) in body


@pytest.mark.parametrize("who", ["cadre", "street_cadre"])
def test_cadres_looking_at_the_need_see_the_project_too(
    client, make_project, need, cadre, request, who
):
    project = make_project(needs=[need], by=cadre, status=Status.APPROVED, title="干部也能看到")
    client.force_login(request.getfixturevalue(who))
    body = client.get(need_page(need)).content.decode()
    assert "干部也能看到" in body and project_page(project) in body
