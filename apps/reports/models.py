"""What the reports keep: the district's ranking weights and the follow-up samples."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.needs.models import Need, Rating
from apps.workstations.jurisdiction import JurisdictionQuerySet
from apps.workstations.models import District, Street


class RankingWeights(models.Model):
    """考核权重: how the district weighs the four parts of a workstation's score."""

    DEFAULTS = {"responsiveness": 30, "resolution": 30, "satisfaction": 25, "projects": 15}

    district = models.OneToOneField(
        District, on_delete=models.CASCADE, related_name="ranking_weights", verbose_name="县区"
    )
    responsiveness = models.PositiveSmallIntegerField(
        "响应（及时受理率）权重", default=30, validators=[MaxValueValidator(100)]
    )
    resolution = models.PositiveSmallIntegerField(
        "办结（办结率）权重", default=30, validators=[MaxValueValidator(100)]
    )
    satisfaction = models.PositiveSmallIntegerField(
        "满意（满意率）权重", default=25, validators=[MaxValueValidator(100)]
    )
    projects = models.PositiveSmallIntegerField(
        "项目（验收得分）权重", default=15, validators=[MaxValueValidator(100)]
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修改人",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = JurisdictionQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {
        "district": "district",
        "street": "district__streets",
        "workstation": "district__streets__workstations",
    }

    class Meta:
        verbose_name = "考核权重"
        verbose_name_plural = "考核权重"
        constraints = [
            models.CheckConstraint(
                condition=Q(responsiveness__gt=0)
                | Q(resolution__gt=0)
                | Q(satisfaction__gt=0)
                | Q(projects__gt=0),
                name="ranking_weights_not_all_zero",
                violation_error_message="四项权重不能全为 0。",
            ),
            models.CheckConstraint(
                condition=Q(responsiveness__lte=100)
                & Q(resolution__lte=100)
                & Q(satisfaction__lte=100)
                & Q(projects__lte=100),
                name="ranking_weights_at_most_100",
                violation_error_message="每项权重不能超过 100。",
            ),
        ]

    def __str__(self):
        return f"{self.district} 考核权重"

    @classmethod
    def for_district(cls, district_id: int | None) -> dict[str, int]:
        """The district's weights, or the defaults when none are set (one query)."""
        if district_id is not None:
            row = cls.objects.filter(district_id=district_id).values(*cls.DEFAULTS).first()
            if row:
                return row
        return dict(cls.DEFAULTS)

    @property
    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.DEFAULTS}


class FollowUpSample(models.Model):
    """回访抽查: one random draw of resolved needs per street, for telephone checks."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="follow_up_samples", verbose_name="县区"
    )
    street = models.ForeignKey(
        Street,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_samples",
        verbose_name="街道（开发区）",
        help_text="空表示全区各街道（开发区）",
    )
    period_start = models.DateField("诉求提出起始日")
    period_end = models.DateField("诉求提出截止日")
    per_street = models.PositiveSmallIntegerField(
        "每个街道抽取件数", validators=[MaxValueValidator(50)]
    )
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="抽取人"
    )
    drawn_at = models.DateTimeField("抽取时间", default=timezone.now)

    objects = JurisdictionQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {
        "district": "district",
        "street": "district__streets",
        "workstation": "district__streets__workstations",
    }

    class Meta:
        verbose_name = "回访抽查"
        verbose_name_plural = "回访抽查"
        ordering = ["-drawn_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="follow_up_period_in_order",
                violation_error_message="截止日期不能早于起始日期。",
            ),
            models.CheckConstraint(
                condition=Q(per_street__gte=1, per_street__lte=50),
                name="follow_up_sample_size",
                violation_error_message="每个街道抽取 1–50 件。",
            ),
        ]

    def __str__(self):
        return f"回访抽查 {timezone.localtime(self.drawn_at):%Y-%m-%d %H:%M}"


FOLLOW_UP_LOOKUPS = {
    "district": "street__district",
    "street": "street",
    "workstation": "need__workstation",
}


class FollowUpCall(models.Model):
    """One sampled need and what its worker said on the phone."""

    Outcome = Rating.Outcome

    sample = models.ForeignKey(
        FollowUpSample, on_delete=models.CASCADE, related_name="calls", verbose_name="抽查批次"
    )
    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="follow_up_calls", verbose_name="诉求"
    )
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="+", verbose_name="街道（开发区）"
    )
    called_at = models.DateTimeField("回访时间", null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="回访人",
    )
    reached = models.BooleanField("接通", null=True, blank=True)
    outcome = models.CharField("是否解决", max_length=8, choices=Outcome.choices, blank=True)
    score = models.PositiveSmallIntegerField(
        "满意度", null=True, blank=True, choices=[(i, f"{i} 分") for i in range(1, 6)]
    )
    note = models.TextField("回访记录", max_length=1000, blank=True)

    objects = JurisdictionQuerySet.as_manager()
    JURISDICTION_LOOKUPS = FOLLOW_UP_LOOKUPS

    class Meta:
        verbose_name = "回访记录"
        verbose_name_plural = "回访记录"
        ordering = ["street__order", "street_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "need"], name="follow_up_need_once"),
            models.CheckConstraint(
                condition=Q(reached__isnull=True) | Q(called_at__isnull=False),
                name="follow_up_call_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(reached=True) | (~Q(outcome="") & Q(score__isnull=False)),
                name="follow_up_reached_has_answer",
                violation_error_message="接通后须记录是否解决和满意度。",
            ),
            models.CheckConstraint(
                condition=Q(reached=True) | (Q(outcome="") & Q(score__isnull=True)),
                name="follow_up_unreached_has_no_answer",
                violation_error_message="未接通时不能记录答复。",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="follow_up_score_1_to_5",
            ),
        ]

    def __str__(self):
        return f"回访 {self.need.number}"

    @property
    def satisfied(self) -> bool | None:
        if not self.reached:
            return None
        return Rating.is_satisfied(self.outcome, self.score)
