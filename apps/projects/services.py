"""Everything that changes a service project, each atomic, locked and recorded.

Cadres create and run projects within their jurisdiction; approval needs the
level above a workstation (a street or district cadre); acceptance is for
reviewers (考核人员) of the project's district — never the project's own lead.
Linked needs follow the project through ``apps.needs.services``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg
from django.urls import reverse
from django.utils import timezone

from apps.needs import services as need_services
from apps.needs.models import Need
from apps.needs.workflow import OPEN_STATUSES
from apps.needs.workflow import Status as NeedStatus
from apps.notifications.services import notify
from apps.workstations.jurisdiction import Jurisdiction

from .models import (
    PASS_SCORE,
    ProgressPhoto,
    ProgressUpdate,
    ProjectEvent,
    ProjectNeed,
    Review,
    Reward,
    ServiceProject,
    project_number,
)
from .workflow import Action, Status

# Projects whose needs went back to the cadres; those needs may join another project.
ENDED_WITHOUT_RESULT = frozenset({Status.FAILED, Status.CANCELLED})

# --- helpers --------------------------------------------------------------------------


def _locked(project: ServiceProject) -> ServiceProject:
    return (
        ServiceProject.objects.select_for_update(of=("self",))
        .select_related("street__district", "workstation")
        .get(pk=project.pk)
    )


def _covers(user, project: ServiceProject) -> bool:
    jurisdiction = Jurisdiction.for_user(user)
    if jurisdiction.everything:
        return True
    if project.workstation_id:
        return jurisdiction.covers_workstation(project.workstation)
    return (
        project.street_id in jurisdiction.street_ids
        or project.street.district_id in jurisdiction.district_ids
    )


def may_approve(user, project: ServiceProject) -> bool:
    """Approval (立项) is for the level above a workstation: street, district or superuser."""
    scope = Jurisdiction.for_user(user)
    return (
        scope.everything
        or project.street_id in scope.street_ids
        or project.street.district_id in scope.district_ids
    )


def may_reward(user, project: ServiceProject) -> bool:
    """Rewards are decided by the district union."""
    scope = Jurisdiction.for_user(user)
    return scope.everything or project.street.district_id in scope.district_ids


def _as_cadre(project: ServiceProject, by) -> ServiceProject:
    project = _locked(project)
    if not _covers(by, project):
        raise PermissionDenied("该服务项目不在您的管辖范围内。")
    return project


def _move(project: ServiceProject, action: str, *, by, note: str = "", fields=()) -> ProjectEvent:
    transition = project.check_transition(action)
    before = project.status
    if transition.target is not None:
        project.status = transition.target
    project.save(update_fields=sorted({"status", "updated_at", *fields}))
    return ProjectEvent.objects.create(
        project=project,
        action=action,
        by=by,
        from_status=before,
        to_status=project.status,
        note=note,
    )


def _linked_open_needs(project: ServiceProject):
    return Need.objects.filter(project_link__project=project, status__in=OPEN_STATUSES)


def _tell_linked_workers(project: ServiceProject, title: str, body: str) -> int:
    """Message every worker whose need is linked to the project (supporters included)."""
    from apps.members.models import Member

    needs = Need.objects.filter(project_link__project=project)
    members = Member.objects.filter(needs__in=needs) | Member.objects.filter(
        supports__need__in=needs
    )
    url = reverse("projects:project-detail", args=[project.pk])
    users = {m.user for m in members.distinct().select_related("user")}
    for user in users:
        notify(user=user, title=f"{title}：{project.title}", body=body, url=url)
    return len(users)


def _check_needs(needs: Iterable[Need], by) -> list[Need]:
    needs = list(needs)
    if not needs:
        raise ValidationError("请至少选择一件诉求。")
    jurisdiction = Jurisdiction.for_user(by)
    problems = []
    for need in needs:
        if not jurisdiction.covers_workstation(need.workstation):
            raise PermissionDenied("所选诉求不在您的管辖范围内。")
        if need.status not in OPEN_STATUSES:
            problems.append(f"{need.number}（{need.get_status_display()}）")
        elif (
            ProjectNeed.objects.filter(need=need)
            .exclude(project__status__in=ENDED_WITHOUT_RESULT)
            .exists()
        ):
            problems.append(f"{need.number}（已属于其他服务项目）")
    if problems:
        raise ValidationError("以下诉求不能纳入项目：" + "、".join(problems))
    return needs


# --- creating and linking ---------------------------------------------------------------


@transaction.atomic
def project_create_from_needs(
    *,
    needs: Iterable[Need],
    by,
    title: str,
    summary: str,
    kind: str,
    area,
    beneficiary: str,
    street,
    workstation=None,
    lead=None,
    planned_start,
    planned_end,
    budget: Decimal = Decimal("0"),
) -> ServiceProject:
    """Group shared needs into a proposed project (立项申请)."""
    needs = _check_needs(needs, by)
    if workstation is not None and workstation.street_id != street.pk:
        raise ValidationError({"workstation": "承办工作站必须属于所选街道（开发区）。"})
    project = ServiceProject(
        number=uuid.uuid4().hex[:20],
        title=title.strip(),
        summary=summary.strip(),
        kind=kind,
        area=area,
        beneficiary=beneficiary,
        street=street,
        workstation=workstation,
        lead=lead or by,
        planned_start=planned_start,
        planned_end=planned_end,
        budget=budget,
        created_by=by,
    )
    project.full_clean(exclude=["number"])
    if not _covers(by, project):
        raise PermissionDenied("只能在自己的管辖范围内立项。")
    if not _covers(project.lead, project):
        raise ValidationError({"lead": "项目负责人必须是管辖该项目的工会干部。"})
    project.save()
    project.number = project_number(timezone.localdate().year, project.pk)
    project.save(update_fields=["number"])
    ProjectEvent.objects.create(
        project=project,
        action=Action.PROPOSE,
        by=by,
        to_status=project.status,
        note=f"由 {len(needs)} 件诉求提出",
    )
    _link(project, needs, by)
    return project


def _link(project: ServiceProject, needs: list[Need], by) -> None:
    for need in needs:
        # A need handed back by a failed or cancelled project may join a new one.
        ProjectNeed.objects.update_or_create(
            need=need,
            defaults={"project": project, "linked_by": by, "linked_at": timezone.now()},
        )
        need_services.need_join_project(need=need, project=project, by=by)


@transaction.atomic
def project_link_needs(*, project: ServiceProject, needs: Iterable[Need], by) -> ServiceProject:
    project = _as_cadre(project, by)
    needs = _check_needs(needs, by)
    _move(project, Action.LINK, by=by, note="、".join(n.number for n in needs))
    _link(project, needs, by)
    return project


# --- the lifecycle ----------------------------------------------------------------------


@transaction.atomic
def project_approve(*, project: ServiceProject, by, note: str = "") -> ServiceProject:
    """立项: only with a written standard and at least one indicator, by the level above."""
    project = _as_cadre(project, by)
    if not may_approve(by, project):
        raise PermissionDenied("立项须由街道（开发区）或县区工会干部批准。")
    project.check_transition(Action.APPROVE)
    missing = []
    if not project.standard.strip():
        missing.append("项目标准")
    if not project.indicators.exists():
        missing.append("至少一项考核指标")
    if missing:
        raise ValidationError(f"立项前须填写{'和'.join(missing)}。")
    _move(project, Action.APPROVE, by=by, note=note)
    _tell_linked_workers(project, "您关注的服务项目已立项", project.summary)
    return project


@transaction.atomic
def project_start(*, project: ServiceProject, by, on=None) -> ServiceProject:
    project = _as_cadre(project, by)
    project.actual_start = on or timezone.localdate()
    _move(project, Action.START, by=by, fields=["actual_start"])
    _tell_linked_workers(project, "服务项目开始实施", project.summary)
    return project


@transaction.atomic
def project_post_progress(
    *, project: ServiceProject, by, text: str, percent: int, photos: Iterable = ()
) -> ProgressUpdate:
    """A public progress update; every worker behind the project is told."""
    project = _as_cadre(project, by)
    project.check_transition(Action.PROGRESS)
    update = ProgressUpdate(project=project, text=text.strip(), percent=percent, created_by=by)
    update.full_clean()
    last = project.updates.order_by("-created_at").first()
    if last is not None and percent < last.percent:
        raise ValidationError({"percent": f"进度不能低于上次发布的 {last.percent}%。"})
    update.save()
    for photo in photos:
        ProgressPhoto.objects.create(update=update, image=photo)
    _move(project, Action.PROGRESS, by=by, note=f"{percent}%：{update.text}")
    _tell_linked_workers(project, f"服务项目进展 {percent}%", update.text)
    return update


@transaction.atomic
def project_assess(
    *,
    project: ServiceProject,
    by,
    actuals: Mapping[int, object],
    result: str,
    spent: Decimal | None = None,
    overspend_reason: str = "",
    finished_on=None,
) -> ServiceProject:
    """考核: every indicator measured, the score computed, the result written for workers."""
    project = _as_cadre(project, by)
    project.check_transition(Action.ASSESS)
    indicators = list(project.indicators.all())
    errors = {}
    for indicator in indicators:
        raw = actuals.get(indicator.pk)
        try:
            value = Decimal(str(raw)) if raw not in (None, "") else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0:
            errors[indicator.name] = "请填写不小于 0 的实际值"
            continue
        indicator.actual = value
    if not indicators:
        errors["指标"] = "项目没有考核指标"
    if not result.strip():
        errors["项目成果"] = "请写明项目成果，验收通过后会告知职工"
    if errors:
        raise ValidationError("；".join(f"{k}：{v}" for k, v in errors.items()))
    if spent is not None:
        project.spent = spent
    project.overspend_reason = overspend_reason.strip()
    if project.spent > project.budget and not project.overspend_reason:
        raise ValidationError({"overspend_reason": "支出超过预算，须说明理由。"})
    project.actual_end = finished_on or timezone.localdate()
    if project.actual_start and project.actual_end < project.actual_start:
        raise ValidationError({"actual_end": "实际完成日期不能早于实际开始日期。"})
    for indicator in indicators:
        indicator.save(update_fields=["actual"])
    project.result = result.strip()
    project.assessment_score = project.compute_assessment_score()
    _move(
        project,
        Action.ASSESS,
        by=by,
        note=f"考核得分 {project.assessment_score}（Σ权重×min(实际/目标,1)÷Σ权重×100）",
        fields=[
            "result",
            "assessment_score",
            "spent",
            "overspend_reason",
            "actual_end",
        ],
    )
    return project


def reviewer_may_review(user, project: ServiceProject) -> bool:
    if user.pk == project.lead_id:
        return False  # a lead never accepts their own project
    scope = Jurisdiction.for_user(user, role="reviewer")
    return scope.everything or project.street.district_id in scope.district_ids


@transaction.atomic
def project_review(
    *, project: ServiceProject, reviewer, verdict: str, score, comments: str
) -> Review:
    """One reviewer's verdict; once the panel is complete the project is accepted or failed.

    Accepted when more reviewers pass it than fail it and the mean score is at
    least 60; the acceptance score is the panel's mean.
    """
    project = _locked(project)
    if reviewer.pk == project.lead_id:
        raise PermissionDenied("项目负责人不能验收自己的项目。")
    if not reviewer_may_review(reviewer, project):
        raise PermissionDenied("只有本县区的考核人员可以验收该项目。")
    project.check_transition(Action.REVIEW)
    if project.reviews.filter(reviewer=reviewer).exists():
        raise ValidationError("您已经提交过对该项目的验收意见。")
    review = Review(
        project=project,
        reviewer=reviewer,
        verdict=verdict,
        score=score,
        comments=(comments or "").strip(),
    )
    review.full_clean()
    review.save()
    ProjectEvent.objects.create(
        project=project,
        action=Action.REVIEW,
        by=reviewer,
        from_status=project.status,
        to_status=project.status,
        note=f"{review.get_verdict_display()}，{review.score} 分：{review.comments}",
    )
    reviews = project.reviews.all()
    if reviews.count() >= project.panel_size:
        _conclude(project, reviewer, list(reviews))
    return review


def _conclude(project: ServiceProject, by, reviews: list[Review]) -> None:
    mean = project.reviews.aggregate(mean=Avg("score"))["mean"]
    project.acceptance_score = Decimal(mean).quantize(Decimal("0.1"))
    passes = sum(r.verdict == Review.Verdict.PASS for r in reviews)
    accepted = passes > len(reviews) - passes and project.acceptance_score >= PASS_SCORE
    comments = "；".join(r.comments for r in reviews if r.comments)
    if accepted:
        _move(
            project,
            Action.ACCEPT,
            by=by,
            note=f"验收得分 {project.acceptance_score}",
            fields=["acceptance_score"],
        )
        for need in _linked_open_needs(project).filter(
            status__in=[NeedStatus.ACCEPTED, NeedStatus.IN_PROGRESS]
        ):
            need_services.need_resolve_by_project(need=need, project=project, by=by)
        _tell_linked_workers(project, "服务项目验收通过", project.result)
    else:
        _move(
            project,
            Action.FAIL,
            by=by,
            note=f"验收得分 {project.acceptance_score}：{comments}",
            fields=["acceptance_score"],
        )
        for need in _linked_open_needs(project):
            need_services.need_return_from_project(
                need=need, project=project, by=by, reason=comments or "验收未通过"
            )
        notify(
            user=project.lead,
            title=f"服务项目验收未通过：{project.title}",
            body=f"验收得分 {project.acceptance_score}。{comments}",
            url=reverse("admin:projects_serviceproject_change", args=[project.pk]),
        )


@transaction.atomic
def project_reward(
    *,
    project: ServiceProject,
    by,
    kind: str,
    reason: str,
    amount: Decimal = Decimal("0"),
    workstation=None,
    cadre=None,
) -> Reward:
    """表彰/奖励, only after acceptance, decided at district level."""
    project = _locked(project)
    if not may_reward(by, project):
        raise PermissionDenied("奖励由县区工会决定。")
    project.check_transition(Action.REWARD)
    reward = Reward(
        project=project,
        kind=kind,
        reason=(reason or "").strip(),
        amount=amount,
        workstation=workstation,
        cadre=cadre,
        awarded_by=by,
    )
    reward.full_clean()
    reward.save()
    _move(project, Action.REWARD, by=by, note=f"{reward.get_kind_display()}：{reward.reason}")
    return reward


@transaction.atomic
def project_cancel(*, project: ServiceProject, by, reason: str) -> ServiceProject:
    if not (reason or "").strip():
        raise ValidationError({"reason": "撤销项目须说明理由。"})
    project = _as_cadre(project, by)
    _move(project, Action.CANCEL, by=by, note=reason.strip())
    for need in _linked_open_needs(project):
        need_services.need_return_from_project(need=need, project=project, by=by, reason=reason)
    return project
