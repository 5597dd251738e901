"""Everything that changes a need: one function per action, each atomic and locked.

Views and the admin call these; they never change ``Need.status`` themselves.
Cadre actions check the cadre's jurisdiction here as well, so a forged request
cannot act on another workstation's need whatever page it came from.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.notifications.services import notify
from apps.workstations.jurisdiction import Jurisdiction

from . import deadlines
from .models import (
    Attachment,
    Channel,
    Need,
    NeedEvent,
    Rating,
    Referral,
    ServiceArea,
    Support,
    TimeLimit,
    need_number,
)
from .workflow import Action, Actor, Status


class StaleNeed(ValidationError):
    """The need changed since the cadre opened it: someone else acted first."""

    def __init__(self, need: Need):
        super().__init__(
            f"该诉求刚刚已被他人处理，当前状态为“{need.get_status_display()}”。请刷新页面后再操作。"
        )


class TooManyNeeds(ValidationError):
    """The worker has raised as many needs online as a day allows."""


# A worker raises at most settings.NEED_SUBMISSIONS_PER_DAY needs online in this window.
SUBMISSION_WINDOW = dt.timedelta(hours=24)


# --- helpers --------------------------------------------------------------------------


def _locked(need: Need) -> Need:
    return (
        Need.objects.select_for_update(of=("self",))
        .select_related("workstation__street", "submitter__user")
        .get(pk=need.pk)
    )


def _as_cadre(need: Need, by, expected_status: str | None) -> Need:
    """Lock the need, check the cadre may act on it and that nobody acted first."""
    locked = _locked(need)
    if not Jurisdiction.for_user(by).covers_workstation(locked.workstation):
        raise PermissionDenied("该诉求不在您的管辖范围内。")
    if expected_status is not None and locked.status != expected_status:
        raise StaleNeed(locked)
    return locked


def _record(need: Need, event: NeedEvent, *, update_fields: Iterable[str] = ()) -> NeedEvent:
    fields = {"status", "updated_at", *update_fields}
    need.save(update_fields=sorted(fields))
    event.save()
    return event


def _tell_worker(need: Need, title: str, body: str = "") -> None:
    notify(
        user=need.submitter.user,
        title=f"{title}：{need.title}",
        body=body,
        url=reverse("needs:need-detail", args=[need.pk]),
    )


def _tell_cadres(need: Need, title: str, body: str = "") -> None:
    """Tell the handler, or every active cadre of the need's workstation."""
    from apps.workstations.models import CadreAssignment

    if need.handler_id:
        users = [need.handler]
    else:
        posts = CadreAssignment.objects.active().filter(
            workstation=need.workstation, role=CadreAssignment.Role.CADRE
        )
        users = [post.user for post in posts.select_related("user")]
    url = reverse("admin:needs_need_change", args=[need.pk])
    for user in users:
        notify(user=user, title=f"{title}：{need.number}", body=body, url=url)


def _tell_supervisors(need: Need, level: int, title: str, body: str = "") -> None:
    """督办: tell the cadres of the street (level 1) or district (level 2) above the need."""
    from apps.workstations.models import CadreAssignment

    street = need.workstation.street
    node = (
        {"street_id": street.pk}
        if level == Need.Escalation.STREET
        else {"district_id": street.district_id}
    )
    posts = CadreAssignment.objects.active().filter(role=CadreAssignment.Role.CADRE, **node)
    url = reverse("admin:needs_need_change", args=[need.pk])
    users = {post.user_id: post.user for post in posts.select_related("user")}
    for user in users.values():
        notify(user=user, title=f"{title}：{need.number}", body=body, url=url)


# --- the worker -----------------------------------------------------------------------


