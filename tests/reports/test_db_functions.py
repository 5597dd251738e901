"""apps/core/db.py: PercentileCont and DaysBetween against values worked out by hand.

percentile_cont interpolates linearly: for n sorted values the fraction f sits at
position (n − 1) × f, between the values at floor and ceil of it. NULLs are ignored,
a group of one gives its value, an empty set gives NULL — the same on PostgreSQL
(its own ``percentile_cont``) and on SQLite (the aggregate registered on connect).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from apps.core.db import DaysBetween, PercentileCont, percentile_cont
from apps.needs import services as need_services
from apps.needs.models import Need, ServiceArea
from apps.projects.models import ServiceProject
from apps.workstations.models import Unit

pytestmark = pytest.mark.django_db

approx = pytest.approx


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


@pytest.fixture
def headcounts(ws_a1, ownerships):
    """Units by industry: 制造业 4 1 3 2 (unsorted), 物流业 10 20, 零售业 7."""
    rows = [("制造业", 4), ("制造业", 1), ("制造业", 3), ("制造业", 2)]
    rows += [("物流业", 10), ("物流业", 20), ("零售业", 7)]
    Unit.objects.bulk_create(
        Unit(
            workstation=ws_a1,
            name=f"单位{i}",
            ownership=ownerships["private"],
            industry=industry,
            headcount=headcount,
        )
        for i, (industry, headcount) in enumerate(rows)
    )
    return Unit.objects.all()


def by_industry(units, **aggregates):
    rows = units.order_by().values("industry").annotate(**aggregates)
    return {row.pop("industry"): row for row in rows}


def test_percentiles_interpolate_within_each_group(headcounts):
    rows = by_industry(
        headcounts,
        p0=PercentileCont("headcount", 0),
        p25=PercentileCont("headcount", 0.25),
        p50=PercentileCont("headcount", 0.5),
        p90=PercentileCont("headcount", 0.9),
        p100=PercentileCont("headcount", 1),
    )
    # 1 2 3 4: p25 at 0.75 → 1 + 0.75 × 1; p50 at 1.5 → 2.5; p90 at 2.7 → 3 + 0.7 × 1
    assert rows["制造业"] == approx({"p0": 1.0, "p25": 1.75, "p50": 2.5, "p90": 3.7, "p100": 4.0})
    # 10 20: p50 at 0.5 → 15; p90 at 0.9 → 19
    assert rows["物流业"] == approx(
        {"p0": 10.0, "p25": 12.5, "p50": 15.0, "p90": 19.0, "p100": 20.0}
    )
    # A group of one is its value at every fraction.
    assert rows["零售业"] == approx({"p0": 7.0, "p25": 7.0, "p50": 7.0, "p90": 7.0, "p100": 7.0})


def test_percentile_over_everything_and_over_nothing(headcounts):
    # 1 2 3 4 7 10 20: p50 at 3 → 4; p90 at 5.4 → 10 + 0.4 × 10
    assert headcounts.aggregate(
        p50=PercentileCont("headcount", 0.5), p90=PercentileCont("headcount", 0.9)
    ) == approx({"p50": 4.0, "p90": 14.0})
    # An empty set: no rows match, and a query Django knows to be empty.
    empty = headcounts.filter(industry="采矿业").aggregate(p=PercentileCont("headcount", 0.5))
    assert empty == {"p": None}
    assert headcounts.none().aggregate(p=PercentileCont("headcount", 0.5)) == {"p": None}


def test_percentile_in_the_same_query_as_counts(headcounts, django_assert_num_queries):
    from django.db.models import Count, Sum

    with django_assert_num_queries(1):
        rows = by_industry(
            headcounts, n=Count("pk"), total=Sum("headcount"), p50=PercentileCont("headcount", 0.5)
        )
    assert rows["制造业"]["n"] == 4
    assert rows["制造业"]["total"] == 10
    assert rows["制造业"]["p50"] == approx(2.5)


def test_percentile_ignores_nulls(street_a, district_cadre, reference):
    """Acceptance scores 40, —, 90, 70, — (two projects not yet accepted)."""
    area = ServiceArea.objects.get(code="rights")
    for i, score in enumerate(["40", None, "90", "70", None]):
        ServiceProject.objects.create(
            number=f"XM2025{i:05d}",
            title=f"项目{i}",
            summary="项目",
            kind=ServiceProject.Kind.PRACTICAL,
            area=area,
            beneficiary=ServiceProject.Beneficiary.WORKERS,
            street=street_a,
            lead=district_cadre,
            planned_start=dt.date(2025, 3, 1),
            planned_end=dt.date(2025, 4, 30),
            acceptance_score=Decimal(score) if score else None,
            created_by=district_cadre,
        )
    projects = ServiceProject.objects.all()
    # 40 70 90: p50 → 70; p90 at 1.8 → 70 + 0.8 × 20 (the NULLs neither count nor sort)
    assert projects.aggregate(
        p50=PercentileCont("acceptance_score", 0.5), p90=PercentileCont("acceptance_score", 0.9)
    ) == approx({"p50": 70.0, "p90": 86.0})
    only_nulls = projects.filter(acceptance_score__isnull=True)
    assert only_nulls.aggregate(p=PercentileCont("acceptance_score", 0.5)) == {"p": None}


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_fraction_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError):
        PercentileCont("headcount", fraction)


def test_python_percentile_cont():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([5], 0.9) == 5
    assert percentile_cont([4, 1, 3, 2], 0.5) == approx(2.5)
    assert percentile_cont([4, 1, 3, 2], 0.9) == approx(3.7)
    assert percentile_cont(range(1, 11), 0.9) == approx(9.1)  # at 8.1


# --- DaysBetween ------------------------------------------------------------------------


@pytest.fixture
def timed_needs(worker, zone_worker, reference):
    """created → accepted → resolved, local time:

    n1 ws_a1  03-01 00:00 → 03-02 12:00 (1.5)  → 03-31 06:00 (30.25)
    n2 ws_b1  2025-12-31 18:00 → 2026-01-01 06:00 (0.5) → —
    n3 ws_a1  03-10 09:00 → —                  → —
    n4 ws_a1  02-27 09:00 → 03-01 09:00 (2.0)  → 03-03 21:00 (4.5)
    """
    plan = [
        ("n1", worker, local(2025, 3, 1, 0, 0), local(2025, 3, 2, 12, 0), local(2025, 3, 31, 6)),
        ("n2", zone_worker, local(2025, 12, 31, 18), local(2026, 1, 1, 6), None),
        ("n3", worker, local(2025, 3, 10, 9), None, None),
        ("n4", worker, local(2025, 2, 27, 9), local(2025, 3, 1, 9), local(2025, 3, 3, 21)),
    ]
    needs = {}
    for key, member, created, accepted, resolved in plan:
        need = need_services.need_submit(
            member=member,
            kind=Need.Kind.HELP,
            area=ServiceArea.objects.get(code="rights"),
            rights_type=Need.RightsType.LABOUR_ECONOMIC,
            title=key,
            description="诉求",
            at=created,
        )
        Need.objects.filter(pk=need.pk).update(accepted_at=accepted, resolved_at=resolved)
        needs[key] = need.pk
    return needs


def test_days_between_in_fractional_days(timed_needs):
    rows = {
        row["title"]: row
        for row in Need.objects.annotate(
            to_accept=DaysBetween(F("accepted_at"), F("created_at")),
            to_resolve=DaysBetween(F("resolved_at"), F("created_at")),
            backwards=DaysBetween(F("created_at"), F("accepted_at")),
        ).values("title", "to_accept", "to_resolve", "backwards")
    }
    assert rows["n1"]["to_accept"] == approx(1.5)
    assert rows["n1"]["to_resolve"] == approx(30.25)
    assert rows["n1"]["backwards"] == approx(-1.5)
    assert rows["n2"]["to_accept"] == approx(0.5)  # across the new year
    assert rows["n4"]["to_accept"] == approx(2.0)  # across the end of February
    assert rows["n4"]["to_resolve"] == approx(4.5)
    # NULL when either stamp is missing.
    assert rows["n2"]["to_resolve"] is None
    assert rows["n3"]["to_accept"] is None
    assert rows["n3"]["backwards"] is None


def test_percentile_of_days_between_by_workstation(timed_needs, ws_a1, ws_b1):
    days = DaysBetween(F("accepted_at"), F("created_at"))
    rows = {
        row["workstation"]: row
        for row in Need.objects.order_by()
        .values("workstation")
        .annotate(p50=PercentileCont(days, 0.5), p90=PercentileCont(days, 0.9))
    }
    # ws_a1: 1.5, 2.0 (n3 not accepted: ignored) → p50 1.75; p90 at 0.9 → 1.5 + 0.9 × 0.5
    assert rows[ws_a1.pk]["p50"] == approx(1.75)
    assert rows[ws_a1.pk]["p90"] == approx(1.95)
    # ws_b1: one need
    assert rows[ws_b1.pk]["p50"] == approx(0.5)
    assert rows[ws_b1.pk]["p90"] == approx(0.5)
