"""Needs (诉求): raised by workers, handled by the cadres of their workstation."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from apps.workstations.jurisdiction import Jurisdiction, JurisdictionQuerySet
from apps.workstations.models import Unit, Workstation

from .workflow import (
    OPEN_STATUSES,
    WORKING,
    Action,
    Actor,
    Status,
    TransitionNotAllowed,
    transition_for,
)


class ServiceArea(models.Model):
    """The six areas where service is "not sufficient" (reference data)."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    description = models.CharField("说明", max_length=200, blank=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "服务领域"
        verbose_name_plural = "服务领域"
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


class Channel(models.Model):
    """How a need reached the union: online, or offline recorded by a cadre (reference data)."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    is_online = models.BooleanField("线上渠道", default=False)
    order = models.PositiveSmallIntegerField("排序", default=0)

    ONLINE = "online"  # the portal itself

    class Meta:
        verbose_name = "诉求渠道"
        verbose_name_plural = "诉求渠道"
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


NEED_LOOKUPS = {
    "district": "workstation__street__district",
    "street": "workstation__street",
    "workstation": "workstation",
}


def overdue_q(now=None) -> Q:
    """Open needs past their limit at ``now``: waiting to be accepted, or to be resolved."""
    now = now or timezone.now()
    return Q(status=Status.SUBMITTED, accept_due__lt=now) | Q(
        status__in=WORKING, resolve_due__lt=now
    )


def ever_overdue_q(now=None) -> Q:
    """Late at some stage: accepted or resolved after the limit, or still open past it."""
    return Q(accepted_late=True) | Q(resolved_late=True) | overdue_q(now)


def need_number(day: str, pk: int) -> str:
    """编号: "XQ", the local date the need was raised (YYYYMMDD) and its id in six digits."""
    return f"XQ{day}{pk:06d}"


def priority_expression():
    """A need's place in the cadres' queue: urgency, then how many share it (5 per supporter).

    The one definition, used by the queue's ordering and by the index that serves it.
    """
    # Need.Urgency.SPECIAL and URGENT (the index below is declared inside the class).
    urgency = Case(
        When(urgency="special", then=Value(200)),
        When(urgency="urgent", then=Value(100)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return urgency + F("support_count") * 5


class NeedQuerySet(JurisdictionQuerySet):
    def visible_to(self, user):
        """What a user may open: their own needs, plus their jurisdiction's as a cadre."""
        if not user.is_authenticated:
            return self.none()
        jurisdiction = Jurisdiction.for_user(user)
        if jurisdiction.everything:
            return self.all()
        own = Q(submitter__user=user)
        if jurisdiction.is_empty:
            return self.filter(own)
        return self.filter(own | jurisdiction.q_for(self.model))

    def of_worker(self, user):
        return self.filter(submitter__user=user)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now=None):
        return self.filter(overdue_q(now))

    def published(self):
        """Needs a cadre has published for "me too" support (never their personal data)."""
        return self.filter(is_public=True).exclude(
            status__in=[Status.REJECTED, Status.MERGED, Status.WITHDRAWN]
        )

    def with_priority(self):
        """Annotate ``priority``: urgency first, then shared demand, then age."""
        return self.annotate(priority=priority_expression())