def _check_submission_limit(member, at: dt.datetime) -> None:
    """Refuse a worker's own need past the daily limit; say when they may raise the next.

    Withdrawn needs count too, so withdrawing does not make room. Needs cadres record
    on a worker's behalf (offline channels) are not the worker's doing and never count.
    """
    limit = settings.NEED_SUBMISSIONS_PER_DAY
    if limit <= 0:  # 0 turns the limit off
        return
    recent = list(
        Need.objects.filter(
            submitter=member,
            recorded_by=None,
            created_at__gt=at - SUBMISSION_WINDOW,
            created_at__lte=at,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    retry_at = timezone.localtime(recent[-1] + SUBMISSION_WINDOW)
    raise TooManyNeeds(
        f"您在 24 小时内已提交 {limit} 件诉求，达到每日上限，本次诉求没有保存。"
        f"请于 {retry_at.month}月{retry_at.day}日 {retry_at:%H:%M} 之后再提交；"
        "情况紧急的，请直接联系所属工作站或拨打职工服务热线 12351。"
    )


@transaction.atomic
def need_submit(
    *,
    member,
    kind: str,
    area: ServiceArea,
    rights_type: str,
    title: str,
    description: str,
    urgency: str = Need.Urgency.NORMAL,
    confidential: bool = False,
    follow_up_consent: bool = True,
    workstation=None,
    channel: Channel | None = None,
    recorded_by=None,
    attachments: Iterable = (),
    at=None,
) -> Need:
    """Raise a need; it is routed to the workstation of the worker's employer."""
    at = at or timezone.now()
    channel = channel or Channel.objects.get(code=Channel.ONLINE)
    if recorded_by is not None and channel.is_online:
        raise ValidationError({"channel": "代为登记的线下诉求请选择线下渠道。"})
    if recorded_by is None:
        _check_submission_limit(member, at)
    need = Need(
        number=uuid.uuid4().hex[:20],  # replaced below, once the id is known
        submitter=member,
        workstation=workstation or member.workstation,
        unit=member.unit,
        kind=kind,
        area=area,
        rights_type=rights_type,
        channel=channel,
        title=title.strip(),
        description=description.strip(),
        urgency=urgency,
        confidential=confidential,
        follow_up_consent=follow_up_consent,
        recorded_by=recorded_by,
        created_at=at,
        accept_due=deadlines.due(TimeLimit.Stage.ACCEPT, at, kind=kind, urgency=urgency),
    )
    need.save()
    need.number = need_number(f"{timezone.localtime(at):%Y%m%d}", need.pk)
    need.save(update_fields=["number"])
    note = f"由工会干部代为登记（{channel.name}）" if recorded_by else "职工在线提交"
    NeedEvent.objects.create(
        need=need,
        action=Action.SUBMIT,
        actor=Actor.CADRE if recorded_by else Actor.WORKER,
        by=recorded_by or member.user,
        from_status="",
        to_status=Status.SUBMITTED,
        public_note=note,
        created_at=at,
    )
    for upload in attachments:
        Attachment.objects.create(
            need=need,
            file=upload,
            original_name=upload.name[:200],
            content_type=getattr(upload, "content_type", "") or "application/octet-stream",
            size=upload.size,
        )
    _tell_cadres(need, "新诉求待受理", f"{need.get_kind_display()}·{need.area.name}")
    return need


@transaction.atomic
def need_withdraw(*, need: Need, by, reason: str = "") -> Need:
    need = _locked(need)
    if need.submitter.user_id != by.pk:
        raise PermissionDenied
    event = need.apply(Action.WITHDRAW, by=by, actor=Actor.WORKER, public_note=reason or "职工撤回")
    need.closed_at = event.created_at
    _record(need, event, update_fields=["closed_at"])
    _tell_cadres(need, "职工撤回了诉求", reason)
    return need


@transaction.atomic
def need_rate(*, need: Need, by, outcome: str, score: int, comment: str = "") -> Rating:
    """The worker's answer: satisfied closes the need, otherwise it is reopened."""
    need = _locked(need)
    if need.submitter.user_id != by.pk:
        raise PermissionDenied
    rating = Rating(need=need, outcome=outcome, score=score, comment=comment.strip())
    rating.full_clean(exclude=["need"])
    if rating.satisfied:
        event = need.apply(
            Action.CONFIRM,
            by=by,
            actor=Actor.WORKER,
            public_note=f"{rating.get_outcome_display()}，{score} 分",
        )
        need.closed_at = event.created_at
        _record(need, event, update_fields=["closed_at"])
    else:
        event = need.apply(
            Action.REOPEN,
            by=by,
            actor=Actor.WORKER,
            public_note=f"{rating.get_outcome_display()}，{score} 分。{rating.comment}".strip(),
        )
        need.resolved_at = None
        need.resolve_due = deadlines.due(
            TimeLimit.Stage.RESOLVE, event.created_at, kind=need.kind, urgency=need.urgency
        )
        _record(need, event, update_fields=["resolved_at", "resolve_due"])
        _tell_cadres(
            need,
            "职工对办理结果不满意，诉求已重新打开",
            f"{rating.get_outcome_display()}，{score} 分。{rating.comment}",
        )
    rating.save()
    return rating


@transaction.atomic
def need_support(*, need: Need, member) -> Support:
    """我也有此需求: once per worker, on a published need that is not their own."""
    need = _locked(need)
    if not need.is_public or need.status in {Status.REJECTED, Status.MERGED, Status.WITHDRAWN}:
        raise ValidationError("该诉求未公开征集。")
    if need.submitter_id == member.pk:
        raise ValidationError("这是您自己提出的诉求。")
    if Support.objects.filter(need=need, member=member).exists():
        raise ValidationError("您已经表示过“我也有此需求”。")
    support = Support.objects.create(need=need, member=member)
    Need.objects.filter(pk=need.pk).update(support_count=F("support_count") + 1)
    return support


# --- the cadre ------------------------------------------------------------------------


@transaction.atomic
def need_accept(
    *, need: Need, by, public_note: str = "", internal_note: str = "", expected_status=None
) -> Need:
    need = _as_cadre(need, by, expected_status)
    event = need.apply(
        Action.ACCEPT,
        by=by,
        actor=Actor.CADRE,
        public_note=public_note or "您的诉求已受理，我们会尽快办理。",
        internal_note=internal_note,
    )
    need.accepted_at = event.created_at
    need.accepted_late = bool(need.accept_due and event.created_at > need.accept_due)
    need.handler = need.handler or by
    need.resolve_due = deadlines.due(
        TimeLimit.Stage.RESOLVE, event.created_at, kind=need.kind, urgency=need.urgency
    )
    _record(need, event, update_fields=["accepted_at", "accepted_late", "handler", "resolve_due"])
    _tell_worker(need, "诉求已受理", event.public_note)
    return need


@transaction.atomic
def need_reject(
    *, need: Need, by, reason: str, internal_note: str = "", expected_status=None
) -> Need:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"public_note": "不予受理必须填写理由，职工会看到这段说明。"})
    need = _as_cadre(need, by, expected_status)
    event = need.apply(
        Action.REJECT, by=by, actor=Actor.CADRE, public_note=reason, internal_note=internal_note
    )
    need.rejection_reason = reason
    need.closed_at = event.created_at
    _record(need, event, update_fields=["rejection_reason", "closed_at"])
    _tell_worker(need, "诉求不予受理", reason)
    return need


