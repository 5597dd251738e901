"""Service projects: shared needs turned into work with a standard, an assessment,
an acceptance and a reward (有标准、有考核、有验收、有奖励)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.needs.models import Need, ServiceArea
from apps.workstations.jurisdiction import JurisdictionQuerySet
from apps.workstations.models import Street, Workstation

from .workflow import PUBLIC_STATUSES, Action, Status, transition_for

# An achievement above the target does not make up for another indicator.
ACHIEVEMENT_CAP = Decimal("1")
PASS_SCORE = Decimal("60")


def project_number(year: int | str, pk: int) -> str:
    """编号: "XM", the local year the project was created and its id in five digits."""
    return f"XM{year}{pk:05d}"


class ServiceProjectQuerySet(JurisdictionQuerySet):
    def public(self):
        return self.filter(status__in=PUBLIC_STATUSES)


class ServiceProject(models.Model):
    Status = Status

    class Kind(models.TextChoices):
        GOOD_DEED = "good_deed", "好事"
        PRACTICAL = "practical", "实事"
        HARD = "hard", "难事"

    class Beneficiary(models.TextChoices):
        WORKERS = "workers", "服务职工"
        GRASSROOTS = "grassroots", "服务基层"
        ENTERPRISES = "enterprises", "服务企业"

    number = models.CharField("编号", max_length=20, unique=True, editable=False)
    title = models.CharField("项目名称", max_length=80)
    summary = models.TextField("项目简介", max_length=2000)
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    area = models.ForeignKey(
        ServiceArea, on_delete=models.PROTECT, related_name="projects", verbose_name="服务领域"
    )
    beneficiary = models.CharField("服务对象", max_length=12, choices=Beneficiary.choices)
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="projects", verbose_name="街道（开发区）"
    )
    workstation = models.ForeignKey(
        Workstation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name="承办工作站",
        help_text="空表示由街道（开发区）工会直接承办",
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_projects",
        verbose_name="项目负责人",
    )
    standard = models.TextField(
        "项目标准",
        max_length=3000,
        blank=True,
        help_text="做到什么程度算完成：服务内容、范围、质量要求",
    )
    budget = models.DecimalField(
        "预算（元）",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    spent = models.DecimalField(
        "已支出（元）",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    overspend_reason = models.TextField("超支说明", max_length=1000, blank=True)
    planned_start = models.DateField("计划开始")
    planned_end = models.DateField("计划完成")
    actual_start = models.DateField("实际开始", null=True, blank=True)
    actual_end = models.DateField("实际完成", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True
    )
    assessment_score = models.DecimalField(
        "考核得分", max_digits=5, decimal_places=1, null=True, blank=True
    )
    acceptance_score = models.DecimalField(
        "验收得分", max_digits=5, decimal_places=1, null=True, blank=True
    )
    panel_size = models.PositiveSmallIntegerField(
        "验收评审人数", default=1, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    result = models.TextField("项目成果", max_length=3000, blank=True, help_text="验收后告知职工")
    needs = models.ManyToManyField(
        Need, through="ProjectNeed", related_name="projects", verbose_name="关联诉求", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="创建人",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ServiceProjectQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {
        "district": "street__district",
        "street": "street",
        "workstation": "workstation",
    }

    class Meta:
        verbose_name = "服务项目"
        verbose_name_plural = "服务项目"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gte=F("planned_start")),
                name="project_planned_dates_in_order",
                violation_error_message="计划完成日期不能早于计划开始日期。",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=False, actual_end__gte=F("actual_start")),
                name="project_actual_dates_in_order",
                violation_error_message="实际完成日期不能早于实际开始日期。",
            ),
            models.CheckConstraint(
                condition=Q(spent__lte=F("budget")) | ~Q(overspend_reason=""),
                name="project_overspend_explained",
                violation_error_message="支出超过预算，须填写超支说明。",
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0, spent__gte=0),
                name="project_money_not_negative",
                violation_error_message="预算和支出不能为负数。",
            ),
        ]
        indexes = [
            # The public showcase: public projects, newest first, filtered by status.
            models.Index(fields=["status", "-created_at"], name="project_status_created"),
            # The reports' data fingerprint: the latest change (apps/reports/cache.py).
            models.Index(fields=["updated_at"], name="project_updated"),
            # The showcase's default page: public projects newest first, read in index order.
            models.Index(
                F("created_at").desc(),
                F("id").desc(),
                name="project_public_newest",
                condition=Q(status__in=sorted(PUBLIC_STATUSES)),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def owner(self):
        return self.workstation or self.street

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def compute_assessment_score(self) -> Decimal | None:
        """Σ weightᵢ × min(actualᵢ / targetᵢ, 1) ÷ Σ weightᵢ × 100, to one decimal.

        None while an indicator has not been measured.
        """
        indicators = list(self.indicators.all())
        if not indicators or any(i.actual is None for i in indicators):
            return None
        total_weight = sum(i.weight for i in indicators)
        if total_weight <= 0:
            return None
        achieved = sum(i.weight * i.achievement for i in indicators)
        return (achieved / total_weight * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def check_transition(self, action: str):
        return transition_for(action, self.status)


class Indicator(models.Model):
    """A measurable indicator of the project's standard (考核指标)."""

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField("指标", max_length=60)
    target = models.DecimalField(
        "目标值",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit = models.CharField("单位", max_length=10, help_text="例如：人、次、家、%")
    actual = models.DecimalField(
        "实际值",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    weight = models.DecimalField(
        "权重",
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target__gt=0),
                name="indicator_target_positive",
                violation_error_message="目标值必须大于 0。",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0),
                name="indicator_weight_positive",
                violation_error_message="权重必须大于 0。",
            ),
            models.CheckConstraint(
                condition=Q(actual__isnull=True) | Q(actual__gte=0),
                name="indicator_actual_not_negative",
                violation_error_message="实际值不能为负数。",
            ),
        ]

    def __str__(self):
        return f"{self.name}：{self.target}{self.unit}"

    @property
    def achievement(self) -> Decimal:
        """actual / target, capped at 100%; 0 while not measured."""
        if self.actual is None:
            return Decimal("0")
        return min(self.actual / self.target, ACHIEVEMENT_CAP)