class Need(models.Model):
    """A worker's need, from submission to the worker's rating."""

    Status = Status

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "问题咨询"
        HELP = "help", "服务帮扶"
        COMPLAINT = "complaint", "投诉"
        LEGAL_AID = "legal_aid", "法律援助"
        SUGGESTION = "suggestion", "意见建议"

    class RightsType(models.TextChoices):
        LABOUR_ECONOMIC = "labour_economic", "劳动经济权益"
        DEMOCRATIC_POLITICAL = "democratic_political", "民主政治权益"
        OTHER = "other", "其他"

    class Urgency(models.TextChoices):
        NORMAL = "normal", "一般"
        URGENT = "urgent", "紧急"
        SPECIAL = "special", "特殊"

    class Escalation(models.IntegerChoices):
        NONE = 0, "未督办"
        STREET = 1, "街道督办"
        DISTRICT = 2, "县区督办"

    number = models.CharField("编号", max_length=20, unique=True, editable=False)
    submitter = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="needs", verbose_name="提出人"
    )
    workstation = models.ForeignKey(
        Workstation, on_delete=models.PROTECT, related_name="needs", verbose_name="承办工作站"
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name="职工所在单位",
        help_text="提出时的单位，用于按所有制统计",
    )
    kind = models.CharField("诉求类型", max_length=16, choices=Kind.choices)
    area = models.ForeignKey(
        ServiceArea, on_delete=models.PROTECT, related_name="needs", verbose_name="服务领域"
    )
    rights_type = models.CharField("权益类型", max_length=24, choices=RightsType.choices)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="needs", verbose_name="渠道"
    )
    title = models.CharField("标题", max_length=60)
    description = models.TextField("具体情况", max_length=3000)
    urgency = models.CharField(
        "紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    confidential = models.BooleanField(
        "保密", default=False, help_text="除承办的工会干部外，任何人都看不到提出人的身份"
    )
    follow_up_consent = models.BooleanField(
        "同意回访", default=True, help_text="同意县区总工会电话回访抽查办理情况"
    )

    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_needs",
        verbose_name="承办人",
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name="合并至",
    )
    resolution = models.TextField("办理结果", max_length=3000, blank=True)
    rejection_reason = models.TextField("不予受理理由", max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recorded_needs",
        verbose_name="代为登记的干部",
    )

    # Published for "me too" support: cadre-written text without personal data.
    is_public = models.BooleanField("公开征集", default=False)
    public_title = models.CharField("公开标题", max_length=60, blank=True)
    public_summary = models.TextField("公开说明", max_length=1000, blank=True)
    support_count = models.PositiveIntegerField("“我也有此需求”人数", default=0)

    created_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    resolved_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("完结时间", null=True, blank=True)
    auto_closed = models.BooleanField("逾期未评价自动完结", default=False)
    accept_due = models.DateTimeField("受理时限", null=True, blank=True)
    resolve_due = models.DateTimeField("办结时限", null=True, blank=True)
    accepted_late = models.BooleanField("受理超时", default=False)
    resolved_late = models.BooleanField("办结超时", default=False)
    escalation = models.PositiveSmallIntegerField(
        "督办级别", choices=Escalation.choices, default=Escalation.NONE
    )
    escalated_at = models.DateTimeField("督办时间", null=True, blank=True)
    reminded_at = models.DateTimeField("最近提醒时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = NeedQuerySet.as_manager()
    JURISDICTION_LOOKUPS = NEED_LOOKUPS

    class Meta:
        verbose_name = "诉求"
        verbose_name_plural = "诉求"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="need_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="need_merge_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("pk")), name="need_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(is_public=False) | ~Q(public_title=""),
                name="need_public_has_title",
            ),
        ]
        indexes = [
            # The worker's "my needs" list, newest first.
            models.Index(fields=["submitter", "-created_at"], name="need_submitter_created"),
            # The cadre's changelist: a workstation's needs by status.
            models.Index(fields=["workstation", "status", "-created_at"], name="need_ws_status"),
            # escalate_overdue: open needs past their limits.
            models.Index(fields=["status", "accept_due"], name="need_accept_due"),
            models.Index(fields=["status", "resolve_due"], name="need_resolve_due"),
            # The reports' data fingerprint: the latest change (apps/reports/cache.py).
            models.Index(fields=["updated_at"], name="need_updated"),
            # The cadres' queue of open needs in priority order (NeedAdmin): a district's
            # first page reads 50 entries instead of sorting every open need.
            models.Index(
                priority_expression().desc(),
                F("created_at").asc(),
                F("id").desc(),
                name="need_open_queue",
                condition=Q(status__in=sorted(OPEN_STATUSES)),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    # --- state -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        now = timezone.now()
        if self.status == Status.SUBMITTED:
            return bool(self.accept_due and self.accept_due < now)
        if self.status in WORKING:
            return bool(self.resolve_due and self.resolve_due < now)
        return False

    def apply(
        self,
        action: str,
        *,
        by=None,
        actor: str,
        public_note: str = "",
        internal_note: str = "",
        at=None,
    ) -> NeedEvent:
        """Run one action through the state machine and record it on the timeline.

        The caller holds a row lock (``select_for_update``) and saves the need;
        an illegal action raises ``TransitionNotAllowed`` and changes nothing.
        """
        transition = transition_for(action, self.status)
        if not transition.allows(actor):
            raise TransitionNotAllowed(action, self.status)
        public_note, internal_note = public_note.strip(), internal_note.strip()
        if transition.needs_public_note and not public_note:
            raise ValidationError({"public_note": "请填写职工可以看到的说明。"})
        at = at or timezone.now()
        before = self.status
        if transition.target is not None:
            self.status = transition.target
        event = NeedEvent(
            need=self,
            action=action,
            actor=actor,
            by=by,
            from_status=before,
            to_status=self.status,
            public_note=public_note if transition.public else "",
            internal_note=internal_note if transition.public else (internal_note or public_note),
            is_public=transition.public,
            created_at=at,
        )
        return event


class NeedEventQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)


class NeedEvent(models.Model):
    """One entry of a need's audit trail: never edited or deleted through the UI."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=16, choices=Action.choices)
    actor = models.CharField("操作方", max_length=8, choices=Actor.choices)
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
    public_note = models.TextField("公开说明", max_length=3000, blank=True)
    internal_note = models.TextField("内部备注", max_length=3000, blank=True)
    is_public = models.BooleanField("职工可见", default=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    objects = NeedEventQuerySet.as_manager()

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["created_at", "id"]
        indexes = [
            # The need's timeline and report look-ups of first acceptance.
            models.Index(fields=["need", "created_at"], name="event_need_time"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


def attachment_path(instance, filename):
    """Random names outside the web root: the original name is kept only in the database."""
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"needs/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{suffix}"


class Attachment(models.Model):
    """A photo or PDF supporting a need; served to authorised users only."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件", upload_to=attachment_path)
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=50)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["id"]

    def __str__(self):
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Support(models.Model):
    """我也有此需求 — another worker shares a published need (once each)."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="supports")
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="supports", verbose_name="职工"
    )
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "“我也有此需求”"
        verbose_name_plural = "“我也有此需求”"
        constraints = [
            models.UniqueConstraint(fields=["need", "member"], name="support_once"),
        ]

    def __str__(self):
        return f"{self.member_id} → {self.need_id}"


class RatingQuerySet(models.QuerySet):
    def latest_per_need(self):
        """Each need's latest rating: a reopened need's earlier verdict no longer counts."""
        later = Rating.objects.filter(need=OuterRef("need")).filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
        )
        return self.filter(~Exists(later))


class Rating(models.Model):
    """The worker's answer after resolution: was it resolved, and how satisfied are they."""

    class Outcome(models.TextChoices):
        YES = "yes", "已解决"
        PARTLY = "partly", "部分解决"
        NO = "no", "未解决"

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="ratings")
    outcome = models.CharField("是否解决", max_length=8, choices=Outcome.choices)
    score = models.PositiveSmallIntegerField(
        "满意度", choices=[(i, f"{i} 分") for i in range(1, 6)]
    )
    comment = models.TextField("评价", max_length=1000, blank=True)
    created_at = models.DateTimeField("评价时间", default=timezone.now)

    objects = RatingQuerySet.as_manager()

    class Meta:
        verbose_name = "评价"
        verbose_name_plural = "评价"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.score} 分"

    SATISFIED_MIN_SCORE = 3

    @property
    def satisfied(self) -> bool:
        """Satisfied closes the need; "not resolved" or a low score reopens it."""
        return self.is_satisfied(self.outcome, self.score)

    @classmethod
    def is_satisfied(cls, outcome: str, score: int | None) -> bool:
        return outcome != cls.Outcome.NO and (score or 0) >= cls.SATISFIED_MIN_SCORE

    @classmethod
    def satisfied_q(cls, prefix: str = "") -> Q:
        """The same rule for the database: reports and follow-up checks count with it."""
        return ~Q(**{f"{prefix}outcome": cls.Outcome.NO}) & Q(
            **{f"{prefix}score__gte": cls.SATISFIED_MIN_SCORE}
        )