@transaction.atomic
def need_merge(
    *,
    need: Need,
    into: Need,
    by,
    public_note: str = "",
    internal_note: str = "",
    expected_status=None,
) -> Need:
    """Merge a duplicate into a surviving need; its worker and supporters follow it."""
    if need.pk == into.pk:
        raise ValidationError("不能把诉求合并到它自己。")
    # Lock both rows in id order so two merges cannot deadlock.
    first, second = sorted([need, into], key=lambda n: n.pk)
    _locked(first), _locked(second)
    need = _as_cadre(need, by, expected_status)
    into = _as_cadre(into, by, None)
    if into.status in {Status.MERGED, Status.REJECTED, Status.WITHDRAWN}:
        raise ValidationError(
            f"目标诉求 {into.number} 已{into.get_status_display()}，不能合并进去。"
        )
    event = need.apply(
        Action.MERGE,
        by=by,
        actor=Actor.CADRE,
        public_note=public_note
        or f"您反映的问题与诉求 {into.number} 相同，已合并办理，办理进度请看该诉求。",
        internal_note=internal_note,
    )
    need.merged_into = into
    need.closed_at = event.created_at
    _record(need, event, update_fields=["merged_into", "closed_at"])

    # The duplicate's worker and supporters now support the surviving need.
    supporters = {need.submitter_id, *need.supports.values_list("member_id", flat=True)}
    supporters.discard(into.submitter_id)
    already = set(into.supports.values_list("member_id", flat=True))
    new = [Support(need=into, member_id=m) for m in sorted(supporters - already)]
    Support.objects.bulk_create(new)
    into.support_count = into.supports.count()
    into.save(update_fields=["support_count", "updated_at"])
    NeedEvent.objects.create(
        need=into,
        action=Action.SUPPORT_MOVED,
        actor=Actor.CADRE,
        by=by,
        from_status=into.status,
        to_status=into.status,
        public_note=f"另有 {len(new)} 位职工反映了相同问题，已合并到本诉求一并办理。"
        if new
        else "",
        internal_note=f"合并自 {need.number}",
        is_public=bool(new),
    )
    _tell_worker(need, "诉求已合并办理", event.public_note)
    from apps.members.models import Member

    for member in Member.objects.filter(pk__in=[s.member_id for s in new]).select_related("user"):
        if member.pk != need.submitter_id:
            notify(
                user=member.user,
                title=f"您支持的诉求已合并：{need.public_title or need.number}",
                body=f"相同问题已并入诉求 {into.number} 一并办理。",
                url=reverse("needs:public-list"),
            )
    return need


