"""Projects built through the services, at any stage of their lifecycle.

    make_project(needs=[...], by=cadre)                    a proposal run by the needs' workstation
    make_project(needs=[...], by=street_cadre, street=s)   run by the street's union itself
    make_project(..., status=Status.ACCEPTED)              moved on through the services

Indicators are the hand-computable pair used across the tests: 服务职工 100 人 (weight 2)
and 读书活动 10 次 (weight 1); assessed with actuals 80 and 12 the score is
(2 × 0.8 + 1 × 1) ÷ 3 × 100 = 86.7.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.needs.models import ServiceArea
from apps.projects import services
from apps.projects.models import Indicator, Review, Reward, ServiceProject
from apps.projects.workflow import Status
from tests.needs.conftest import make_need, need  # noqa: F401  (shared need fixtures)

STANDARD = "每月开展一次职工法律讲座，覆盖辖区全部企业的职工"
INDICATORS = [("服务职工", 100, "人", 2), ("法律讲座", 10, "次", 1)]
ACTUALS = {"服务职工": "80", "法律讲座": "12"}
SCORE = Decimal("86.7")


def ready(project, *, standard=STANDARD, indicators=INDICATORS):
    """Write the standard and the indicators a proposal needs before approval."""
    project.standard = standard
    project.save(update_fields=["standard"])
    for order, (name, target, unit, weight) in enumerate(indicators):
        Indicator.objects.create(
            project=project, name=name, target=target, unit=unit, weight=weight, order=order
        )
    return project


def assess(project, by, *, spent=Decimal("8000")):
    return services.project_assess(
        project=project,
        by=by,
        actuals={i.pk: ACTUALS[i.name] for i in project.indicators.all()},
        result="讲座已办 12 场，服务职工 80 人",
        spent=spent,
        finished_on=timezone.localdate(),
    )


@pytest.fixture
def make_project(request, reference):
    """A project created from ``needs`` by ``by``, moved on through the services to ``status``.

    Approval is by the street cadre of street A, acceptance by the district's
    reviewer, the reward by the district cadre (fixtures created on demand).
    """

    def make(*, needs, by, status=Status.PROPOSED, street=None, **fields):
        # Run by the first need's workstation, or by ``street`` itself when given.
        workstation = None if street is not None else needs[0].workstation
        street = street or workstation.street
        first = needs[0]
        today = timezone.localdate()
        plan = {
            "title": "职工法律讲堂",
            "summary": "为辖区职工开设劳动法律讲座",
            "kind": ServiceProject.Kind.PRACTICAL,
            "area": first.area,
            "beneficiary": ServiceProject.Beneficiary.WORKERS,
            "planned_start": today,
            "planned_end": today + dt.timedelta(days=90),
            "budget": Decimal("10000"),
            **fields,
        }
        project = services.project_create_from_needs(
            needs=needs, by=by, street=street, workstation=workstation, **plan
        )
        if status == Status.PROPOSED:
            return project
        if status == Status.CANCELLED:
            return services.project_cancel(project=project, by=by, reason="情况变化")
        ready(project)
        if project.street == request.getfixturevalue("street_a"):
            approver = request.getfixturevalue("street_cadre")
        else:
            approver = request.getfixturevalue("district_cadre")
        services.project_approve(project=project, by=approver)
        if status == Status.APPROVED:
            return refreshed(project)
        services.project_start(project=project, by=by, on=today)
        if status == Status.IN_PROGRESS:
            return refreshed(project)
        assess(project, by)
        if status == Status.ASSESSED:
            return refreshed(project)
        reviewer = request.getfixturevalue("reviewer")
        passed = status != Status.FAILED
        services.project_review(
            project=project,
            reviewer=reviewer,
            verdict=Review.Verdict.PASS if passed else Review.Verdict.FAIL,
            score=Decimal("90") if passed else Decimal("40"),
            comments="资料齐全" if passed else "签到表不全",
        )
        if status in {Status.ACCEPTED, Status.FAILED}:
            return refreshed(project)
        services.project_reward(
            project=project,
            by=request.getfixturevalue("district_cadre"),
            kind=Reward.Kind.COMMENDATION,
            reason="服务职工成效明显",
            workstation=project.workstation,
            cadre=None if project.workstation else project.lead,
        )
        return refreshed(project)

    return make


def refreshed(project):
    project.refresh_from_db()
    return project


@pytest.fixture
def rights_area(reference):
    return ServiceArea.objects.get(code="rights")
