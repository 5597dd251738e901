"""Project services: approval rules, the score, acceptance by reviewers, needs following."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.needs.models import Need, ServiceArea
from apps.needs.workflow import Status as NeedStatus
from apps.notifications.models import Notification
from apps.projects import services
from apps.projects.models import Indicator, ServiceProject
from apps.projects.workflow import Status, TransitionNotAllowed
from apps.workstations.models import CadreAssignment
from apps.workstations.services import cadre_grant_access

TODAY = dt.date(2026, 11, 1)


@pytest.fixture
def two_needs(make_need, worker, other_worker):
    area = ServiceArea.objects.get(code="culture")
    return [
        make_need(worker, title="厂区附近没有职工书屋", area=area),
        make_need(other_worker, title="希望建一个职工书屋", area=area),
    ]


@pytest.fixture
def project(two_needs, street_cadre, street_a):
    return services.project_create_from_needs(
        needs=two_needs,
        by=street_cadre,
        title="东湖街道职工书屋",
        summary="在街道党群服务中心建设职工书屋",
        kind=ServiceProject.Kind.PRACTICAL,
        area=ServiceArea.objects.get(code="culture"),
        beneficiary=ServiceProject.Beneficiary.WORKERS,
        street=street_a,
        planned_start=TODAY,
        planned_end=TODAY + dt.timedelta(days=90),
        budget=Decimal("50000"),
    )


def ready(project):
    """Give the project a standard and two indicators (targets 100 人 ×2, 10 次 ×1)."""
    project.standard = "建成不少于 50 平方米的职工书屋，藏书 2000 册，每周开放 5 天"
    project.save(update_fields=["standard"])
    Indicator.objects.create(project=project, name="服务职工", target=100, unit="人", weight=2)
    Indicator.objects.create(project=project, name="读书活动", target=10, unit="次", weight=1)
    return project


@pytest.fixture
def running(project, street_cadre):
    ready(project)
    services.project_approve(project=project, by=street_cadre)
    services.project_start(project=project, by=street_cadre, on=TODAY)
    return project


def assess(project, by):
    first, second = project.indicators.order_by("order", "id")
    return services.project_assess(
        project=project,
        by=by,
        actuals={first.pk: "80", second.pk: "12"},
        result="书屋已建成开放，累计服务职工 80 人次，开展读书活动 12 次",
        spent=Decimal("48000"),
        finished_on=TODAY + dt.timedelta(days=60),
    )


def test_create_from_needs_links_them_and_moves_them_along(project, two_needs, worker):
    assert project.status == Status.PROPOSED
    assert project.number.startswith("XM")
    for need in two_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.IN_PROGRESS
        assert need.project_link.project == project
    assert Notification.objects.filter(
        user=worker.user, title__startswith="诉求已纳入服务项目"
    ).exists()


def test_needs_outside_jurisdiction_are_refused(make_need, zone_worker, cadre, street_a):
    foreign = make_need(zone_worker)
    with pytest.raises(PermissionDenied):
        services.project_create_from_needs(
            needs=[foreign],
            by=cadre,
            title="x",
            summary="y",
            kind="good_deed",
            area=foreign.area,
            beneficiary="workers",
            street=street_a,
            planned_start=TODAY,
            planned_end=TODAY,
        )
    assert not ServiceProject.objects.exists()


def test_a_need_belongs_to_one_project(project, two_needs, street_cadre):
    with pytest.raises(ValidationError):
        services.project_link_needs(project=project, needs=[two_needs[0]], by=street_cadre)


def test_dates_out_of_order_are_refused(two_needs, street_cadre, street_a):
    with pytest.raises(ValidationError):
        services.project_create_from_needs(
            needs=two_needs,
            by=street_cadre,
            title="x",
            summary="y",
            kind="good_deed",
            area=two_needs[0].area,
            beneficiary="workers",
            street=street_a,
            planned_start=TODAY,
            planned_end=TODAY - dt.timedelta(days=1),
        )
    assert not ServiceProject.objects.exists()
    two_needs[0].refresh_from_db()
    assert two_needs[0].status == NeedStatus.SUBMITTED


def test_approval_needs_a_standard_and_an_indicator(project, street_cadre):
    with pytest.raises(ValidationError) as refused:
        services.project_approve(project=project, by=street_cadre)
    assert "项目标准" in str(refused.value) and "考核指标" in str(refused.value)
    project.refresh_from_db()
    assert project.status == Status.PROPOSED


def test_workstation_cadre_cannot_approve(project, make_staff, ws_a1, street_cadre):
    ready(project)
    # A workstation cadre of the project's own workstation is still not the level above.
    project.workstation = ws_a1
    project.save(update_fields=["workstation"])
    station = make_staff("ws_head", "钱站长", workstation=ws_a1)
    with pytest.raises(PermissionDenied):
        services.project_approve(project=project, by=station)
    services.project_approve(project=project, by=street_cadre)


def test_assessment_score_is_computed_from_targets_actuals_and_weights(running, street_cadre):
    assess(running, street_cadre)
    running.refresh_from_db()
    # (2 × 80/100 + 1 × min(12/10, 1)) / 3 × 100 = 86.7
    assert running.assessment_score == Decimal("86.7")
    assert running.status == Status.ASSESSED


def test_assessment_refuses_missing_or_negative_actuals(running, street_cadre):
    first, second = running.indicators.order_by("order", "id")
    for actuals in ({first.pk: "80"}, {first.pk: "-1", second.pk: "2"}, {first.pk: "abc"}):
        with pytest.raises(ValidationError):
            services.project_assess(
                project=running, by=street_cadre, actuals=actuals, result="成果"
            )
    running.refresh_from_db()
    assert running.status == Status.IN_PROGRESS
    assert running.assessment_score is None


def test_overspending_needs_a_reason(running, street_cadre):
    first, second = running.indicators.order_by("order", "id")
    with pytest.raises(ValidationError):
        services.project_assess(
            project=running,
            by=street_cadre,
            actuals={first.pk: 1, second.pk: 1},
            result="成果",
            spent=Decimal("60000"),
        )
    services.project_assess(
        project=running,
        by=street_cadre,
        actuals={first.pk: 1, second.pk: 1},
        result="成果",
        spent=Decimal("60000"),
        overspend_reason="书架涨价，经街道工会同意追加",
    )


def test_progress_reaches_linked_workers(running, street_cadre, worker, other_worker):
    services.project_post_progress(project=running, by=street_cadre, text="场地已落实", percent=30)
    for member in (worker, other_worker):
        assert Notification.objects.filter(
            user=member.user, title__startswith="服务项目进展 30%"
        ).exists()
    with pytest.raises(ValidationError):
        services.project_post_progress(project=running, by=street_cadre, text="倒退", percent=10)


def test_only_a_reviewer_of_the_district_accepts(running, street_cadre, district_cadre, reviewer):
    assess(running, street_cadre)
    with pytest.raises(PermissionDenied):
        services.project_review(
            project=running, reviewer=district_cadre, verdict="pass", score=90, comments="好"
        )
    services.project_review(
        project=running, reviewer=reviewer, verdict="pass", score=90, comments="书屋使用率高"
    )
    running.refresh_from_db()
    assert running.status == Status.ACCEPTED
    assert running.acceptance_score == Decimal("90.0")


def test_lead_never_accepts_own_project(running, street_cadre, reviewer):
    running.lead = reviewer
    running.save(update_fields=["lead"])
    assess(running, street_cadre)
    with pytest.raises(PermissionDenied):
        services.project_review(
            project=running, reviewer=reviewer, verdict="pass", score=99, comments="自评"
        )


def test_acceptance_resolves_linked_needs_and_asks_workers_to_rate(
    running, street_cadre, reviewer, two_needs, worker
):
    assess(running, street_cadre)
    services.project_review(
        project=running, reviewer=reviewer, verdict="pass", score=88, comments="达标"
    )
    for need in two_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.RESOLVED
        assert "书屋已建成开放" in need.resolution
    assert Notification.objects.filter(user=worker.user, title__contains="请您评价").exists()


def test_a_panel_combines_scores_and_failure_returns_needs(
    running, street_cadre, reviewer, district, two_needs, django_user_model
):
    running.panel_size = 2
    running.save(update_fields=["panel_size"])
    second = django_user_model.objects.create_user(username="reviewer2", name="郑考核")
    CadreAssignment.objects.create(user=second, role="reviewer", district=district, title="考核")
    cadre_grant_access(second)
    assess(running, street_cadre)
    services.project_review(
        project=running, reviewer=reviewer, verdict="pass", score=70, comments="基本达标"
    )
    running.refresh_from_db()
    assert running.status == Status.ASSESSED  # the panel is not complete yet
    with pytest.raises(ValidationError):
        services.project_review(
            project=running, reviewer=reviewer, verdict="pass", score=70, comments="再来一次"
        )
    services.project_review(
        project=running, reviewer=second, verdict="fail", score=40, comments="台账不全"
    )
    running.refresh_from_db()
    # One pass, one fail, mean 55: not accepted.
    assert running.status == Status.FAILED
    assert running.acceptance_score == Decimal("55.0")
    for need in two_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.IN_PROGRESS
        assert need.resolve_due is not None
    assert (
        Notification.objects.filter(user=street_cadre, title__contains="验收未通过").exists()
        or Notification.objects.filter(title__contains="验收未通过").exists()
    )


def test_reward_only_after_acceptance_and_by_the_district(
    running, street_cadre, district_cadre, reviewer, ws_a1
):
    with pytest.raises(TransitionNotAllowed):
        services.project_reward(
            project=running, by=district_cadre, kind="commendation", reason="x", workstation=ws_a1
        )
    assess(running, street_cadre)
    services.project_review(
        project=running, reviewer=reviewer, verdict="pass", score=95, comments="优秀"
    )
    with pytest.raises(PermissionDenied):
        services.project_reward(
            project=running, by=street_cadre, kind="commendation", reason="x", workstation=ws_a1
        )
    with pytest.raises(ValidationError):
        services.project_reward(
            project=running, by=district_cadre, kind="award", reason="奖励", workstation=ws_a1
        )  # an award needs an amount
    services.project_reward(
        project=running,
        by=district_cadre,
        kind="award",
        amount=Decimal("2000"),
        reason="书屋建设成效显著",
        workstation=ws_a1,
    )
    running.refresh_from_db()
    assert running.status == Status.REWARDED


def test_cancel_returns_needs(project, street_cadre, two_needs):
    with pytest.raises(ValidationError):
        services.project_cancel(project=project, by=street_cadre, reason="")
    services.project_cancel(project=project, by=street_cadre, reason="与区级项目重复")
    project.refresh_from_db()
    assert project.status == Status.CANCELLED
    for need in two_needs:
        need.refresh_from_db()
        assert need.status == NeedStatus.IN_PROGRESS


def test_workstation_cadre_does_not_see_street_projects(project, cadre, street_cadre):
    assert not ServiceProject.objects.within_jurisdiction_of(cadre).exists()
    assert ServiceProject.objects.within_jurisdiction_of(street_cadre).count() == 1
    assert Need.objects.count() == 2


def test_needs_of_a_cancelled_project_may_join_another(project, street_cadre, two_needs, street_a):
    services.project_cancel(project=project, by=street_cadre, reason="与区级项目重复")
    second = services.project_create_from_needs(
        needs=two_needs,
        by=street_cadre,
        title="东湖街道职工书屋（二期）",
        summary="重新立项",
        kind=ServiceProject.Kind.PRACTICAL,
        area=two_needs[0].area,
        beneficiary=ServiceProject.Beneficiary.WORKERS,
        street=street_a,
        planned_start=TODAY,
        planned_end=TODAY,
    )
    for need in two_needs:
        need.refresh_from_db()
        assert need.project_link.project == second