@transaction.atomic
def need_start(*, need: Need, by, public_note: str = "", expected_status=None) -> Need:
    need = _as_cadre(need, by, expected_status)
    event = need.apply(
        Action.START, by=by, actor=Actor.CADRE, public_note=public_note or "工作站正在办理。"
    )
    need.handler = need.handler or by
    _record(need, event, update_fields=["handler"])
    _tell_worker(need, "诉求办理中", event.public_note)
    return need


@transaction.atomic
def need_reply(*, need: Need, by, public_note: str, internal_note: str = "") -> NeedEvent:
    need = _as_cadre(need, by, None)
    event = need.apply(
        Action.REPLY, by=by, actor=Actor.CADRE, public_note=public_note, internal_note=internal_note
    )
    _record(need, event)
    _tell_worker(need, "工会干部回复了您的诉求", event.public_note)
    return event


@transaction.atomic
def need_assign(*, need: Need, by, handler) -> Need:
    """Hand the need to another cadre who covers its workstation (or to nobody)."""
    need = _as_cadre(need, by, None)
    if handler is not None and not Jurisdiction.for_user(handler).covers_workstation(
        need.workstation
    ):
        raise ValidationError({"handler": "承办人必须是管辖该工作站的工会干部。"})
    if need.handler_id == (handler.pk if handler else None):
        return need
    name = (handler.name or handler.username) if handler else "（未指定）"
    event = need.apply(Action.NOTE, by=by, actor=Actor.CADRE, internal_note=f"承办人改为{name}")
    need.handler = handler
    _record(need, event, update_fields=["handler"])
    return need


@transaction.atomic
def need_add_note(*, need: Need, by, internal_note: str) -> NeedEvent:
    if not internal_note.strip():
        raise ValidationError({"internal_note": "请填写备注内容。"})
    need = _as_cadre(need, by, None)
    event = need.apply(Action.NOTE, by=by, actor=Actor.CADRE, internal_note=internal_note)
    return _record(need, event)