class ProjectNeed(models.Model):
    """A need answered by a project; a need belongs to at most one project."""

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="links")
    need = models.OneToOneField(Need, on_delete=models.CASCADE, related_name="project_link")
    linked_at = models.DateTimeField("关联时间", default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="关联人"
    )

    class Meta:
        verbose_name = "关联诉求"
        verbose_name_plural = "关联诉求"

    def __str__(self):
        return f"{self.project.number} ← {self.need.number}"


def progress_photo_path(instance, filename):
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"projects/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{suffix}"


class ProgressUpdate(models.Model):
    """A public progress update (看得见): text, percent done, photos."""

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="updates")
    text = models.TextField("进展", max_length=2000)
    percent = models.PositiveSmallIntegerField("完成进度（%）", validators=[MaxValueValidator(100)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="发布人"
    )
    created_at = models.DateTimeField("发布时间", default=timezone.now)

    class Meta:
        verbose_name = "项目进展"
        verbose_name_plural = "项目进展"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="progress_percent_max"),
        ]

    def __str__(self):
        return f"{self.percent}% · {timezone.localtime(self.created_at):%Y-%m-%d}"


class ProgressPhoto(models.Model):
    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField("照片", upload_to=progress_photo_path)
    caption = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        verbose_name = "进展照片"
        verbose_name_plural = "进展照片"
        ordering = ["id"]

    def __str__(self):
        return self.caption or self.image.name


class Evidence(models.Model):
    """验收材料: photos, attendance, beneficiaries' sign-off, other documents."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "活动照片"
        ATTENDANCE = "attendance", "签到表"
        SIGNOFF = "signoff", "受益职工签字确认"
        BUDGET = "budget", "经费使用明细"
        OTHER = "other", "其他材料"

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    file = models.FileField("文件", upload_to=progress_photo_path, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    attendance = models.PositiveIntegerField("参与人数", null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "验收材料"
        verbose_name_plural = "验收材料"
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(file="") | ~Q(note="") | Q(attendance__isnull=False),
                name="evidence_not_empty",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.note}".strip()


class Review(models.Model):
    """One reviewer's acceptance verdict (验收); a panel's reviews are combined."""

    class Verdict(models.TextChoices):
        PASS = "pass", "通过"
        FAIL = "fail", "不通过"

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name="验收人",
    )
    verdict = models.CharField("结论", max_length=8, choices=Verdict.choices)
    score = models.DecimalField(
        "评分",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    comments = models.TextField("验收意见", max_length=2000)
    created_at = models.DateTimeField("验收时间", default=timezone.now)

    class Meta:
        verbose_name = "验收评审"
        verbose_name_plural = "验收评审"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "reviewer"], name="review_once"),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="review_score_0_100"
            ),
        ]

    def __str__(self):
        return f"{self.get_verdict_display()} {self.score}"


class Reward(models.Model):
    """表彰或奖励 for an accepted project, to a workstation or a cadre."""

    class Kind(models.TextChoices):
        COMMENDATION = "commendation", "通报表彰"
        AWARD = "award", "奖励资金"

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="rewards")
    kind = models.CharField("类型", max_length=14, choices=Kind.choices)
    workstation = models.ForeignKey(
        Workstation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rewards",
        verbose_name="获奖工作站",
    )
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rewards",
        verbose_name="获奖干部",
    )
    amount = models.DecimalField(
        "金额（元）",
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    reason = models.TextField("奖励理由", max_length=1000)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="决定人"
    )
    awarded_at = models.DateTimeField("奖励时间", default=timezone.now)

    class Meta:
        verbose_name = "奖励"
        verbose_name_plural = "奖励"
        ordering = ["-awarded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(workstation__isnull=False) | Q(cadre__isnull=False),
                name="reward_has_recipient",
                violation_error_message="请选择获奖的工作站或干部。",
            ),
            models.CheckConstraint(
                condition=Q(kind="commendation") | Q(amount__gt=0),
                name="award_has_amount",
                violation_error_message="奖励资金须填写大于 0 的金额。",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.workstation or self.cadre}"


class ProjectEvent(models.Model):
    """The project's audit trail; never edited or deleted through the UI."""

    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    from_status = models.CharField("原状态", max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=12, choices=Status.choices)
    note = models.TextField("说明", max_length=3000, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "项目记录"
        verbose_name_plural = "项目记录"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
