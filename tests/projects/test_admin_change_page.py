"""A project's change page: scoping, the plan edited only before work starts, bad input,
the demand behind it and the read-only record."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse

from apps.members import services as member_services
from apps.needs import services as need_services
from apps.projects.models import Indicator, ProjectEvent, ServiceProject
from apps.projects.workflow import Status
from tests.conftest import PASSWORD


def change_url(project):
    return reverse("admin:projects_serviceproject_change", args=[project.pk])


def form_data(project, indicators=(), **overrides):
    """The change form as the browser posts it: the plan and the indicator rows."""
    data = {
        "title": project.title,
        "summary": project.summary,
        "standard": project.standard,
        "planned_start": project.planned_start.isoformat(),
        "planned_end": project.planned_end.isoformat(),
        "budget": str(project.budget),
        "lead": project.lead_id,
        "panel_size": project.panel_size,
        "indicators-TOTAL_FORMS": len(indicators),
        "indicators-INITIAL_FORMS": 0,
        "indicators-MIN_NUM_FORMS": 0,
        "indicators-MAX_NUM_FORMS": 1000,
        # The record's read-only inline still posts its management form.
        "events-TOTAL_FORMS": project.events.count(),
        "events-INITIAL_FORMS": project.events.count(),
        "_continue": "1",
    }
    for i, row in enumerate(indicators):
        for key, value in row.items():
            data[f"indicators-{i}-{key}"] = value
    data.update(overrides)
    return data


def indicator(name="服务职工", target="100", unit="人", weight="2", order="0"):
    return {"name": name, "target": target, "unit": unit, "weight": weight, "order": order}


@pytest.fixture
def proposal(make_project, make_need, worker, cadre):
    return make_project(needs=[make_need(worker)], by=cadre)


@pytest.fixture
def elsewhere(make_project, make_need, other_worker, other_cadre):
    """A project of ws_a2, outside the cadre's jurisdiction."""
    return make_project(needs=[make_need(other_worker)], by=other_cadre)


# --- scoping ----------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["change", "history"])
def test_another_jurisdictions_project_is_404(client, cadre, elsewhere, view):
    client.force_login(cadre)
    url = reverse(f"admin:projects_serviceproject_{view}", args=[elsewhere.pk])
    assert client.get(url).status_code == 404


def test_a_street_run_project_is_404_for_a_workstation_cadre(
    client, cadre, street_cadre, street_a, make_project, make_need, worker
):
    project = make_project(needs=[make_need(worker)], by=street_cadre, street=street_a)
    client.force_login(cadre)
    assert client.get(change_url(project)).status_code == 404
    client.force_login(street_cadre)
    assert client.get(change_url(project)).status_code == 200


@pytest.mark.parametrize(
    ("action", "data"),
    [("approve", {}), ("cancel", {"reason": "不做了"}), ("link", {"numbers": "XQ1"})],
)
def test_acting_on_another_jurisdictions_project_is_404(
    client, street_cadre, make_project, make_need, zone_worker, district_cadre, action, data
):
    project = make_project(needs=[make_need(zone_worker)], by=district_cadre)
    client.force_login(street_cadre)  # street A; the project is at ws_b1
    response = client.post(
        change_url(project),
        {"_project_action": action, "expected_status": project.status, **data},
    )
    assert response.status_code == 404
    project.refresh_from_db()
    assert project.status == Status.PROPOSED
    assert project.events.count() == 1


def test_editing_another_jurisdictions_project_is_404(client, cadre, elsewhere):
    client.force_login(cadre)
    response = client.post(change_url(elsewhere), form_data(elsewhere, title="改掉"))
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.title == "职工法律讲堂"


# --- editing the plan -------------------------------------------------------------------