class Referral(models.Model):
    """转介 — the worker is referred on; the cadre keeps following the referral."""

    class Target(models.TextChoices):
        ARBITRATION = "arbitration", "劳动人事争议仲裁"
        INSPECTION = "inspection", "劳动保障监察"
        LEGAL_AID = "legal_aid", "法律援助中心"
        COURT = "court", "人民法院"
        OTHER = "other", "其他部门"

    class State(models.TextChoices):
        OPEN = "open", "跟进中"
        DONE = "done", "已有结果"

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="referrals")
    target = models.CharField("转介去向", max_length=16, choices=Target.choices)
    target_detail = models.CharField("具体部门", max_length=100, blank=True)
    state = models.CharField("跟进状态", max_length=8, choices=State.choices, default=State.OPEN)
    follow_up = models.TextField("跟进情况", max_length=2000, blank=True)
    created_at = models.DateTimeField("转介时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="转介人"
    )

    class Meta:
        verbose_name = "转介"
        verbose_name_plural = "转介"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_target_display()}（{self.get_state_display()}）"


class ReplyTemplate(models.Model):
    """A reply the district maintains per kind and status; cadres start from it."""

    title = models.CharField("名称", max_length=50)
    kind = models.CharField(
        "适用诉求类型", max_length=16, choices=Need.Kind.choices, blank=True, help_text="空为通用"
    )
    action = models.CharField(
        "适用操作",
        max_length=16,
        choices=[
            (a, Action(a).label)
            for a in (Action.ACCEPT, Action.REJECT, Action.REPLY, Action.REFER, Action.RESOLVE)
        ],
    )
    body = models.TextField("内容", max_length=2000)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "答复模板"
        verbose_name_plural = "答复模板"
        ordering = ["action", "kind", "title"]

    def __str__(self):
        return self.title