@transaction.atomic
def need_refer(
    *,
    need: Need,
    by,
    target: str,
    target_detail: str = "",
    public_note: str,
    internal_note: str = "",
    expected_status=None,
) -> Referral:
    need = _as_cadre(need, by, expected_status)
    if target not in Referral.Target.values:
        raise ValidationError({"target": "请选择转介去向。"})
    event = need.apply(
        Action.REFER, by=by, actor=Actor.CADRE, public_note=public_note, internal_note=internal_note
    )
    need.handler = need.handler or by
    _record(need, event, update_fields=["handler"])
    referral = Referral.objects.create(
        need=need, target=target, target_detail=target_detail.strip(), created_by=by
    )
    _tell_worker(need, f"诉求已转介至{referral.get_target_display()}", event.public_note)
    return referral


@transaction.atomic
def referral_update(*, referral: Referral, by, follow_up: str, done: bool) -> Referral:
    need = _as_cadre(referral.need, by, None)
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    referral.follow_up = follow_up.strip()
    referral.state = Referral.State.DONE if done else Referral.State.OPEN
    referral.save(update_fields=["follow_up", "state"])
    event = need.apply(
        Action.NOTE,
        by=by,
        actor=Actor.CADRE,
        internal_note=f"转介跟进（{referral.get_target_display()}）：{referral.follow_up}",
    )
    _record(need, event)
    return referral


@transaction.atomic
def need_resolve(
    *, need: Need, by, resolution: str, internal_note: str = "", expected_status=None
) -> Need:
    need = _as_cadre(need, by, expected_status)
    event = need.apply(
        Action.RESOLVE,
        by=by,
        actor=Actor.CADRE,
        public_note=resolution,
        internal_note=internal_note,
    )
    need.resolution = event.public_note
    need.resolved_at = event.created_at
    need.resolved_late = bool(need.resolve_due and event.created_at > need.resolve_due)
    need.handler = need.handler or by
    _record(need, event, update_fields=["resolution", "resolved_at", "resolved_late", "handler"])
    _tell_worker(
        need,
        "诉求已办结，请您评价",
        f"办理结果：{need.resolution}\n问题解决了吗？请在诉求页面告诉我们。",
    )
    return need


@transaction.atomic
def need_publish(*, need: Need, by, public_title: str, public_summary: str = "") -> Need:
    """Publish for "me too" support, under a cadre-written title without personal data."""
    public_title = public_title.strip()
    if not public_title:
        raise ValidationError({"public_title": "请填写公开标题（不含任何个人信息）。"})
    need = _as_cadre(need, by, None)
    event = need.apply(
        Action.PUBLISH, by=by, actor=Actor.CADRE, internal_note=f"公开标题：{public_title}"
    )
    need.is_public = True
    need.public_title = public_title
    need.public_summary = public_summary.strip()
    _record(need, event, update_fields=["is_public", "public_title", "public_summary"])
    return need


@transaction.atomic
def need_unpublish(*, need: Need, by) -> Need:
    need = _as_cadre(need, by, None)
    event = need.apply(Action.UNPUBLISH, by=by, actor=Actor.CADRE, internal_note="取消公开")
    need.is_public = False
    _record(need, event, update_fields=["is_public"])
    return need


# --- the system (escalate_overdue) ----------------------------------------------------


@transaction.atomic
def need_escalate(*, need: Need, level: int, at=None) -> Need:
    """督办: an overdue need goes up to the street, then to the district."""
    need = _locked(need)
    if level <= need.escalation:
        return need  # already there: running twice changes nothing
    to = Need.Escalation(level)
    event = need.apply(
        Action.ESCALATE,
        actor=Actor.SYSTEM,
        at=at,
        public_note=f"诉求已超过办理时限，已提请{to.label.replace('督办', '')}工会督办。",
    )
    need.escalation = level
    need.escalated_at = event.created_at
    _record(need, event, update_fields=["escalation", "escalated_at"])
    _tell_worker(need, "诉求已督办", event.public_note)
    _tell_cadres(need, f"诉求超时，已{to.label}", event.public_note)
    _tell_supervisors(need, level, f"请督办超时诉求（{to.label}）", event.public_note)
    return need