def test_a_proposal_plan_and_indicators_are_edited_on_the_page(client, cadre, proposal):
    client.force_login(cadre)
    response = client.post(
        change_url(proposal),
        form_data(
            proposal,
            [indicator(), indicator("法律讲座", "10", "次", "1", "1")],
            title="职工法律讲堂（第二期）",
            standard="每月一次讲座",
            budget="12000",
        ),
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.title == "职工法律讲堂（第二期）"
    assert proposal.standard == "每月一次讲座"
    assert proposal.budget == Decimal("12000")
    assert proposal.status == Status.PROPOSED
    assert list(proposal.indicators.values_list("name", "target", "weight")) == [
        ("服务职工", Decimal("100"), Decimal("2")),
        ("法律讲座", Decimal("10"), Decimal("1")),
    ]


def test_status_and_scores_are_never_editable(client, cadre, proposal):
    client.force_login(cadre)
    client.post(
        change_url(proposal),
        form_data(proposal, status="accepted", assessment_score="100", number="XM1", spent="9"),
    )
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED
    assert proposal.assessment_score is None
    assert proposal.spent == 0
    assert proposal.number.startswith("XM2")


def test_the_lead_must_cover_the_project(client, cadre, other_cadre, proposal):
    client.force_login(cadre)
    response = client.post(change_url(proposal), form_data(proposal, lead=other_cadre.pk))
    assert response.status_code == 200
    assert "lead" in response.context["adminform"].form.errors
    proposal.refresh_from_db()
    assert proposal.lead == cadre


def test_once_started_the_plan_is_read_only(client, cadre, make_project, make_need, worker):
    project = make_project(needs=[make_need(worker)], by=cadre, status=Status.IN_PROGRESS)
    client.force_login(cadre)
    page = client.get(change_url(project))
    body = page.content.decode()
    assert 'name="title"' not in body and 'name="_save"' not in body
    assert 'name="indicators-0-target"' not in body
    data = form_data(project, [indicator("新指标", "1", "人", "1")], title="改掉", budget="1")
    for inline in page.context["inline_admin_formsets"]:  # what the browser would post
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS"):
            data.setdefault(f"{management.prefix}-{name}", management[name].value())
    response = client.post(change_url(project), data)
    assert response.status_code == 302  # nothing to save: the page is a record now
    project.refresh_from_db()
    assert project.title == "职工法律讲堂"
    assert project.budget == Decimal("10000")
    assert project.indicators.count() == 2


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (indicator(target="很多"), "目标值须是数字。"),
        (indicator(target="-5"), "目标值须大于 0。"),
        (indicator(target="0"), "目标值须大于 0。"),
        (indicator(weight="0"), "权重须大于 0。"),
        (indicator(weight="-1"), "权重须大于 0。"),
        (indicator(weight="重"), "权重须是数字。"),
    ],
)
def test_bad_indicators_are_refused_and_nothing_is_saved(client, cadre, proposal, row, message):
    client.force_login(cadre)
    response = client.post(change_url(proposal), form_data(proposal, [row], title="新名称"))
    assert response.status_code == 200
    assert message in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.title == "职工法律讲堂"
    assert not Indicator.objects.exists()


