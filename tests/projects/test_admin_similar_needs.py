"""The need's page: similar needs ranked with their score, merged or grouped in one step."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.members import services as member_services
from apps.needs import services as need_services
from apps.needs.models import ServiceArea
from apps.needs.workflow import Status as NeedStatus
from apps.projects.models import ServiceProject
from tests.conftest import PASSWORD

PARAPHRASE = {
    "title": "工资被拖欠三个月",
    "description": "八月以来车间工资一直没发，二十多人受影响。",
}


def change_url(need):
    return reverse("admin:needs_need_change", args=[need.pk])


def similar_rows(response):
    return [(row["need"].pk, row["score"]) for row in response.context["similar"]]


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


def act(client, need, operation, others, expected=None):
    data = {"_similar_action": operation, ACTION_CHECKBOX_NAME: [need.pk, *[o.pk for o in others]]}
    for other in others:
        data[f"expected_{other.pk}"] = (expected or {}).get(other.pk, other.status)
    return client.post(change_url(need), data)


@pytest.fixture
def colleague(unit_a1):
    """Another worker of the same employer (ws_a1)."""
    return member_services.member_register(
        username="dave", name="刘洋", mobile="13800000004", password=PASSWORD, unit=unit_a1
    )


@pytest.fixture
def needs(make_need, worker, colleague, other_worker, cadre):
    """Alice's wage claim and what the cadre of ws_a1 finds around it.

    The paraphrase scores 0.48 against it and the duplicate 1.00 (character bigrams,
    tests/needs/test_similarity.py); the others must not be offered.
    """
    wage = make_need(worker)  # 公司拖欠三个月工资 / 车间二十多名职工的工资从八月起一直没有发放。
    duplicate = make_need(colleague)
    paraphrase = make_need(colleague, **PARAPHRASE)
    unrelated = make_need(colleague, title="食堂饭菜涨价", description="食堂的饭菜最近涨价了很多。")
    other_area = make_need(colleague, area=ServiceArea.objects.get(code="culture"))
    elsewhere = make_need(other_worker)  # ws_a2: not the cadre's
    done = make_need(colleague)
    need_services.need_accept(need=done, by=cadre)
    need_services.need_resolve(need=done, by=cadre, resolution="已补发")
    return {
        "wage": wage,
        "duplicate": duplicate,
        "paraphrase": paraphrase,
        "unrelated": unrelated,
        "other_area": other_area,
        "elsewhere": elsewhere,
        "done": done,
    }


def test_similar_needs_are_ranked_with_their_score(client, cadre, needs):
    client.force_login(cadre)
    response = client.get(change_url(needs["wage"]))
    assert similar_rows(response) == [
        (needs["duplicate"].pk, "1.00"),
        (needs["paraphrase"].pk, "0.48"),
    ]
    body = response.content.decode()
    assert "相似诉求" in body and "0.48" in body
    # Same area, open, in the cadre's jurisdiction only; never itself.
    for key in ("unrelated", "other_area", "elsewhere", "done"):
        assert needs[key].pk not in [pk for pk, _ in similar_rows(response)]


def test_a_street_cadre_sees_similar_needs_across_the_street(client, street_cadre, needs):
    client.force_login(street_cadre)
    rows = dict(similar_rows(client.get(change_url(needs["wage"]))))
    assert rows[needs["elsewhere"].pk] == "1.00"


def test_merge_selected_similar_needs_in_one_step(client, cadre, needs, colleague):
    wage, duplicate, paraphrase = needs["wage"], needs["duplicate"], needs["paraphrase"]
    client.force_login(cadre)
    response = act(client, wage, "merge", [duplicate, paraphrase])
    assert response.status_code == 302
    assert messages_of(response) == [
        f"已将诉求 {duplicate.number}、{paraphrase.number} 合并到本诉求，相关职工已收到通知。"
    ]
    for other in (duplicate, paraphrase):
        other.refresh_from_db()
        assert other.status == NeedStatus.MERGED
        assert other.merged_into == wage
    wage.refresh_from_db()
    assert wage.status == NeedStatus.SUBMITTED
    assert wage.support_count == 1  # the colleague, once, supports the surviving need


def test_a_stale_need_stops_the_whole_merge(client, cadre, needs):
    wage, duplicate, paraphrase = needs["wage"], needs["duplicate"], needs["paraphrase"]
    need_services.need_accept(need=paraphrase, by=cadre)  # another cadre acted meanwhile
    client.force_login(cadre)
    response = act(
        client,
        wage,
        "merge",
        [duplicate, paraphrase],
        expected={paraphrase.pk: NeedStatus.SUBMITTED},
    )
    assert "刚刚已被他人处理" in messages_of(response)[0]
    duplicate.refresh_from_db()
    assert duplicate.status == NeedStatus.SUBMITTED  # all or nothing


def test_a_need_outside_the_jurisdiction_cannot_be_merged(client, cadre, needs):
    client.force_login(cadre)
    response = act(client, needs["wage"], "merge", [needs["duplicate"], needs["elsewhere"]])
    assert "不在您的管辖范围内" in messages_of(response)[0]
    for key in ("duplicate", "elsewhere"):
        needs[key].refresh_from_db()
        assert needs[key].status == NeedStatus.SUBMITTED


def test_merge_of_another_jurisdictions_need_page_is_404(client, cadre, needs):
    client.force_login(cadre)
    response = act(client, needs["elsewhere"], "merge", [needs["wage"]])
    assert response.status_code == 404
    needs["wage"].refresh_from_db()
    assert needs["wage"].status == NeedStatus.SUBMITTED


def test_group_into_a_new_project_opens_the_plan_with_them_preselected(client, cadre, needs):
    wage, duplicate = needs["wage"], needs["duplicate"]
    client.force_login(cadre)
    page = client.get(change_url(wage)).content.decode()
    assert 'value="create_project_from_needs"' in page
    # The panel's "create a project" button posts the ticked needs to the changelist action.
    response = client.post(
        reverse("admin:needs_need_changelist") + "?status=all",
        {"action": "create_project_from_needs", ACTION_CHECKBOX_NAME: [wage.pk, duplicate.pk]},
    )
    assert response.status_code == 200
    assert [n.pk for n in response.context["needs"]] == [wage.pk, duplicate.pk]
    assert "项目计划" in response.content.decode()


def test_add_similar_needs_to_this_needs_project(client, cadre, needs, make_project):
    wage, duplicate = needs["wage"], needs["duplicate"]
    project = make_project(needs=[wage], by=cadre)
    client.force_login(cadre)
    page = client.get(change_url(wage))
    body = page.content.decode()
    assert f"加入本诉求所属项目 {project.number}" in body
    assert 'value="create_project_from_needs"' not in body
    response = act(client, wage, "link", [duplicate])
    assert messages_of(response) == [
        f"已将诉求 {duplicate.number} 加入服务项目 {project.number}，职工已收到通知。"
    ]
    duplicate.refresh_from_db()
    assert duplicate.project_link.project == project
    assert duplicate.status == NeedStatus.IN_PROGRESS


def test_the_need_page_links_its_project(client, cadre, needs, make_project):
    project = make_project(needs=[needs["wage"]], by=cadre)
    client.force_login(cadre)
    body = client.get(change_url(needs["wage"])).content.decode()
    assert reverse("admin:projects_serviceproject_change", args=[project.pk]) in body
    assert project.number in body


def test_a_street_run_project_is_named_but_not_linked_for_a_workstation_cadre(
    client, cadre, street_cadre, street_a, needs, make_project
):
    project = make_project(needs=[needs["wage"]], by=street_cadre, street=street_a)
    assert project.workstation is None
    client.force_login(cadre)
    body = client.get(change_url(needs["wage"])).content.decode()
    assert project.number in body
    assert reverse("admin:projects_serviceproject_change", args=[project.pk]) not in body


def test_the_similar_panel_costs_the_same_queries_for_3_or_30_candidates(
    client, cadre, make_need, colleague
):
    wage = make_need(colleague)

    def add(start, stop):
        for i in range(start, stop):
            make_need(colleague, title=f"拖欠工资 {i}", description=f"第 {i} 车间的工资没有发放")

    def queries_of_the_page():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(change_url(wage))
        return len(queries), len(response.context["similar"])

    client.force_login(cadre)
    add(0, 3)
    client.get(change_url(wage))  # warm the session alike for both counts
    few, shown = queries_of_the_page()
    assert shown == 3
    add(3, 30)
    many, shown = queries_of_the_page()
    assert shown == 10  # SIMILAR_SHOWN
    assert many == few


def test_no_panel_once_the_need_is_closed(client, cadre, needs):
    client.force_login(cadre)
    response = client.get(change_url(needs["done"]))
    assert "show_similar_panel" not in response.context
    assert ServiceProject.objects.count() == 0


def test_a_similar_need_already_in_a_project_cannot_be_merged(client, cadre, needs, make_project):
    duplicate = needs["duplicate"]
    project = make_project(needs=[duplicate], by=cadre)
    client.force_login(cadre)
    body = client.get(change_url(needs["wage"])).content.decode()
    assert f"已属于服务项目 {project.number}" in body
    assert f'id="similar-{duplicate.pk}"' not in body  # nothing to tick
    duplicate.refresh_from_db()
    response = act(client, needs["wage"], "merge", [duplicate])  # a forged post
    assert "由项目统一办理，不能在此合并或分组" in messages_of(response)[0]
    duplicate.refresh_from_db()
    assert duplicate.status == NeedStatus.IN_PROGRESS