@transaction.atomic
def need_remind(*, need: Need, at=None) -> Need:
    need = _locked(need)
    event = need.apply(Action.REMIND, actor=Actor.SYSTEM, at=at, internal_note="临近办理时限提醒")
    need.reminded_at = event.created_at
    _record(need, event, update_fields=["reminded_at"])
    due = need.accept_due if need.status == Status.SUBMITTED else need.resolve_due
    _tell_cadres(need, "诉求即将到期", f"办理时限：{timezone.localtime(due):%Y-%m-%d %H:%M}")
    return need


@transaction.atomic
def need_auto_close(*, need: Need, at=None) -> Need:
    need = _locked(need)
    event = need.apply(
        Action.AUTO_CLOSE,
        actor=Actor.SYSTEM,
        at=at,
        public_note="办结后在规定时间内未收到评价，诉求已自动完结。如问题仍未解决，可重新提出诉求。",
    )
    need.closed_at = event.created_at
    need.auto_closed = True
    _record(need, event, update_fields=["closed_at", "auto_closed"])
    _tell_worker(need, "诉求已自动完结", event.public_note)
    return need


# --- a service project moving its linked needs ------------------------------------------
# The project's own services check who may act on the project; these only move
# the linked needs along with it and tell their workers.


@transaction.atomic
def need_join_project(*, need: Need, project, by) -> Need:
    """A need grouped into a project is accepted if new and then handled by the project."""
    need = _locked(need)
    note = (
        f"您的诉求已纳入服务项目“{project.title}”（{project.number}）统一办理，可随时查看项目进展。"
    )
    if need.status == Status.SUBMITTED:
        event = need.apply(Action.ACCEPT, by=by, actor=Actor.PROJECT, public_note=note)
        need.accepted_at = event.created_at
        need.accepted_late = bool(need.accept_due and event.created_at > need.accept_due)
        need.resolve_due = None  # the project's plan sets the pace now
        _record(need, event, update_fields=["accepted_at", "accepted_late", "resolve_due"])
    if need.status == Status.ACCEPTED:
        event = need.apply(Action.START, by=by, actor=Actor.PROJECT, public_note=note)
        _record(need, event)
    elif need.status == Status.IN_PROGRESS:
        event = need.apply(Action.NOTE, by=by, actor=Actor.PROJECT, internal_note=note)
        _record(need, event)
    need.resolve_due = None
    need.save(update_fields=["resolve_due", "updated_at"])
    _tell_worker(need, "诉求已纳入服务项目", note)
    return need


@transaction.atomic
def need_resolve_by_project(*, need: Need, project, by) -> Need:
    need = _locked(need)
    resolution = f"服务项目“{project.title}”已通过验收。项目成果：{project.result}"
    event = need.apply(Action.RESOLVE, by=by, actor=Actor.PROJECT, public_note=resolution)
    need.resolution = event.public_note
    need.resolved_at = event.created_at
    need.resolved_late = False
    _record(need, event, update_fields=["resolution", "resolved_at", "resolved_late"])
    _tell_worker(
        need,
        "服务项目已验收，您的诉求已办结，请您评价",
        f"{resolution}\n问题解决了吗？请在诉求页面告诉我们。",
    )
    return need


@transaction.atomic
def need_return_from_project(*, need: Need, project, by, reason: str) -> Need:
    """A failed project hands its needs back to the cadres, who must go on handling them."""
    need = _locked(need)
    event = need.apply(
        Action.NOTE,
        by=by,
        actor=Actor.PROJECT,
        internal_note=f"服务项目“{project.title}”验收未通过，诉求退回工作站继续办理。理由：{reason}",
    )
    need.resolve_due = deadlines.due(
        TimeLimit.Stage.RESOLVE, event.created_at, kind=need.kind, urgency=need.urgency
    )
    _record(need, event, update_fields=["resolve_due"])
    _tell_cadres(need, "服务项目验收未通过，诉求退回继续办理", reason)
    _tell_worker(
        need,
        "服务项目未通过验收，工作站将继续办理您的诉求",
        f"办理时限：{timezone.localtime(need.resolve_due):%Y-%m-%d %H:%M}",
    )
    return need