def test_weights_summing_to_zero_are_impossible(client, cadre, proposal):
    client.force_login(cadre)
    rows = [indicator(weight="0"), indicator("法律讲座", "10", "次", "0", "1")]
    response = client.post(change_url(proposal), form_data(proposal, rows))
    assert response.status_code == 200
    assert "权重须大于 0。" in response.content.decode()
    assert not Indicator.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"planned_end": "2020-01-01"}, "planned_end", "计划完成日期不能早于计划开始日期。"),
        ({"budget": "-1"}, "budget", None),
        ({"budget": "一万"}, "budget", "请填写金额（数字，单位：元）。"),
        ({"planned_start": "明天"}, "planned_start", None),
        ({"panel_size": "9"}, "panel_size", None),
        ({"title": ""}, "title", None),
    ],
)
def test_bad_plan_input_is_refused_and_nothing_is_saved(
    client, cadre, proposal, overrides, field, message
):
    client.force_login(cadre)
    response = client.post(change_url(proposal), form_data(proposal, summary="新简介", **overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors
    if message:
        assert errors[field] == [message]
    proposal.refresh_from_db()
    assert proposal.summary == "为辖区职工开设劳动法律讲座"


# --- the demand behind it ---------------------------------------------------------------


def test_demand_panel_shows_needs_workers_and_ownership_without_identifying_anyone(
    client, street_cadre, street_a, make_project, make_need, worker, other_worker, unit_a1
):
    """Alice (state-owned unit) raised one need, Bob (private) a confidential one,
    and Dave (state-owned) supports Alice's: 3 workers — 国有企业 2, 私营企业 1."""
    dave = member_services.member_register(
        username="dave", name="刘洋", mobile="13800000004", password=PASSWORD, unit=unit_a1
    )
    open_need = make_need(worker, title="想学劳动合同法")
    need_services.need_publish(need=open_need, by=street_cadre, public_title="劳动合同法讲座")
    need_services.need_support(need=open_need, member=dave)
    secret = make_need(other_worker, title="东湖纺织欠薪三个月", confidential=True)
    project = make_project(needs=[open_need, secret], by=street_cadre, street=street_a)
    client.force_login(street_cadre)
    response = client.get(change_url(project))
    demand = response.context["demand"]
    assert demand["workers"] == 3
    assert demand["supports"] == 1
    assert demand["ownership"] == [("国有企业", 2), ("私营企业", 1)]
    body = response.content.decode()
    assert "张*" in body and "张丽" not in body  # masked
    assert "想学劳动合同法" in body
    # The confidential need: its number and status, but neither its worker nor its title.
    assert secret.number in body
    assert "东湖纺织欠薪三个月" not in body and "王强" not in body and "王*" not in body
    assert "13800000002" not in body


# --- the record -------------------------------------------------------------------------


def test_events_are_read_only_and_have_no_admin_of_their_own(
    client, cadre, make_project, make_need, worker
):
    project = make_project(needs=[make_need(worker)], by=cadre, status=Status.IN_PROGRESS)
    client.force_login(cadre)
    response = client.get(change_url(project))
    body = response.content.decode()
    assert "项目记录（记录不可修改或删除）" in body
    assert "批准立项" in body and "开始实施" in body
    assert 'name="events-0-note"' not in body and "events-0-DELETE" not in body
    inline = next(
        f for f in response.context["inline_admin_formsets"] if f.opts.model is ProjectEvent
    )
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission
    with pytest.raises(NoReverseMatch):
        reverse("admin:projects_projectevent_changelist")


def test_every_state_renders(client, district_cadre, make_project, make_need, worker, cadre):
    """The page of a project in each state, for the district cadre (who sees every action)."""
    for status in Status.values:
        project = make_project(needs=[make_need(worker, title=status)], by=cadre, status=status)
        assert project.status == status
        client.force_login(district_cadre)
        response = client.get(change_url(project))
        assert response.status_code == 200, status
        assert project.get_status_display() in response.content.decode()


def test_assessed_project_shows_the_score_and_the_formula(
    client, cadre, make_project, make_need, worker
):
    project = make_project(needs=[make_need(worker)], by=cadre, status=Status.ASSESSED)
    client.force_login(cadre)
    body = client.get(change_url(project)).content.decode()
    assert "86.7" in body
    assert "Σ(权重 × min(实际值 ÷ 目标值, 1)) ÷ Σ权重 × 100" in body
    assert "80%" in body and "100%" in body  # each indicator's achievement, capped
    assert "考核得分 = 2.60 ÷ 3 × 100" in body  # (2 × 0.8 + 1 × 1) ÷ (2 + 1) × 100


def test_planned_dates_default_in_the_past_are_fine(client, cadre, proposal):
    client.force_login(cadre)
    start = dt.date(2020, 1, 1)
    response = client.post(
        change_url(proposal),
        form_data(proposal, planned_start=start.isoformat(), planned_end="2020-02-01"),
    )
    assert response.status_code == 302
    assert ServiceProject.objects.get().planned_start == start


def test_an_approved_project_keeps_its_standard_and_an_indicator(
    client, cadre, make_project, make_need, worker
):
    project = make_project(needs=[make_need(worker)], by=cadre, status=Status.APPROVED)
    client.force_login(cadre)
    response = client.post(change_url(project), form_data(project, standard=""))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["standard"] == [
        "已立项的项目须有项目标准，项目按标准验收。"
    ]
    data = form_data(project)
    data.update({"updates-TOTAL_FORMS": 0, "updates-INITIAL_FORMS": 0})
    data.update({"indicators-TOTAL_FORMS": 2, "indicators-INITIAL_FORMS": 2})
    for i, ind in enumerate(project.indicators.order_by("order", "id")):
        row = indicator(ind.name, str(ind.target), ind.unit, str(ind.weight), str(ind.order))
        data.update({f"indicators-{i}-{k}": v for k, v in row.items()})
        data.update({f"indicators-{i}-id": ind.pk, f"indicators-{i}-project": project.pk})
        data[f"indicators-{i}-DELETE"] = "on"
    response = client.post(change_url(project), data)
    assert response.status_code == 200
    assert "已立项的项目至少保留一项考核指标" in response.content.decode()
    assert project.indicators.count() == 2
