"""Users, workers (职工) and their union membership."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.privacy import mask_mobile
from apps.workstations.jurisdiction import JurisdictionQuerySet
from apps.workstations.models import Unit, Workstation

from .validators import id_number_validator, mobile_validator

MEMBER_LOOKUPS = {
    "district": "workstation__street__district",
    "street": "workstation__street",
    "workstation": "workstation",
}


class User(AbstractUser):
    """Every account: workers, cadres, reviewers. Chinese names live in ``name``."""

    name = models.CharField("姓名", max_length=50, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self):
        return self.name or self.username

    def get_full_name(self):
        return self.name or super().get_full_name()

    def get_short_name(self):
        return self.name or self.username


class MemberQuerySet(JurisdictionQuerySet):
    def members(self):
        return self.filter(status=Member.Status.MEMBER)


class Member(models.Model):
    """A worker's profile: who they are, where they work, their membership."""

    class Status(models.TextChoices):
        NON_MEMBER = "non_member", "未入会"
        PENDING = "pending", "入会申请审核中"
        MEMBER = "member", "工会会员"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="member",
        verbose_name="账号",
    )
    mobile = models.CharField("手机号码", max_length=11, unique=True, validators=[mobile_validator])
    id_number = models.CharField(
        "身份证号码", max_length=18, blank=True, validators=[id_number_validator]
    )
    workstation = models.ForeignKey(
        Workstation, on_delete=models.PROTECT, related_name="members", verbose_name="所属工作站"
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="工作单位",
    )
    unit_name = models.CharField(
        "工作单位名称", max_length=150, help_text="单位在名录中时与名录一致；不在名录时由职工填写"
    )
    status = models.CharField(
        "会员状态", max_length=12, choices=Status.choices, default=Status.NON_MEMBER
    )
    member_number = models.CharField(
        "会员编号", max_length=20, unique=True, null=True, blank=True, editable=False
    )
    joined_on = models.DateField("入会日期", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = MemberQuerySet.as_manager()
    JURISDICTION_LOOKUPS = MEMBER_LOOKUPS

    class Meta:
        verbose_name = "职工"
        verbose_name_plural = "职工"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=~Q(id_number=""), name="member_unique_id_number"
            ),
            models.CheckConstraint(
                condition=~Q(status="member") | Q(member_number__isnull=False),
                name="member_has_number",
            ),
        ]
        indexes = [
            # The admin changelist: a workstation's members, newest first.
            models.Index(fields=["workstation", "-created_at"], name="member_ws_created"),
            # The reports' data fingerprint: the latest change (apps/reports/cache.py).
            models.Index(fields=["updated_at"], name="member_updated"),
        ]

    def __str__(self):
        return f"{self.user.name or self.user.username}（{mask_mobile(self.mobile)}）"

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def is_member(self) -> bool:
        return self.status == self.Status.MEMBER

    @property
    def latest_application(self):
        return self.applications.order_by("-submitted_at", "-id").first()


class MembershipApplicationQuerySet(JurisdictionQuerySet):
    def pending(self):
        return self.filter(status=MembershipApplication.Status.PENDING)


class MembershipApplication(models.Model):
    """入会申请 — decided by a cadre whose jurisdiction covers the worker."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未通过"

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="applications", verbose_name="申请人"
    )
    statement = models.TextField("申请说明", max_length=1000, blank=True)
    status = models.CharField(
        "审核状态", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField("审核意见", max_length=1000, blank=True)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )

    objects = MembershipApplicationQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {level: f"member__{path}" for level, path in MEMBER_LOOKUPS.items()}

    class Meta:
        verbose_name = "入会申请"
        verbose_name_plural = "入会申请"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="pending"), name="one_pending_application"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="decision_has_time",
            ),
        ]
        indexes = [
            # The admin's pending queue, oldest first.
            models.Index(fields=["status", "submitted_at"], name="application_queue"),
        ]

    def __str__(self):
        return f"{self.member.user} 的入会申请（{self.get_status_display()}）"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class Employment(models.Model):
    """One period of a worker at one employer; the current one has no end date."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="employments", verbose_name="职工"
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employments",
        verbose_name="单位",
    )
    unit_name = models.CharField("单位名称", max_length=150)
    workstation = models.ForeignKey(
        Workstation, on_delete=models.PROTECT, related_name="+", verbose_name="所属工作站"
    )
    started_on = models.DateField("起始日期", default=timezone.localdate)
    ended_on = models.DateField("结束日期", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登记人",
    )

    class Meta:
        verbose_name = "工作经历"
        verbose_name_plural = "工作经历"
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(ended_on__isnull=True), name="one_current_employment"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="employment_dates_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.unit_name}（{self.started_on} 起）"
