"""Writes that span several models: registration, membership decisions, job changes."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import Unit, Workstation

from .models import Employment, Member, MembershipApplication


def _employer(unit: Unit | None, unit_name: str, workstation: Workstation | None):
    """Resolve where a worker works: a listed unit decides the workstation."""
    if unit is not None:
        return unit, unit.name, unit.workstation
    if not unit_name or workstation is None:
        raise ValidationError("请选择名录中的单位，或填写单位名称并选择所在工作站。")
    return None, unit_name, workstation


@transaction.atomic
def member_register(
    *,
    username: str,
    name: str,
    mobile: str,
    password: str | None,
    unit: Unit | None,
    unit_name: str = "",
    workstation: Workstation | None = None,
) -> Member:
    unit, unit_name, workstation = _employer(unit, unit_name, workstation)
    user = get_user_model().objects.create_user(username=username, password=password, name=name)
    member = Member.objects.create(
        user=user, mobile=mobile, unit=unit, unit_name=unit_name, workstation=workstation
    )
    Employment.objects.create(
        member=member, unit=unit, unit_name=unit_name, workstation=workstation
    )
    return member


@transaction.atomic
def member_change_unit(
    *,
    member: Member,
    unit: Unit | None,
    unit_name: str = "",
    workstation: Workstation | None = None,
    by,
) -> Member:
    """Move a worker to another employer, keeping the history of where they worked."""
    unit, unit_name, workstation = _employer(unit, unit_name, workstation)
    if unit is not None and unit.pk == member.unit_id:
        raise ValidationError("新单位与当前单位相同。")
    today = timezone.localdate()
    current = member.employments.filter(ended_on__isnull=True).first()
    if current is not None:
        current.ended_on = max(today, current.started_on)
        current.save(update_fields=["ended_on"])
    Employment.objects.create(
        member=member,
        unit=unit,
        unit_name=unit_name,
        workstation=workstation,
        started_on=today,
        recorded_by=by,
    )
    member.unit, member.unit_name, member.workstation = unit, unit_name, workstation
    member.save(update_fields=["unit", "unit_name", "workstation", "updated_at"])
    return member


@transaction.atomic
def membership_apply(*, member: Member, statement: str = "") -> MembershipApplication:
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status == Member.Status.MEMBER:
        raise ValidationError("您已经是工会会员。")
    if member.status == Member.Status.PENDING:
        raise ValidationError("您的入会申请正在审核中，请耐心等待。")
    application = MembershipApplication.objects.create(member=member, statement=statement)
    member.status = Member.Status.PENDING
    member.save(update_fields=["status", "updated_at"])
    return application


def _decide(application: MembershipApplication, by) -> MembershipApplication:
    """Lock the application and check the deciding cadre's jurisdiction."""
    application = (
        MembershipApplication.objects.select_for_update()
        .select_related("member__workstation__street", "member__user")
        .get(pk=application.pk)
    )
    if not application.is_pending:
        raise ValidationError(
            f"该申请已于 {timezone.localtime(application.decided_at):%Y-%m-%d %H:%M} "
            f"处理（{application.get_status_display()}），不能重复审核。"
        )
    if not Jurisdiction.for_user(by).covers_workstation(application.member.workstation):
        raise PermissionDenied("该职工不在您的管辖范围内。")
    return application


def _member_number(member: Member) -> str:
    district_code = member.workstation.street.district.code
    return f"{district_code}{member.pk:08d}"


@transaction.atomic
def membership_approve(*, application: MembershipApplication, by) -> MembershipApplication:
    application = _decide(application, by)
    now = timezone.now()
    application.status = MembershipApplication.Status.APPROVED
    application.decided_at, application.decided_by = now, by
    application.save(update_fields=["status", "decided_at", "decided_by"])
    member = application.member
    member.status = Member.Status.MEMBER
    member.member_number = member.member_number or _member_number(member)
    member.joined_on = timezone.localdate(now)
    member.save(update_fields=["status", "member_number", "joined_on", "updated_at"])
    _notify(
        member,
        "入会申请已批准",
        f"{member.name}，您好：您的入会申请已批准，会员编号 {member.member_number}。欢迎加入工会！",
    )
    return application


@transaction.atomic
def membership_reject(
    *, application: MembershipApplication, by, reason: str
) -> MembershipApplication:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "驳回入会申请必须填写理由，职工会看到这段说明。"})
    application = _decide(application, by)
    application.status = MembershipApplication.Status.REJECTED
    application.reason = reason
    application.decided_at, application.decided_by = timezone.now(), by
    application.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    member = application.member
    member.status = Member.Status.NON_MEMBER
    member.save(update_fields=["status", "updated_at"])
    _notify(
        member,
        "入会申请未通过",
        f"{member.name}，您好：您的入会申请未通过审核。理由：{reason}。如有疑问请联系所属工作站。",
    )
    return application


def _notify(member: Member, subject: str, body: str) -> None:
    """E-mail the worker after the transaction commits, when they gave an address."""
    email = member.user.email
    if not email:
        return
    transaction.on_commit(
        lambda: send_mail(f"【职工之家】{subject}", body, None, [email], fail_silently=True)
    )


@transaction.atomic
def member_register_offline(
    *,
    name: str,
    mobile: str,
    unit: Unit | None,
    unit_name: str = "",
    workstation: Workstation | None = None,
) -> Member:
    """A cadre records a worker met offline; the account gets no password until claimed."""
    unit, unit_name, workstation = _employer(unit, unit_name, workstation)
    user = get_user_model().objects.create_user(username=mobile, password=None, name=name)
    member = Member.objects.create(
        user=user, mobile=mobile, unit=unit, unit_name=unit_name, workstation=workstation
    )
    Employment.objects.create(
        member=member, unit=unit, unit_name=unit_name, workstation=workstation
    )
    return member
