"""回访抽查: drawing random samples of resolved needs and recording the telephone calls.

The check belongs to the reviewers (考核人员), independent of the cadres whose work
it checks: only users for whom ``scope.may_draw_follow_up`` holds draw a sample or
record a call, and only in the districts of their reviewer posts (superusers: any).
Every need of a sample was raised in the sample's period, is resolved or closed,
has its worker's consent to be called, and was never in an earlier sample.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import Random, RowNumber
from django.utils import timezone

from apps.needs.models import Need
from apps.needs.workflow import DONE
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import District, Street

from .filters import MAX_SPAN_DAYS
from .models import FollowUpCall, FollowUpSample
from .scope import may_draw_follow_up

MAX_PER_STREET = 50
NOT_A_REVIEWER = "只有考核人员可以进行回访抽查。"


# --- who, and over which part of the district ---------------------------------------------


def follow_up_scope(user) -> Jurisdiction:
    """Where the user may draw and call: their reviewer posts (superusers: everything)."""
    if not may_draw_follow_up(user):
        return Jurisdiction()
    return Jurisdiction.for_user(user, role="reviewer")


def _covers_street(scope: Jurisdiction, street: Street) -> bool:
    return (
        scope.everything
        or street.pk in scope.street_ids
        or street.district_id in scope.district_ids
    )


def _covers_sample(scope: Jurisdiction, sample: FollowUpSample) -> bool:
    return (
        scope.everything
        or sample.district_id in scope.district_ids
        or (sample.street_id is not None and sample.street_id in scope.street_ids)
    )


def follow_up_districts(scope: Jurisdiction) -> QuerySet[District]:
    """The districts a sample of the whole district may be drawn in."""
    if scope.everything:
        return District.objects.order_by("code")
    return District.objects.filter(pk__in=scope.district_ids).order_by("code")


def _district_for(scope: Jurisdiction, *, street: Street | None, district: District | None):
    if street is not None:
        if not _covers_street(scope, street):
            raise PermissionDenied("该街道（开发区）不在您考核的范围内。")
        if district is not None and district.pk != street.district_id:
            raise ValidationError({"street": "所选街道（开发区）不属于所选县区。"})
        return street.district
    if district is not None:
        if not (scope.everything or district.pk in scope.district_ids):
            raise PermissionDenied("该县区不在您考核的范围内。")
        return district
    districts = list(follow_up_districts(scope)[:2])
    if len(districts) != 1:
        # A reviewer posted at a street only, or a superuser over several districts.
        raise ValidationError({"street": "请选择要抽查的街道（开发区）。"})
    return districts[0]


# --- what may be drawn ----------------------------------------------------------------------


def local_midnight(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day``: periods are local dates, inclusive."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValidationError({"end": "截止日期不能早于起始日期。"})
    if (end - start).days > MAX_SPAN_DAYS:
        raise ValidationError({"end": "抽查期间最长为 5 年。"})


def follow_up_candidates(
    *, district: District, start: dt.date, end: dt.date, street: Street | None = None
) -> QuerySet[Need]:
    """Needs a sample may take: raised in [start, end] (local dates), now resolved or
    closed, with the worker's consent to be called, and not in any earlier sample.

    Consent is required of every need; a confidential one is therefore called only
    when its worker agreed to it.
    """
    sampled = FollowUpCall.objects.filter(need=OuterRef("pk"))
    needs = Need.objects.filter(
        workstation__street__district=district,
        created_at__gte=local_midnight(start),
        created_at__lt=local_midnight(end + dt.timedelta(days=1)),
        status__in=DONE,
        follow_up_consent=True,
    ).filter(~Exists(sampled))
    if street is not None:
        needs = needs.filter(workstation__street=street)
    return needs


def _save_sample(
    *, district, street, start, end, per_street, by, at, picks: Iterable[tuple[int, int]]
) -> FollowUpSample:
    sample = FollowUpSample(
        district=district,
        street=street,
        period_start=start,
        period_end=end,
        per_street=per_street,
        drawn_by=by,
        drawn_at=at or timezone.now(),
    )
    sample.full_clean()
    sample.save()
    FollowUpCall.objects.bulk_create(
        [FollowUpCall(sample=sample, need_id=need_id, street_id=s) for need_id, s in picks]
    )
    return sample


def _check_size(per_street: int) -> None:
    if not 1 <= per_street <= MAX_PER_STREET:
        raise ValidationError({"per_street": f"每个街道（开发区）抽取 1–{MAX_PER_STREET} 件。"})


def _lock_district(district: District) -> None:
    # One draw at a time per district, so that no need lands in two samples.
    list(District.objects.select_for_update().filter(pk=district.pk).values_list("pk"))


# --- the services ---------------------------------------------------------------------------


@transaction.atomic
def draw_follow_up_sample(
    *,
    by,
    start: dt.date,
    end: dt.date,
    per_street: int,
    street: Street | None = None,
    district: District | None = None,
    at: dt.datetime | None = None,
) -> FollowUpSample:
    """Draw up to ``per_street`` random needs in each street of the district (or in one street).

    The random pick happens in the database, for all streets in one query (row
    numbers in a random order per street). A draw that finds nothing is still
    recorded, with no calls: that the period had nothing to check is a finding too.
    """
    if not may_draw_follow_up(by):
        raise PermissionDenied(NOT_A_REVIEWER)
    check_period(start, end)
    _check_size(per_street)
    district = _district_for(follow_up_scope(by), street=street, district=district)
    _lock_district(district)
    position = Window(RowNumber(), partition_by=F("workstation__street_id"), order_by=Random())
    picks = (
        follow_up_candidates(district=district, start=start, end=end, street=street)
        .order_by()
        .annotate(position=position)
        .filter(position__lte=per_street)
        .values_list("pk", "workstation__street_id", "workstation__street__order")
    )
    # Calls are listed street by street, in the order the district lists its streets.
    ordered = sorted(picks, key=lambda p: (p[2], p[1], p[0]))
    return _save_sample(
        district=district,
        street=street,
        start=start,
        end=end,
        per_street=per_street,
        by=by,
        at=at,
        picks=[(need_id, street_id) for need_id, street_id, _ in ordered],
    )


@transaction.atomic
def follow_up_sample_replay(
    *,
    by,
    start: dt.date,
    end: dt.date,
    per_street: int,
    needs: list[Need],
    street: Street | None = None,
    district: District | None = None,
    at: dt.datetime | None = None,
) -> FollowUpSample:
    """Record a sample drawn elsewhere (the demo's history), held to the draw's rules.

    Each need must be one the draw could have picked at ``at``: a candidate now,
    resolved by then, at most ``per_street`` in a street.
    """
    if not may_draw_follow_up(by):
        raise PermissionDenied(NOT_A_REVIEWER)
    check_period(start, end)
    _check_size(per_street)
    district = _district_for(follow_up_scope(by), street=street, district=district)
    _lock_district(district)
    at = at or timezone.now()
    ids = [need.pk for need in needs]
    if len(set(ids)) != len(ids):
        raise ValidationError("同一件诉求不能重复抽取。")
    allowed = dict(
        follow_up_candidates(district=district, start=start, end=end, street=street)
        .filter(pk__in=ids, resolved_at__lte=at)
        .values_list("pk", "workstation__street_id")
    )
    refused = [need.number for need in needs if need.pk not in allowed]
    if refused:
        raise ValidationError(
            f"诉求 {'、'.join(refused)} 不符合抽取条件（须在期间内提出、抽取时已办结、"
            "职工同意回访、未被抽取过）。"
        )
    crowded = [s for s, n in Counter(allowed.values()).items() if n > per_street]
    if crowded:
        raise ValidationError(f"每个街道（开发区）最多抽取 {per_street} 件。")
    return _save_sample(
        district=district,
        street=street,
        start=start,
        end=end,
        per_street=per_street,
        by=by,
        at=at,
        picks=[(pk, allowed[pk]) for pk in ids],
    )


@transaction.atomic
def record_follow_up_call(
    *,
    call: FollowUpCall,
    by,
    reached: bool | None,
    outcome: str = "",
    score: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> FollowUpCall:
    """Record what the worker said (or that nobody answered); recording again corrects it."""
    call = (
        FollowUpCall.objects.select_for_update(of=("self",))
        .select_related("sample", "need")
        .get(pk=call.pk)
    )
    if not may_draw_follow_up(by) or not _covers_sample(follow_up_scope(by), call.sample):
        raise PermissionDenied("您不能记录这一批抽查的回访。")
    if reached is None:
        raise ValidationError({"reached": "请选择是否接通。"})
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": "回访记录不能超过 1000 字。"})
    if reached:
        errors = {}
        if outcome not in FollowUpCall.Outcome.values:
            errors["outcome"] = "接通后请选择问题是否解决。"
        if score is None or not 1 <= score <= 5:
            errors["score"] = "接通后请选择满意度（1–5 分）。"
        if errors:
            raise ValidationError(errors)
    else:
        # Nobody answered: there is no answer to keep, whatever was recorded before.
        outcome, score = "", None
    call.reached = bool(reached)
    call.outcome = outcome
    call.score = score
    call.note = note
    call.called_at = at or timezone.now()
    call.called_by = by
    call.save(update_fields=["reached", "outcome", "score", "note", "called_at", "called_by"])
    return call
