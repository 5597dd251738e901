"""build_report against figures worked out by hand (definitions: docs/reports.md).

The district, its needs and projects are tabled in tests/reports/conftest.py; every
expected number below is computed from those tables on paper — the working is in the
comments — and never by aggregating in the test. Days are calendar days between the
stamps; medians and p90 interpolate linearly between the closest ranks (position
(n − 1) × fraction in the sorted list).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.privacy import mask_mobile
from apps.members import services as member_services
from apps.needs import services as need_services
from apps.needs.models import Need, Rating
from apps.projects.models import ServiceProject
from apps.projects.workflow import Status as ProjectStatus
from apps.reports.filters import Period, ReportParams
from apps.reports.metrics import build_report
from apps.reports.models import FollowUpCall, RankingWeights
from apps.workstations.models import Street, Unit, Workstation

from .conftest import day

approx = pytest.approx

# Only the row's raised count is shown for a group of fewer than 5 needs.
HIDDEN = [
    "per_thousand",
    "effective",
    "accepted",
    "accepted_share",
    "resolved",
    "resolution_rate",
    "accept_p50",
    "accept_p90",
    "resolve_p50",
    "resolve_p90",
    "overdue",
    "overdue_share",
    "escalated",
    "satisfaction_rate",
    "mean_score",
]

# The figures of the whole district (36 needs raised in the period; X1 and X2 are not).
TOTAL = {
    "raised": 36,
    "effective": 32,  # minus N7, B6 (withdrawn) and M6, C6 (merged)
    "accepted": 26,  # street A 13 + street B 13
    "accepted_share": 26 / 32,
    "resolved": 18,  # 9 + 9
    "resolution_rate": 18 / 32,  # 0.5625
    # days to resolve, all 18: 2 3 3 4 4 5 5 5 6 | 7 7 8 9 9 10 12 14 15 → (6 + 7) / 2
    "resolve_p50": 6.5,
    "overdue": 11,  # N4 N5 N6 M5 M8 · B2 B4 B5 B7 C5 C8
    "overdue_share": 11 / 32,
    "escalated": 4,  # N5 N6 B4 B5 (X2 is outside the period)
    # latest ratings: N1 N2 N3 M1 M2 L1 B1 B2 B3 B11 C1 C2 satisfied; M4 (no, 1), C4 (2) not
    "satisfaction_rate": 12 / 14,
    "mean_score": 55 / 14,  # A 5+3+4+5+4+1+5 = 27, B 5+3+4+5+5+4+2 = 28
}


# --- helpers ----------------------------------------------------------------------------


def report_for(world, **kw):
    return build_report(world.params(**kw))


def dimension(report, key):
    (found,) = [d for d in report.balance if d.key == key]
    return found


def row_by(table, value, field="label"):
    rows = [row for row in table.rows if row.get(field) == value]
    assert len(rows) == 1, f"{table.key}: {len(rows)} rows with {field}={value!r}"
    return rows[0]


def assert_figures(row, expected):
    """Ints and None exactly, floats to within rounding."""
    for key, value in expected.items():
        actual = row.get(key)
        if value is None or isinstance(value, bool):
            assert actual is value, f"{key}: {actual!r} ≠ {value!r}"
        elif isinstance(value, float):
            assert actual is not None and float(actual) == approx(value), (
                f"{key}: {actual!r} ≠ {value!r}"
            )
        else:
            assert actual == value, f"{key}: {actual!r} ≠ {value!r}"


def assert_small(row, raised):
    assert row["raised"] == raised
    assert_figures(row, {key: None for key in HIDDEN if key in row})


# --- balance (发展不够平衡) ---------------------------------------------------------------


def test_balance_by_street(report_world):
    w = report_world
    table = dimension(report_for(w), "street").table

    assert [row["label"] for row in table.rows] == ["东湖街道", "高新开发区"]
    assert_figures(
        row_by(table, "东湖街道"),
        {
            "raised": 19,  # ws_a1 8 + ws_a2 8 + ws_a3 3
            "members": 5,
            "per_thousand": 3800.0,  # 19 × 1000 / 5
            "effective": 17,  # minus N7 (withdrawn), M6 (merged)
            "accepted": 13,  # N1–N5, M1–M5, M7, L1, L3
            "accepted_share": 13 / 17,
            "resolved": 9,  # N1–N4, M1–M3, M7, L1
            "resolution_rate": 9 / 17,
            "resolve_p50": 6.0,  # 2 3 3 5 [6] 8 9 10 12
            "overdue": 5,  # N4 late accept, N5/N6/M8 open past due, M5 late accept
            "overdue_share": 5 / 17,
            "escalated": 2,  # N5, N6
            "satisfaction_rate": 6 / 7,  # N1 N2 N3(latest: yes 4) M1 M2 L1 / + M4 (no, 1)
            "mean_score": 27 / 7,
        },
    )
    assert_figures(
        row_by(table, "高新开发区"),
        {
            "raised": 17,  # ws_b1 9 + ws_b2 8
            "members": 5,  # b1 b1x b2 b2x b3 (a1p pending, a2n and u not members)
            "per_thousand": 3400.0,
            "effective": 15,  # minus B6 (withdrawn), C6 (merged)
            "accepted": 13,  # B1–B5, B11, B12, C1–C5, C7
            "accepted_share": 13 / 15,
            "resolved": 9,  # B1–B4, B11, C1–C3, C7
            "resolution_rate": 0.6,
            "resolve_p50": 7.0,  # 4 4 5 5 [7] 7 9 14 15
            "overdue": 6,  # B2 late resolve, B4/C5 late accept, B5/B7/C8 open past due
            "overdue_share": 0.4,
            "escalated": 2,  # B4, B5
            "satisfaction_rate": 6 / 7,  # all but C4 (partly, 2)
            "mean_score": 4.0,  # 5 3 4 5 5 4 2
        },
    )
    assert_figures(table.total, {**TOTAL, "members": 10, "per_thousand": 3600.0})


def test_balance_by_ownership(report_world):
    table = dimension(report_for(report_world), "ownership").table

    assert_figures(
        row_by(table, "国有企业"),  # ws_a1 (N1–N8) and ws_b2 (C1–C8)
        {
            "raised": 16,
            "members": 4,  # a1 a1x b2 b2x
            "per_thousand": 4000.0,
            "effective": 14,
            "accepted": 11,
            "accepted_share": 11 / 14,
            "resolved": 8,
            "resolution_rate": 8 / 14,
            "resolve_p50": 8.0,  # 4 5 5 7 | 9 9 10 12 → (7 + 9) / 2
            "overdue": 5,  # N4 N5 N6 C5 C8
            "overdue_share": 5 / 14,
            "escalated": 2,
            "satisfaction_rate": 5 / 6,  # N1 N2 N3 C1 C2 / C4
            "mean_score": 23 / 6,
        },
    )
    assert_figures(
        row_by(table, "私营企业"),  # ws_a2 (M1–M8) and ws_a3 (L1–L3)
        {
            "raised": 11,
            "members": 3,  # a2 a2x a3
            "per_thousand": 11000 / 3,
            "effective": 10,
            "accepted": 8,
            "accepted_share": 0.8,
            "resolved": 5,
            "resolution_rate": 0.5,
            "resolve_p50": 3.0,  # 2 3 [3] 6 8
            "overdue": 2,  # M5 M8
            "overdue_share": 0.2,
            "escalated": 0,
            "satisfaction_rate": 0.75,  # M1 M2 L1 / M4
            "mean_score": 3.75,
        },
    )
    assert_figures(
        row_by(table, "外商投资企业"),  # B1–B4, B6, B7, B11
        {
            "raised": 7,
            "members": 2,
            "per_thousand": 3500.0,
            "effective": 6,
            "accepted": 5,
            "accepted_share": 5 / 6,
            "resolved": 5,
            "resolution_rate": 5 / 6,
            "resolve_p50": 7.0,  # 4 5 [7] 14 15
            "overdue": 3,  # B2 B4 B7
            "overdue_share": 0.5,
            "escalated": 1,  # B4
            "satisfaction_rate": 1.0,
            "mean_score": 4.25,
        },
    )
    # B5 and B12, raised by the worker with no unit: fewer than 5 — the count only.
    assert_small(row_by(table, "未登记单位"), 2)
    assert row_by(table, "集体企业")["raised"] == 0
    assert_figures(table.total, {**TOTAL, "members": 10, "per_thousand": 3600.0})


def test_balance_by_rights_type(report_world):
    table = dimension(report_for(report_world), "rights").table

    assert "per_thousand" not in {column.key for column in table.columns}
    assert_figures(
        row_by(table, "劳动经济权益"),
        {
            "raised": 28,
            "per_thousand": None,
            "effective": 25,
            "accepted": 20,
            "accepted_share": 0.8,
            "resolved": 13,
            "resolution_rate": 0.52,
            # 3 3 4 4 5 5 [5] 6 7 9 10 14 15
            "resolve_p50": 5.0,
            "overdue": 11,
            "overdue_share": 0.44,
            "escalated": 4,
            "satisfaction_rate": 10 / 11,
            "mean_score": 45 / 11,
        },
    )
    assert_figures(
        row_by(table, "民主政治权益"),  # N3 M3 M7 L2 B3 B6 C3 C4
        {
            "raised": 8,
            "per_thousand": None,
            "effective": 7,
            "accepted": 6,
            "accepted_share": 6 / 7,
            "resolved": 5,
            "resolution_rate": 5 / 7,
            "resolve_p50": 8.0,  # 2 7 [8] 9 12
            "overdue": 0,
            "overdue_share": 0.0,
            "escalated": 0,
            "satisfaction_rate": 2 / 3,  # N3 B3 / C4
            "mean_score": 10 / 3,
        },
    )
    assert_figures(table.total, {**TOTAL, "per_thousand": None})


def test_balance_by_channel(report_world):
    table = dimension(report_for(report_world), "channel").table

    assert "per_thousand" not in {column.key for column in table.columns}
    assert_figures(
        row_by(table, True, field="key"),
        {
            "raised": 28,
            "effective": 24,
            "accepted": 20,
            "accepted_share": 20 / 24,
            "resolved": 13,
            "resolution_rate": 13 / 24,
            "resolve_p50": 6.0,  # 3 4 4 5 5 5 [6] 8 9 9 10 14 15
            "overdue": 10,
            "overdue_share": 10 / 24,
            "escalated": 4,
            "satisfaction_rate": 0.8,
            "mean_score": 3.9,
        },
    )
    # Offline: N3 N8 M2 M7 B3 B12 C2 C8 (visits and hotline calls).
    assert_figures(
        row_by(table, False, field="key"),
        {
            "raised": 8,
            "effective": 8,
            "accepted": 6,
            "accepted_share": 0.75,
            "resolved": 5,
            "resolution_rate": 0.625,
            "resolve_p50": 7.0,  # 2 3 [7] 7 12
            "overdue": 1,  # C8
            "overdue_share": 0.125,
            "escalated": 0,
            "satisfaction_rate": 1.0,
            "mean_score": 4.0,
        },
    )


def test_balance_by_service_area(report_world):
    table = dimension(report_for(report_world), "area").table

    assert_figures(
        row_by(table, "维护合法权益"),
        {
            "raised": 18,
            "effective": 16,
            "accepted": 13,
            "accepted_share": 13 / 16,
            "resolved": 9,
            "resolution_rate": 9 / 16,
            "resolve_p50": 5.0,  # 4 4 5 5 [5] 6 9 10 14
            "overdue": 6,  # N4 N6 M5 B2 B5 C8
            "overdue_share": 6 / 16,
            "escalated": 2,
            "satisfaction_rate": 7 / 9,  # M4 and C4 not satisfied
            "mean_score": 34 / 9,
        },
    )
    assert_figures(
        row_by(table, "普惠职工群众"),
        {
            "raised": 7,
            "effective": 6,
            "accepted": 5,
            "accepted_share": 5 / 6,
            "resolved": 4,
            "resolution_rate": 4 / 6,
            "resolve_p50": 8.0,  # 3 7 | 9 12
            "overdue": 0,
            "overdue_share": 0.0,
            "satisfaction_rate": 1.0,
            "mean_score": 4.0,
        },
    )
    assert_figures(
        row_by(table, "职工素质提升"),
        {
            "raised": 8,
            "effective": 7,
            "accepted": 6,
            "accepted_share": 6 / 7,
            "resolved": 3,
            "resolution_rate": 3 / 7,
            "resolve_p50": 8.0,  # 7 [8] 15
            "overdue": 4,  # N5 B4 B7 C5
            "overdue_share": 4 / 7,
            "escalated": 2,
            "satisfaction_rate": 1.0,  # C2 only
            "mean_score": 4.0,
        },
    )
    assert_small(row_by(table, "职工文化阵地"), 3)  # M7 M8 L1
    assert row_by(table, "基层基础建设")["raised"] == 0


def test_imbalance_indicators(report_world):
    report = report_for(report_world)

    street = dimension(report, "street")
    # rates 9/17 and 10.2/17: mean 9.6/17, population sd 0.6/17 → 0.6 / 9.6
    assert street.cv_resolution == approx(0.0625)
    # 3800 and 3400: mean 3600, sd 200
    assert street.cv_per_thousand == approx(200 / 3600)

    ownership = dimension(report, "ownership")
    # 4/7, 1/2, 5/6 (未登记单位 0/2 is a small group and left out) = 24, 21, 35 in 42nds:
    # mean 80/3, deviations −8/3, −17/3, 25/3 → sd √(978/27) ; cv = sd / mean
    assert ownership.cv_resolution == approx((978 / 27) ** 0.5 / (80 / 3))

    rights = dimension(report, "rights")
    # 0.52 and 5/7: cv = |difference| / sum
    assert rights.cv_resolution == approx((5 / 7 - 0.52) / (5 / 7 + 0.52))
    assert rights.cv_per_thousand is None

    channel = dimension(report, "channel")
    assert channel.cv_resolution == approx((0.625 - 13 / 24) / (0.625 + 13 / 24))  # 1/14
    assert channel.cv_per_thousand is None

    area = dimension(report, "area")
    # 9/16, 4/6, 3/7 (职工文化阵地 has 3 needs: left out) = 189, 224, 144 in 336ths:
    # mean 557/3, deviations 10/3, 115/3, −125/3 → variance 28950/27
    assert area.cv_resolution == approx((28950 / 27) ** 0.5 / (557 / 3))


def test_imbalance_leaves_out_groups_without_needs(report_world):
    """集体企业 has a member and no needs: fewer than 5, so not part of the indicator."""
    ownership = dimension(report_for(report_world), "ownership")
    # 4000, 11000/3, 3500 = 12000, 11000, 10500 in thirds: mean 33500/3,
    # deviations 2500/3, −500/3, −2000/3 → variance (2500² + 500² + 2000²) / 27
    sd = ((2500**2 + 500**2 + 2000**2) / 27) ** 0.5
    assert ownership.cv_per_thousand == approx(sd / (33500 / 3))


def test_group_without_needs_shows_zeros(report_world):
    """集体企业: a member and no needs — zeros, no rates (there is no one to identify)."""
    table = dimension(report_for(report_world), "ownership").table
    assert_figures(
        row_by(table, "集体企业"),
        {
            "raised": 0,
            "members": 1,
            "per_thousand": 0.0,
            "effective": 0,
            "accepted": 0,
            "resolved": 0,
            "overdue": 0,
            "escalated": 0,
            "accepted_share": None,
            "resolution_rate": None,
            "overdue_share": None,
            "satisfaction_rate": None,
            "mean_score": None,
            "resolve_p50": None,
        },
    )


def test_lagging_group(report_world):
    w = report_world
    report = report_for(w)

    street = dimension(report, "street")
    assert street.lagging_key == w.street_a.pk
    assert street.lagging == "东湖街道办结率 53%，全区 56%"  # 9/17 = 52.9%, 18/32 = 56.25%

    ownership = dimension(report, "ownership")  # 未登记单位 (0%) is too small to be named
    assert ownership.lagging_key == w.ownerships["private"].pk
    assert ownership.lagging == "私营企业办结率 50%，全区 56%"

    rights = dimension(report, "rights")
    assert rights.lagging_key == Need.RightsType.LABOUR_ECONOMIC
    assert rights.lagging == "劳动经济权益办结率 52%，全区 56%"

    channel = dimension(report, "channel")
    assert channel.lagging_key is True
    online = row_by(channel.table, True, field="key")["label"]
    assert channel.lagging == f"{online}办结率 54%，全区 56%"  # 13/24 = 54.2%

    area = dimension(report, "area")
    assert area.lagging_key == w.areas["skills"].pk
    assert area.lagging == "职工素质提升办结率 43%，全区 56%"  # 3/7 = 42.9%


# --- sufficiency (服务不够充分) ------------------------------------------------------------


def test_sufficiency_per_area(report_world):
    report = report_for(report_world)
    table = report.sufficiency

    # Projects in the period: P1 P2 P3 P4 P5 P6 P9 P10 P12 (P7 cancelled; P8, P11 and
    # P13 lie outside the period).
    assert_figures(
        row_by(table, "维护合法权益"),  # P1, P10 accepted · P5 approved · P6 proposed
        {
            "raised": 18,
            "resolved": 9,
            "resolution_rate": 9 / 16,
            "satisfaction_rate": 7 / 9,
            "proposed": 1,
            "running": 1,
            "assessed": 0,
            "passed": 2,
            "failed": 0,
            "budget": Decimal("24000"),  # 10000 + 6000 + 3000 + 5000
            "spent": Decimal("13000"),  # 8000 + 5000
            "flag": "",
        },
    )
    assert_figures(
        row_by(table, "普惠职工群众"),  # P2 rewarded (P11 ended before the period)
        {
            "raised": 7,
            "resolved": 4,
            "satisfaction_rate": 1.0,
            "passed": 1,
            "budget": Decimal("20000"),
            "spent": Decimal("15000"),
            "flag": "",
        },
    )
    assert_figures(
        row_by(table, "职工素质提升"),  # P3 failed · P9 assessed: nothing accepted
        {
            "raised": 8,
            "resolved": 3,
            "resolution_rate": 3 / 7,
            "passed": 0,
            "failed": 1,
            "assessed": 1,
            "budget": Decimal("12000"),
            "spent": Decimal("11500"),
            "flag": "有需求无验收项目",
        },
    )
    culture = row_by(table, "职工文化阵地")  # P4 in progress; P8 (rewarded) was in 2024
    assert_figures(
        culture,
        {
            "raised": 3,
            "resolved": None,  # fewer than 5 needs
            "satisfaction_rate": None,
            "running": 1,
            "passed": 0,
            "budget": Decimal("8000"),
            "spent": Decimal("3000"),
            "flag": "有需求无验收项目",
        },
    )
    assert_figures(
        row_by(table, "基层基础建设"),  # no demand, P12 failed: not flagged
        {"raised": 0, "failed": 1, "budget": Decimal("6000"), "spent": Decimal("5500")},
    )
    assert row_by(table, "基层基础建设")["flag"] == ""
    assert_figures(
        row_by(table, "基层活动经费"),
        {"raised": 0, "passed": 0, "budget": Decimal("0"), "spent": Decimal("0"), "flag": ""},
    )
    assert_figures(
        table.total,
        {
            "raised": 36,
            "resolved": 18,
            "budget": Decimal("70000"),
            "spent": Decimal("48000"),
        },
    )
    assert report.unserved_areas == ["职工素质提升", "职工文化阵地"]


def test_heat_map(report_world):
    report = report_for(report_world)
    areas = report.heatmap.areas
    assert areas == [
        "基层基础建设",
        "职工素质提升",
        "职工文化阵地",
        "普惠职工群众",
        "维护合法权益",
        "基层活动经费",
    ]
    cells = {
        (street, area): cell
        for street, row in report.heatmap.rows
        for area, cell in zip(areas, row, strict=True)
    }
    assert {street for street, _ in cells} == {"东湖街道", "高新开发区"}

    # (street, area): raised, projects approved or later and not failed, their spending
    expected = {
        ("东湖街道", "维护合法权益"): (9, 2, "13000"),  # P1, P10 (P6 only proposed)
        ("东湖街道", "普惠职工群众"): (4, 0, "0"),  # P7 cancelled
        ("东湖街道", "职工素质提升"): (3, 0, "0"),  # P3 failed
        ("东湖街道", "职工文化阵地"): (3, 1, "3000"),  # P4 (P8 outside the period)
        ("东湖街道", "基层基础建设"): (0, 0, "0"),
        ("东湖街道", "基层活动经费"): (0, 0, "0"),
        ("高新开发区", "维护合法权益"): (9, 1, "0"),  # P5 approved (P13 after the period)
        ("高新开发区", "普惠职工群众"): (3, 1, "15000"),  # P2 (P11 ended before it)
        ("高新开发区", "职工素质提升"): (5, 1, "6500"),  # P9 assessed
        ("高新开发区", "职工文化阵地"): (0, 0, "0"),
        ("高新开发区", "基层基础建设"): (0, 0, "0"),  # P12 failed
        ("高新开发区", "基层活动经费"): (0, 0, "0"),
    }
    for key, (raised, projects, spent) in expected.items():
        cell = cells[key]
        assert (cell.raised, cell.projects, cell.spent) == (raised, projects, Decimal(spent)), key
    # Needs per 1,000 members of the street (5 members each) where 5 or more were raised.
    assert cells[("东湖街道", "维护合法权益")].per_thousand == approx(1800.0)
    assert cells[("高新开发区", "维护合法权益")].per_thousand == approx(1800.0)
    assert cells[("高新开发区", "职工素质提升")].per_thousand == approx(1000.0)
    # Demand met by no project delivering service.
    unserved = {key for key, cell in cells.items() if cell.unserved}
    assert unserved == {("东湖街道", "普惠职工群众"), ("东湖街道", "职工素质提升")}

    table_rows = {(row["street"], row["label"]): row for row in report.heatmap_table.rows}
    assert set(table_rows) == set(expected)
    for key, (raised, projects, spent) in expected.items():
        row = table_rows[key]
        assert (row["raised"], row["projects"], row["spent"]) == (
            raised,
            projects,
            Decimal(spent),
        ), key
        assert bool(row["unserved"]) == (key in unserved), key


# --- responsiveness ---------------------------------------------------------------------


def test_responsiveness_by_street(report_world):
    w = report_world
    table = report_for(w).responsiveness_street

    assert_figures(
        row_by(table, "东湖街道"),
        {
            "raised": 19,
            "accepted": 13,
            # accept: 0.5 1 1 1 1 1 1 [1] 2 2 2 3.5 4 → p90 at 10.8: 2 + 0.8 × 1.5
            "accept_p50": 1.0,
            "accept_p90": 3.2,
            # resolve: 2 3 3 5 [6] 8 9 10 12 → p90 at 7.2: 10 + 0.2 × 2
            "resolve_p50": 6.0,
            "resolve_p90": 10.4,
            "overdue": 5,
            "escalated": 2,
        },
    )
    assert_figures(
        row_by(table, "高新开发区"),
        {
            "raised": 17,
            "accepted": 13,
            # accept: 0.5 1 1 1 1 1 [1] 2 2 2 3 4 5 → p90 at 10.8: 3 + 0.8 × 1
            "accept_p50": 1.0,
            "accept_p90": 3.8,
            # resolve: 4 4 5 5 [7] 7 9 14 15 → p90 at 7.2: 14 + 0.2 × 1
            "resolve_p50": 7.0,
            "resolve_p90": 14.2,
            "overdue": 6,
            "escalated": 2,
        },
    )
    assert_figures(
        table.total,
        {
            "raised": 36,
            # accept, 26: 0.5 ×2, 1 ×13, 2 ×6, 3, 3.5, 4 ×2, 5 → p50 at 12.5, p90 at 22.5
            "accept_p50": 1.0,
            "accept_p90": 3.75,
            # resolve, 18 (see TOTAL) → p90 at 15.3: 12 + 0.3 × 2
            "resolve_p50": 6.5,
            "resolve_p90": 12.6,
            "overdue": 11,
            "escalated": 4,
        },
    )


def test_responsiveness_by_workstation(report_world):
    table = report_for(report_world).responsiveness_workstation

    assert [row["label"] for row in table.rows] == [
        "东湖第一网格工作站",
        "东湖第二网格工作站",
        "东湖第三网格工作站",
        "高新园区网格工作站",
        "高新科技城网格工作站",
    ]
    assert_figures(
        row_by(table, "东湖第一网格工作站"),
        {
            "raised": 8,
            "accept_p50": 1.0,  # 0.5 1 [1] 2 4
            "accept_p90": 3.2,  # at 3.6: 2 + 0.6 × 2
            "resolve_p50": 9.5,  # 5 9 | 10 12
            "resolve_p90": 11.4,  # at 2.7: 10 + 0.7 × 2
            "overdue": 3,  # N4 N5 N6
            "escalated": 2,
        },
    )
    assert_figures(
        row_by(table, "东湖第二网格工作站"),
        {
            "raised": 8,
            "accept_p50": 1.0,  # 1 1 1 | 1 2 3.5
            "accept_p90": 2.75,  # at 4.5: 2 + 0.5 × 1.5
            "resolve_p50": 4.5,  # 2 3 | 6 8
            "resolve_p90": 7.4,
            "overdue": 2,  # M5 M8
            "escalated": 0,
        },
    )
    assert_small(row_by(table, "东湖第三网格工作站"), 3)
    assert_figures(
        row_by(table, "高新园区网格工作站"),
        {
            "raised": 9,
            "accept_p50": 2.0,  # 0.5 1 1 [2] 2 3 5
            "accept_p90": 3.8,  # at 5.4: 3 + 0.4 × 2
            "resolve_p50": 7.0,  # 4 5 [7] 14 15
            "resolve_p90": 14.6,  # at 3.6: 14 + 0.6 × 1
            "overdue": 4,  # B2 B4 B5 B7
            "escalated": 2,
        },
    )
    assert_figures(
        row_by(table, "高新科技城网格工作站"),
        {
            "raised": 8,
            "accept_p50": 1.0,  # 1 1 1 | 1 2 4
            "accept_p90": 3.0,  # at 4.5: 2 + 0.5 × 2
            "resolve_p50": 6.0,  # 4 5 | 7 9
            "resolve_p90": 8.4,  # at 2.7: 7 + 0.7 × 2
            "overdue": 2,  # C5 C8
            "escalated": 0,
        },
    )


def test_trend_by_month_of_raising(report_world):
    table = report_for(report_world).trend

    # N8 was raised at 00:00 on 1 March and M8 at 23:59 on 30 April, local time.
    assert [row["month"] for row in table.rows] == ["2025-03", "2025-04"]
    assert_figures(
        table.rows[0],
        {
            "raised": 21,
            "resolved": 16,
            "overdue": 4,  # N4 B2 B4 B5
            # 3 3 4 4 5 5 6 7 | 7 8 9 9 10 12 14 15
            "resolve_p50": 7.0,
        },
    )
    assert_figures(
        table.rows[1],
        {
            "raised": 15,
            "resolved": 2,  # M7, C7
            "overdue": 7,  # N5 N6 M5 M8 B7 C5 C8
            "resolve_p50": 3.5,  # 2 | 5
        },
    )


@pytest.mark.parametrize(
    ("first", "last", "needs"),
    [
        (dt.date(2025, 3, 1), dt.date(2025, 3, 1), 1),  # N8 at 00:00
        (dt.date(2025, 4, 30), dt.date(2025, 4, 30), 1),  # M8 at 23:59
        (dt.date(2025, 2, 28), dt.date(2025, 2, 28), 1),  # X1 at 23:30
        (dt.date(2025, 5, 1), dt.date(2025, 5, 1), 1),  # X2 at 00:00
        (dt.date(2025, 3, 2), dt.date(2025, 3, 2), 0),
    ],
)
def test_needs_belong_to_the_local_day_they_were_raised(report_world, first, last, needs):
    scope = report_world.params().scope
    report = build_report(ReportParams(scope=scope, start=first, end=last, period=Period.CUSTOM))
    assert dimension(report, "street").table.total["raised"] == needs


# --- projects ---------------------------------------------------------------------------


def test_projects_pipeline(report_world):
    table = report_for(report_world).projects_pipeline
    by_stage = {row["label"]: row for row in table.rows}

    expected = {
        ProjectStatus.PROPOSED: (1, "3000", "0"),  # P6
        ProjectStatus.APPROVED: (1, "6000", "0"),  # P5 (P13 starts after the period)
        ProjectStatus.IN_PROGRESS: (1, "8000", "3000"),  # P4
        ProjectStatus.ASSESSED: (1, "7000", "6500"),  # P9
        ProjectStatus.ACCEPTED: (2, "15000", "13000"),  # P1, P10 (P11 ended before)
        ProjectStatus.FAILED: (2, "11000", "10500"),  # P3, P12
        ProjectStatus.REWARDED: (1, "20000", "15000"),  # P2 (P8 was in 2024)
    }
    for status, (count, budget, spent) in expected.items():
        row = by_stage[status.label]
        assert (row["projects"], row["budget"], row["spent"]) == (
            count,
            Decimal(budget),
            Decimal(spent),
        ), status.label


def test_projects_pipeline_counts_every_status(report_world):
    """docs/reports.md: "In the period (span overlap): count per status" — 已撤销 too."""
    table = report_for(report_world).projects_pipeline
    by_stage = {row["label"]: row["projects"] for row in table.rows}
    assert by_stage.get(ProjectStatus.CANCELLED.label) == 1  # P7


def test_projects_summary(report_world):
    table = report_for(report_world).projects_summary

    assert_figures(
        row_by(table, "东湖街道"),  # P1 P3 P4 P6 P10 (+ P7 cancelled)
        {
            "verdicts": 3,  # P1, P10 accepted · P3 failed
            "passed": 2,
            "pass_rate": 2 / 3,
            "mean_assessment": 211.7 / 3,  # 86.7 + 50 + 75
            "mean_acceptance": 220 / 3,  # 95 + 40 + 85
            "rewards": 1,  # R3: awarded 03-10 to P8, whose span lies in 2024
            "reward_amount": Decimal("2000"),
        },
    )
    assert_figures(
        row_by(table, "高新开发区"),  # P2 P5 P9 P12
        {
            "verdicts": 2,  # P2 rewarded · P12 failed
            "passed": 1,
            "pass_rate": 0.5,
            "mean_assessment": 227 / 3,  # 92 + 80 + 55
            "mean_acceptance": 64.0,  # (88 + 40) / 2
            "rewards": 1,  # R1 (R2 was awarded on 5 May)
            "reward_amount": Decimal("5000"),
        },
    )
    assert_figures(
        table.total,
        {
            "verdicts": 5,
            "passed": 3,
            "pass_rate": 0.6,  # (2 accepted + 1 rewarded) / (3 + 2 failed)
            "mean_assessment": 438.7 / 6,
            "mean_acceptance": 69.6,  # (95 + 88 + 40 + 85 + 40) / 5
            "rewards": 2,
            "reward_amount": Decimal("7000"),
        },
    )


# --- follow-up (回访抽查) -----------------------------------------------------------------


def test_follow_up_sampled_and_self_reported(report_world):
    table = report_for(report_world).follow_up

    # Street B: B1 yes4, B3 partly3, B2 yes5, C2 yes3 satisfied; C1 (no, 4) and
    # B11 (partly, 2) not; C3 not reached.
    assert_figures(
        row_by(table, "高新开发区"),
        {
            "calls": 7,
            "called": 7,
            "reached": 6,
            "sampled_rate": 4 / 6,
            "self_rate": 6 / 7,
            "gap": 6 / 7 - 4 / 6,  # self-reported − sampled, in points: +19.0
        },
    )
    # All calls: X1's call (S0) does not count — its need was raised before the period.
    assert_figures(
        table.total,
        {
            "calls": 11,
            "called": 10,  # M3 not called yet
            "reached": 8,
            "sampled_rate": 5 / 8,
            "self_rate": 12 / 14,
            "gap": 12 / 14 - 5 / 8,
        },
    )


def test_follow_up_street_with_few_reached_calls(report_world):
    """Fewer than 5 reached calls: counts shown, no sampled 满意率 and no gap."""
    table = report_for(report_world).follow_up

    # Street A: N1 yes5 (satisfied), M2 no2; L1 not reached; M3 not called.
    assert_figures(
        row_by(table, "东湖街道"),
        {
            "calls": 4,
            "called": 3,
            "reached": 2,
            "sampled_rate": None,
            "self_rate": 6 / 7,
            "gap": None,
        },
    )


# --- ranking (考核) ---------------------------------------------------------------------

# Components per workstation (at least 5 effective needs):
#   响应 = accepted on time / accepted; 办结 = resolved / effective; 满意 = satisfied /
#   rated; 项目 = mean acceptance score of its projects with a verdict in the period.
COMPONENTS = {
    # N4 accepted late of N1–N5; 4/7 resolved; 3/3 satisfied; P1 95, P10 85 (P8 in 2024)
    "东湖第一网格工作站": (80.0, 400 / 7, 100.0, 90.0),
    # M5 late of 6; 4/7; M4 not satisfied of 3; P3 failed 40
    "东湖第二网格工作站": (500 / 6, 400 / 7, 200 / 3, 40.0),
    # B4 late of 7 (B2 accepted exactly at its limit); 5/8; 4/4; P2 88 (P11 before)
    "高新园区网格工作站": (600 / 7, 62.5, 100.0, 88.0),
    # C5 late of 6; 4/7; C4 not satisfied of 3; P12 failed 40
    "高新科技城网格工作站": (500 / 6, 400 / 7, 200 / 3, 40.0),
}
COMPONENT_KEYS = ("responsiveness", "resolution", "satisfaction", "projects")


def weighted(components, weights):
    return sum(w * c for w, c in zip(weights, components, strict=True)) / sum(weights)


def test_ranking_components_and_ranks(report_world):
    report = report_for(report_world)
    table = report.ranking

    assert report.weights == RankingWeights.DEFAULTS
    for label, components in COMPONENTS.items():
        row = row_by(table, label)
        assert_figures(row, dict(zip(COMPONENT_KEYS, components, strict=True)))
    ranks = {row["label"]: row.get("rank") for row in table.rows}
    # 82.66 · 79.64 · 64.81 = 64.81 (equal components: a tie)
    assert ranks == {
        "高新园区网格工作站": 1,
        "东湖第一网格工作站": 2,
        "东湖第二网格工作站": 3,
        "高新科技城网格工作站": 3,
        "东湖第三网格工作站": None,  # 3 effective needs: listed, unranked
    }
    assert row_by(table, "东湖第三网格工作站").get("score") is None


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # 30/30/25/15: ws_a1 (2400 + 1714.29 + 2500 + 1350) / 100 = 79.64 …
        (
            None,
            {
                "东湖第一网格工作站": 79.642857,
                "东湖第二网格工作站": 64.809524,
                "高新园区网格工作站": 82.664286,
                "高新科技城网格工作站": 64.809524,
            },
        ),
        # 5/5/5/35 (Σ 50): ws_a1 (400 + 285.71 + 500 + 3150) / 50 = 86.71 · ws_b1
        # (428.57 + 312.5 + 500 + 3080) / 50 = 86.42 · ws_a2 (416.67 + 285.71 + 333.33
        # + 1400) / 50 = 48.71
        (
            (5, 5, 5, 35),
            {
                "东湖第一网格工作站": 86.714286,
                "东湖第二网格工作站": 48.714286,
                "高新园区网格工作站": 86.421429,
                "高新科技城网格工作站": 48.714286,
            },
        ),
    ],
)
def test_ranking_scores(report_world, weights, expected):
    """Score = Σ weightᵢ × componentᵢ ÷ Σ weightᵢ, as docs/reports.md defines it."""
    if weights is not None:
        RankingWeights.objects.create(
            district=report_world.district, **dict(zip(COMPONENT_KEYS, weights, strict=True))
        )
    table = report_for(report_world).ranking
    for label, components in COMPONENTS.items():
        assert weighted(components, weights or (30, 30, 25, 15)) == approx(expected[label])
        assert row_by(table, label)["score"] == approx(expected[label]), label


def test_ranking_under_changed_weights(report_world):
    w = report_world
    RankingWeights.objects.create(
        district=w.district, responsiveness=5, resolution=5, satisfaction=5, projects=35
    )
    report = report_for(w)

    assert report.weights == dict(zip(COMPONENT_KEYS, (5, 5, 5, 35), strict=True))
    # 86.71 · 86.42 · 48.71 = 48.71 (see test_ranking_scores): ws_a1 now leads
    ranks = {row["label"]: row.get("rank") for row in report.ranking.rows}
    assert ranks == {
        "东湖第一网格工作站": 1,
        "高新园区网格工作站": 2,
        "东湖第二网格工作站": 3,
        "高新科技城网格工作站": 3,
        "东湖第三网格工作站": None,
    }


def test_ranking_close_scores_are_not_a_tie(report_world):
    """Ties share a rank; 90.0714 and 90.0680 are not a tie (the doc's score is exact)."""
    w = report_world
    RankingWeights.objects.create(
        district=w.district, responsiveness=0, resolution=3, satisfaction=10, projects=8
    )
    table = report_for(w).ranking
    # ws_b1 (187.5 + 1000 + 704) / 21 = 90.0714 · ws_a1 (171.43 + 1000 + 720) / 21 = 90.0680
    assert row_by(table, "高新园区网格工作站")["rank"] == 1
    assert row_by(table, "东湖第一网格工作站")["rank"] == 2


# --- filters and scope ------------------------------------------------------------------


def test_street_filter(report_world):
    w = report_world
    report = report_for(w, street=w.street_b)

    street = dimension(report, "street")
    assert [row["label"] for row in street.table.rows] == ["高新开发区"]
    assert_figures(
        street.table.total,
        {
            "raised": 17,
            "members": 5,
            "per_thousand": 3400.0,
            "effective": 15,
            "accepted": 13,
            "resolved": 9,
            "resolution_rate": 0.6,
            "resolve_p50": 7.0,
            "overdue": 6,
            "escalated": 2,
            "satisfaction_rate": 6 / 7,
        },
    )
    ownership = dimension(report, "ownership").table
    # 国有 in street B: ws_b2's C1–C8, members b2 and b2x
    assert_figures(
        row_by(ownership, "国有企业"),
        {
            "raised": 8,
            "members": 2,
            "per_thousand": 4000.0,
            "effective": 7,
            "accepted": 6,
            "resolved": 4,
            "resolution_rate": 4 / 7,
        },
    )
    assert_figures(row_by(ownership, "私营企业"), {"raised": 0, "members": 0})
    assert_figures(row_by(ownership, "外商投资企业"), {"raised": 7, "per_thousand": 3500.0})
    assert {row["label"] for row in report.ranking.rows} == {
        "高新园区网格工作站",
        "高新科技城网格工作站",
    }
    assert [row["label"] for row in report.follow_up.rows] == ["高新开发区"]
    assert report.follow_up.total["calls"] == 7
    pipeline = {row["label"]: row["projects"] for row in report.projects_pipeline.rows}
    assert pipeline[ProjectStatus.REWARDED.label] == 1  # P2
    assert pipeline[ProjectStatus.FAILED.label] == 1  # P12
    assert pipeline[ProjectStatus.ACCEPTED.label] == 0
    assert report.projects_summary.total["reward_amount"] == Decimal("5000")


def test_area_filter(report_world):
    w = report_world
    report = report_for(w, area=w.areas["rights"])

    street = dimension(report, "street").table
    assert_figures(
        row_by(street, "东湖街道"),  # N1 N2 N4 N6 N8 M1 M4 M5 M6
        {
            "raised": 9,
            "per_thousand": 1800.0,
            "effective": 8,
            "accepted": 6,
            "accepted_share": 0.75,
            "resolved": 4,
            "resolution_rate": 0.5,
            "resolve_p50": 7.5,  # 5 6 | 9 10
        },
    )
    assert_figures(
        row_by(street, "高新开发区"),  # B1 B2 B5 B6 B11 C1 C4 C7 C8
        {
            "raised": 9,
            "per_thousand": 1800.0,
            "effective": 8,
            "accepted": 7,
            "accepted_share": 0.875,
            "resolved": 5,
            "resolution_rate": 0.625,
            "resolve_p50": 5.0,  # 4 4 [5] 5 14
        },
    )
    assert_figures(street.total, {"raised": 18, "resolution_rate": 0.5625, "overdue": 6})
    assert [row["label"] for row in report.sufficiency.rows] == ["维护合法权益"]
    assert report.unserved_areas == []
    # Rights projects: P1, P10 accepted, P5 approved, P6 proposed.
    assert_figures(report.projects_summary.total, {"verdicts": 2, "passed": 2, "pass_rate": 1.0})
    # The ranking too: only ws_a1 keeps 5 effective needs (N1 N2 N4 N6 N8): N4 accepted
    # late of 3, 3 of 5 resolved, N1 N2 satisfied, P1 and P10 are about rights.
    ranking = report.ranking
    assert_figures(
        row_by(ranking, "东湖第一网格工作站"),
        {
            "rank": 1,
            "effective": 5,
            "responsiveness": 200 / 3,
            "resolution": 60.0,
            "satisfaction": 100.0,
            "projects": 90.0,
        },
    )
    assert [row["label"] for row in ranking.rows if row.get("rank")] == ["东湖第一网格工作站"]


def test_street_cadre_sees_their_street_only(report_world):
    w = report_world
    report = report_for(w, user=w.street_cadre)

    street = dimension(report, "street").table
    assert [row["label"] for row in street.rows] == ["东湖街道"]
    assert_figures(
        street.total,
        {
            "raised": 19,
            "members": 5,
            "per_thousand": 3800.0,
            "resolved": 9,
            "resolution_rate": 9 / 17,
            "overdue": 5,
            "escalated": 2,
            "satisfaction_rate": 6 / 7,
        },
    )
    assert {row["label"] for row in report.responsiveness_workstation.rows} == {
        "东湖第一网格工作站",
        "东湖第二网格工作站",
        "东湖第三网格工作站",
    }
    ranks = {row["label"]: row.get("rank") for row in report.ranking.rows}
    assert ranks == {"东湖第一网格工作站": 1, "东湖第二网格工作站": 2, "东湖第三网格工作站": None}
    assert [row["label"] for row in report.follow_up.rows] == ["东湖街道"]
    assert report.follow_up.total["calls"] == 4
    assert_figures(
        report.projects_summary.total,
        {"verdicts": 3, "passed": 2, "rewards": 1, "reward_amount": Decimal("2000")},
    )


def test_a_workstation_cadre_has_no_report_scope(report_world):
    report = report_for(report_world, user=report_world.ws_cadre)
    assert dimension(report, "street").table.total["raised"] == 0
    assert report.ranking.rows == []


# --- confidentiality --------------------------------------------------------------------


def test_no_cell_names_a_worker(report_world):
    w = report_world
    report = report_for(w)
    secrets = set()
    for member in w.workers.values():
        secrets |= {member.user.name, member.mobile, mask_mobile(member.mobile)}
    texts = []
    for table in report.tables().values():
        for row in [*table.rows, table.total or {}]:
            texts += [str(value) for value in row.values()]
        for cells in table.display_rows():
            texts += cells
        texts += [table.title, table.note]
    texts += [d.lagging for d in report.balance]
    texts += [street for street, _ in report.heatmap.rows] + report.heatmap.areas
    leaks = {(secret, text) for text in texts for secret in secrets if secret in text}
    assert not leaks
    # The confidential needs (N8, B7) are counted like any other.
    assert dimension(report, "street").table.total["raised"] == 36


# --- queries ----------------------------------------------------------------------------


def _grow(w):
    """More needs, workers and members, a third street with its own workstation."""
    street_c = Street.objects.create(district=w.district, code="S-C", name="西湖街道", order=3)
    ws_c = Workstation.objects.create(
        street=street_c, code="W-C1", name="西湖网格工作站", address="西湖", hours="9:00–17:00"
    )
    unit_c = Unit.objects.create(
        workstation=ws_c, name="西湖物流有限公司", ownership=w.ownerships["hmt"], industry="物流"
    )
    workers = [
        member_services.member_register(
            username=f"grow{i}", name=f"新职工{i}", mobile=f"1390000000{i}", password="x", unit=unit
        )
        for i, unit in enumerate([unit_c, unit_c, w.units["a1"], w.units["b1"]])
    ]
    for member in workers:
        member.status, member.member_number = "member", f"G{member.pk:08d}"
        member.save(update_fields=["status", "member_number"])
    for i, member in enumerate(workers * 2):
        need = need_services.need_submit(
            member=member,
            kind=Need.Kind.HELP,
            area=w.areas[["skills", "funds", "rights", "culture"][i % 4]],
            rights_type=Need.RightsType.OTHER,
            title="新的诉求",
            description="新的诉求。",
            at=day(3, 20 + i),
        )
        if i % 2:
            need_services.need_accept(need=need, by=w.district_cadre)
            need_services.need_resolve(need=need, by=w.district_cadre, resolution="已解决")
            need_services.need_rate(need=need, by=member.user, outcome=Rating.Outcome.YES, score=4)
            FollowUpCall.objects.create(
                sample=w.follow_up_sample,
                need=need,
                street=need.workstation.street,
                reached=True,
                outcome=Rating.Outcome.YES,
                score=5,
                called_at=day(5, 7),
            )
    ServiceProject.objects.create(
        number="XM2025C0001",
        title="西湖项目",
        summary="西湖",
        kind=ServiceProject.Kind.PRACTICAL,
        area=w.areas["funds"],
        beneficiary=ServiceProject.Beneficiary.WORKERS,
        street=street_c,
        workstation=ws_c,
        lead=w.district_cadre,
        budget=Decimal("1000"),
        spent=Decimal("500"),
        planned_start=dt.date(2025, 3, 1),
        planned_end=dt.date(2025, 4, 1),
        status=ProjectStatus.ACCEPTED,
        acceptance_score=Decimal("80"),
        created_by=w.district_cadre,
    )


def test_a_fixed_number_of_queries(report_world, django_assert_num_queries):
    w = report_world
    params = w.params()
    with CaptureQueriesContext(connection) as first:
        report = build_report(params)
    assert dimension(report, "street").table.total["raised"] == 36

    _grow(w)
    with django_assert_num_queries(len(first)):
        report = build_report(params)
    assert dimension(report, "street").table.total["raised"] == 44
    assert len(dimension(report, "street").table.rows) == 3
    assert len(first) == QUERIES


# The number of queries build_report runs, whatever the size of the district.
QUERIES = 30