class TimeLimit(models.Model):
    """Working days allowed for a stage, per kind and urgency; set by the district."""

    class Stage(models.TextChoices):
        ACCEPT = "accept", "受理"
        RESOLVE = "resolve", "办结"
        ESCALATE = "escalate", "街道督办后升级县区"
        RATE = "rate", "等待评价（之后自动完结）"

    stage = models.CharField("环节", max_length=10, choices=Stage.choices)
    kind = models.CharField(
        "诉求类型", max_length=16, choices=Need.Kind.choices, blank=True, help_text="空为所有类型"
    )
    urgency = models.CharField(
        "紧急程度", max_length=10, choices=Need.Urgency.choices, blank=True, help_text="空为所有"
    )
    working_days = models.PositiveSmallIntegerField("工作日")

    class Meta:
        verbose_name = "办理时限"
        verbose_name_plural = "办理时限"
        ordering = ["stage", "kind", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "kind", "urgency"], name="time_limit_unique_rule"
            ),
            models.CheckConstraint(
                condition=Q(working_days__gte=1, working_days__lte=60),
                name="time_limit_sane_days",
            ),
        ]

    def __str__(self):
        parts = [self.get_stage_display()]
        if self.kind:
            parts.append(self.get_kind_display())
        if self.urgency:
            parts.append(self.get_urgency_display())
        return f"{' · '.join(parts)}：{self.working_days} 个工作日"
