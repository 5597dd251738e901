"""The report's figures, aggregated in the database (definitions: docs/reports.md).

Every figure comes from a grouped query (conditional aggregation, ``PercentileCont``
for medians and p90); Python only combines the per-group rows — never loops over
needs or members — so the page runs the same number of queries whatever the size
of the district. ``build_report`` returns a ``Report`` whose tables the page shows
and the exports write.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    Q,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from apps.core.db import DaysBetween, PercentileCont
from apps.members.models import Member
from apps.needs.models import Need, Rating, ServiceArea, ever_overdue_q
from apps.needs.workflow import DONE, Status
from apps.projects.models import Reward, ServiceProject
from apps.projects.workflow import Status as ProjectStatus
from apps.workstations.models import OwnershipType, Street, Workstation

from .filters import ReportParams
from .models import FollowUpCall, RankingWeights
from .tables import Column, Kind, Table

# A group with fewer raised needs than this shows its count and nothing else.
MIN_GROUP = 5

NOT_EFFECTIVE = (Status.WITHDRAWN, Status.MERGED)
PROJECT_PASSED = (ProjectStatus.ACCEPTED, ProjectStatus.REWARDED)
PROJECT_VERDICT = (ProjectStatus.ACCEPTED, ProjectStatus.REWARDED, ProjectStatus.FAILED)
# Approved or later and not failed: service that is (or was) really delivered.
PROJECT_SERVING = (
    ProjectStatus.APPROVED,
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.ASSESSED,
    ProjectStatus.ACCEPTED,
    ProjectStatus.REWARDED,
)
NO_UNIT = "未登记单位"


# --- the shape of a report ------------------------------------------------------------


@dataclass
class Dimension:
    """One balance dimension (发展不够平衡): its table, imbalance indicators and laggard."""

    key: str
    title: str
    table: Table
    cv_resolution: float | None = None  # coefficient of variation of the resolution rate
    cv_per_thousand: float | None = None  # … of needs per 1,000 members (None: no members)
    lagging: str = ""  # the most lagging group, in words; "" when nothing to say
    lagging_key: object = None


@dataclass
class HeatCell:
    raised: int
    per_thousand: float | None
    projects: int
    spent: Decimal
    level: int  # 0 (no demand) … 4 (highest demand of the map)

    @property
    def unserved(self) -> bool:
        """Demand and no project delivering service: where demand meets no service."""
        return self.raised > 0 and self.projects == 0


@dataclass
class HeatMap:
    areas: list[str]
    rows: list[tuple[str, list[HeatCell]]]


@dataclass
class Report:
    params: ReportParams
    balance: list[Dimension]
    sufficiency: Table
    unserved_areas: list[str]
    heatmap: HeatMap
    heatmap_table: Table
    responsiveness_street: Table
    responsiveness_workstation: Table
    trend: Table
    projects_pipeline: Table
    projects_summary: Table
    follow_up: Table
    ranking: Table
    weights: dict[str, int] = field(default_factory=dict)

    def tables(self) -> dict[str, Table]:
        """Every table by its export key."""
        tables = [d.table for d in self.balance]
        tables += [
            self.sufficiency,
            self.heatmap_table,
            self.responsiveness_street,
            self.responsiveness_workstation,
            self.trend,
            self.projects_pipeline,
            self.projects_summary,
            self.follow_up,
            self.ranking,
        ]
        return {table.key: table for table in tables}


# --- building blocks -----------------------------------------------------------------

EFFECTIVE = ~Q(status__in=NOT_EFFECTIVE)


def _days_where(condition: Q, end: str):
    return Case(When(condition, then=DaysBetween(F(end), F("created_at"))), default=None)


def need_aggregates(now: dt.datetime) -> dict:
    """Per-group counts and timings of needs, as one conditional aggregation."""
    was_accepted = EFFECTIVE & Q(accepted_at__isnull=False)
    is_resolved = Q(status__in=DONE)
    days_to_accept = _days_where(was_accepted, "accepted_at")
    days_to_resolve = _days_where(is_resolved, "resolved_at")
    return {
        "raised": Count("pk"),
        "effective": Count("pk", filter=EFFECTIVE),
        "accepted": Count("pk", filter=was_accepted),
        "accepted_on_time": Count("pk", filter=was_accepted & Q(accepted_late=False)),
        "resolved": Count("pk", filter=is_resolved),
        "overdue": Count("pk", filter=EFFECTIVE & ever_overdue_q(now)),
        "escalated": Count("pk", filter=Q(escalation__gte=1)),
        "accept_p50": PercentileCont(days_to_accept, 0.5),
        "accept_p90": PercentileCont(days_to_accept, 0.9),
        "resolve_p50": PercentileCont(days_to_resolve, 0.5),
        "resolve_p90": PercentileCont(days_to_resolve, 0.9),
    }


RATING_AGGREGATES = {
    "ratings": Count("pk"),
    "satisfied": Count("pk", filter=Rating.satisfied_q()),
    "mean_score": Avg("score"),
}


def _share(part, whole) -> float | None:
    return part / whole if whole else None


def _grouped(queryset, path: str, aggregates: dict) -> dict:
    """``{group value: {aggregate: value}}`` from one GROUP BY query."""
    rows = queryset.order_by().values(path).annotate(**aggregates)
    return {row.pop(path): row for row in rows}


class NeedStats:
    """Counts, timings and ratings of the report's needs, grouped along one path.

    ``path`` is a lookup from ``Need`` (``"workstation__street"``, ``"area"`` …), or
    "" for the whole scope. Two queries: one over needs, one over latest ratings.
    """

    def __init__(self, needs, path: str, now: dt.datetime):
        aggregates = need_aggregates(now)
        ratings = Rating.objects.latest_per_need().filter(need__in=needs.values("pk"))
        if path:
            self.needs = _grouped(needs, path, aggregates)
            self.ratings = _grouped(ratings, f"need__{path}", RATING_AGGREGATES)
        else:
            self.needs = {None: needs.order_by().aggregate(**aggregates)}
            self.ratings = {None: ratings.order_by().aggregate(**RATING_AGGREGATES)}

    def row(self, key, members: int | None = None) -> dict:
        """The figures of one group (zeros for a group with no needs)."""
        n = self.needs.get(key) or {}
        r = self.ratings.get(key) or {}
        raised, effective = n.get("raised", 0), n.get("effective", 0)
        ratings = r.get("ratings", 0)
        row = {
            "raised": raised,
            "members": members,
            "per_thousand": raised * 1000 / members if members else None,
            "effective": effective,
            "accepted": n.get("accepted", 0),
            "accepted_on_time": n.get("accepted_on_time", 0),
            "accepted_share": _share(n.get("accepted", 0), effective),
            "resolved": n.get("resolved", 0),
            "resolution_rate": _share(n.get("resolved", 0), effective),
            "accept_p50": n.get("accept_p50"),
            "accept_p90": n.get("accept_p90"),
            "resolve_p50": n.get("resolve_p50"),
            "resolve_p90": n.get("resolve_p90"),
            "overdue": n.get("overdue", 0),
            "overdue_share": _share(n.get("overdue", 0), effective),
            "escalated": n.get("escalated", 0),
            "ratings": ratings,
            "satisfied": r.get("satisfied", 0),
            "satisfaction_rate": _share(r.get("satisfied", 0), ratings),
            "mean_score": r.get("mean_score"),
        }
        return suppress_small(row)


# Shown for every group whatever its size: who it is and how many.
ALWAYS_SHOWN = {"label", "street", "workstation", "month", "raised", "members", "rank"}


def suppress_small(row: dict) -> dict:
    """A group with fewer than MIN_GROUP needs shows its count and nothing else.

    A group with no needs at all shows its zeros: there is no one to identify.
    """
    row["small"] = 0 < row["raised"] < MIN_GROUP
    if row["small"]:
        for key in row:
            if key not in ALWAYS_SHOWN and key != "small":
                row[key] = None
    return row


def coefficient_of_variation(values: Iterable[float | None]) -> float | None:
    """Population standard deviation ÷ mean, over two or more values."""
    values = [float(v) for v in values if v is not None]
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    if mean == 0:
        return None
    return statistics.pstdev(values) / mean


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


# --- the report ------------------------------------------------------------------------


BALANCE_COLUMNS = [
    Column("label", "分组"),
    Column("raised", "诉求数", Kind.INT),
    Column("members", "会员数", Kind.INT),
    Column("per_thousand", "每千名会员诉求数", Kind.NUM),
    Column("effective", "有效诉求", Kind.INT),
    Column("accepted_share", "受理率", Kind.PCT),
    Column("resolution_rate", "办结率", Kind.PCT),
    Column("resolve_p50", "办结天数中位数", Kind.DAYS),
    Column("overdue_share", "超时率", Kind.PCT),
    Column("satisfaction_rate", "满意率", Kind.PCT),
    Column("mean_score", "平均评分", Kind.NUM),
]

RESPONSIVENESS_COLUMNS = [
    Column("raised", "诉求数", Kind.INT),
    Column("accepted", "受理数", Kind.INT),
    Column("accept_p50", "受理天数中位数", Kind.DAYS),
    Column("accept_p90", "受理天数P90", Kind.DAYS),
    Column("resolved", "办结数", Kind.INT),
    Column("resolve_p50", "办结天数中位数", Kind.DAYS),
    Column("resolve_p90", "办结天数P90", Kind.DAYS),
    Column("overdue", "超时数", Kind.INT),
    Column("escalated", "督办数", Kind.INT),
]


@dataclass
class Group:
    key: object
    label: str
    members: int | None = None


class ReportBuilder:
    """Runs the report's queries once each and lays the results out as tables."""

    def __init__(self, params: ReportParams, now: dt.datetime | None = None):
        self.params = params
        self.now = now or timezone.now()
        scope = params.scope
        needs = Need.objects.within(scope).filter(
            created_at__gte=params.start_at, created_at__lt=params.end_before
        )
        members = Member.objects.within(scope).filter(status=Member.Status.MEMBER)
        projects = (
            ServiceProject.objects.within(scope)
            .filter(planned_start__lte=params.end)
            .annotate(span_end=Coalesce("actual_end", "planned_end"))
            .filter(span_end__gte=params.start)
        )
        streets = Street.objects.within(scope)
        workstations = Workstation.objects.within(scope)
        if params.street is not None:
            needs = needs.filter(workstation__street=params.street)
            members = members.filter(workstation__street=params.street)
            projects = projects.filter(street=params.street)
            streets = streets.filter(pk=params.street.pk)
            workstations = workstations.filter(street=params.street)
        if params.area is not None:
            needs = needs.filter(area=params.area)
            projects = projects.filter(area=params.area)
        self.needs, self.members = needs, members
        # Cancelled projects show in the pipeline only; they deliver no service.
        self.projects_with_cancelled = projects
        self.projects = projects.exclude(status=ProjectStatus.CANCELLED)
        self.streets = list(streets.order_by("order", "code").values("pk", "name", "district_id"))
        self.workstations = list(
            workstations.order_by("street__order", "street__code", "code").values(
                "pk", "name", "street__name"
            )
        )
        areas = ServiceArea.objects.order_by("order", "pk")
        if params.area is not None:
            areas = areas.filter(pk=params.area.pk)
        self.areas = list(areas.values("pk", "name"))
        self.members_by_street = _grouped(members, "workstation__street", {"n": Count("pk")})
        self._stats: dict[str, NeedStats] = {}
        self.total = self.stats("")

    def stats(self, path: str) -> NeedStats:
        """The needs grouped along ``path``; each grouping is queried once per report."""
        if path not in self._stats:
            self._stats[path] = NeedStats(self.needs, path, self.now)
        return self._stats[path]

    # -- helpers --

    @property
    def scope_name(self) -> str:
        if self.params.street is not None:
            return self.params.street.name
        scope = self.params.scope
        if scope.everything or scope.district_ids:
            return "全区"
        if len(self.streets) == 1:
            return self.streets[0]["name"]
        return "所辖街道"

    @property
    def street_groups(self) -> list[Group]:
        return [
            Group(s["pk"], s["name"], self.members_by_street.get(s["pk"], {}).get("n", 0))
            for s in self.streets
        ]

    @property
    def total_members(self) -> int:
        return sum(g.members for g in self.street_groups)

    def total_row(self, members: int | None, **labels) -> dict:
        return {**labels, **self.total.row(None, members)}

    def stats_rows(self, stats: NeedStats, groups: list[Group]) -> list[dict]:
        return [{"label": g.label, "key": g.key, **stats.row(g.key, g.members)} for g in groups]

    # -- balance (发展不够平衡) --

    def dimension(self, key, title, path, groups: list[Group], total_members) -> Dimension:
        members_known = total_members is not None
        columns = BALANCE_COLUMNS
        if not members_known:
            columns = [c for c in columns if c.key not in {"members", "per_thousand"}]
        rows = self.stats_rows(self.stats(path), groups)
        total = self.total_row(total_members, label=f"合计（{self.scope_name}）")
        table = Table(f"balance-{key}", f"发展均衡：{title}", columns, rows, total)
        shown = [row for row in rows if row["raised"] >= MIN_GROUP]
        dimension = Dimension(
            key=key,
            title=title,
            table=table,
            cv_resolution=coefficient_of_variation(r["resolution_rate"] for r in shown),
            cv_per_thousand=(
                coefficient_of_variation(r["per_thousand"] for r in shown)
                if members_known
                else None
            ),
        )
        rated = [r for r in shown if r["resolution_rate"] is not None]
        overall = total["resolution_rate"]
        if len(rated) >= 2 and overall is not None:
            worst = min(rated, key=lambda r: r["resolution_rate"])
            dimension.lagging_key = worst["key"]
            dimension.lagging = (
                f"{worst['label']}办结率 {_percent(worst['resolution_rate'])}，"
                f"{self.scope_name} {_percent(overall)}"
            )
        return dimension

    def balance(self) -> list[Dimension]:
        ownership_members = _grouped(self.members, "unit__ownership", {"n": Count("pk")})
        ownerships = OwnershipType.objects.order_by("order", "pk").values("pk", "name")
        ownership_groups = [
            Group(o["pk"], o["name"], ownership_members.get(o["pk"], {}).get("n", 0))
            for o in ownerships
        ] + [Group(None, NO_UNIT, ownership_members.get(None, {}).get("n", 0))]
        everyone = self.total_members
        return [
            self.dimension(
                "street",
                "各街道（开发区）之间",
                "workstation__street",
                self.street_groups,
                everyone,
            ),
            self.dimension(
                "ownership",
                "不同所有制单位之间",
                "unit__ownership",
                ownership_groups,
                sum(g.members for g in ownership_groups),
            ),
            self.dimension(
                "rights",
                "劳动经济权益与民主政治权益之间",
                "rights_type",
                [Group(value, label) for value, label in Need.RightsType.choices],
                None,
            ),
            self.dimension(
                "channel",
                "线上与线下之间",
                "channel__is_online",
                [Group(True, "线上"), Group(False, "线下")],
                None,
            ),
            self.dimension(
                "area",
                "职工需求与工会服务之间（按服务领域）",
                "area",
                [Group(a["pk"], a["name"], everyone) for a in self.areas],
                everyone,
            ),
        ]

    # -- sufficiency (服务不够充分) --

    def sufficiency(self) -> tuple[Table, list[str]]:
        stats = self.stats("area")
        projects = _grouped(
            self.projects,
            "area",
            {
                "projects": Count("pk"),
                "proposed": Count("pk", filter=Q(status=ProjectStatus.PROPOSED)),
                "running": Count(
                    "pk", filter=Q(status__in=[ProjectStatus.APPROVED, ProjectStatus.IN_PROGRESS])
                ),
                "assessed": Count("pk", filter=Q(status=ProjectStatus.ASSESSED)),
                "passed": Count("pk", filter=Q(status__in=PROJECT_PASSED)),
                "failed": Count("pk", filter=Q(status=ProjectStatus.FAILED)),
                "budget_sum": Sum("budget"),
                "spent_sum": Sum("spent"),
            },
        )
        rows, unserved = [], []
        for area in self.areas:
            need_row = stats.row(area["pk"])
            project_row = projects.get(area["pk"], {})
            row = {
                "label": area["name"],
                "raised": need_row["raised"],
                "resolved": need_row["resolved"],
                "resolution_rate": need_row["resolution_rate"],
                "satisfaction_rate": need_row["satisfaction_rate"],
                "projects": project_row.get("projects", 0),
                "proposed": project_row.get("proposed", 0),
                "running": project_row.get("running", 0),
                "assessed": project_row.get("assessed", 0),
                "passed": project_row.get("passed", 0),
                "failed": project_row.get("failed", 0),
                "budget": project_row.get("budget_sum") or Decimal("0"),
                "spent": project_row.get("spent_sum") or Decimal("0"),
                "flag": "",
            }
            if row["raised"] and not row["passed"]:
                row["flag"] = "有需求无验收项目"
                unserved.append(area["name"])
            rows.append(row)
        total = {
            "label": f"合计（{self.scope_name}）",
            "raised": self.total.row(None)["raised"],
            "resolved": self.total.row(None)["resolved"],
            "resolution_rate": self.total.row(None)["resolution_rate"],
            "satisfaction_rate": self.total.row(None)["satisfaction_rate"],
        }
        for key in ("projects", "proposed", "running", "assessed", "passed", "failed"):
            total[key] = sum(r[key] for r in rows)
        for key in ("budget", "spent"):
            total[key] = sum((r[key] for r in rows), Decimal("0"))
        columns = [
            Column("label", "服务领域"),
            Column("raised", "需求（诉求数）", Kind.INT),
            Column("resolved", "办结数", Kind.INT),
            Column("resolution_rate", "办结率", Kind.PCT),
            Column("satisfaction_rate", "满意率", Kind.PCT),
            Column("projects", "项目数", Kind.INT),
            Column("proposed", "立项申请", Kind.INT),
            Column("running", "实施中", Kind.INT),
            Column("assessed", "待验收", Kind.INT),
            Column("passed", "验收通过", Kind.INT),
            Column("failed", "验收未通过", Kind.INT),
            Column("budget", "预算（元）", Kind.MONEY),
            Column("spent", "支出（元）", Kind.MONEY),
            Column("flag", "提示"),
        ]
        return Table("sufficiency", "服务充分：六个服务领域", columns, rows, total), unserved

    def heatmap(self) -> tuple[HeatMap, Table]:
        need_cells = {
            (r["workstation__street"], r["area"]): r["n"]
            for r in self.needs.order_by()
            .values("workstation__street", "area")
            .annotate(n=Count("pk"))
        }
        project_cells = {
            (r["street"], r["area"]): r
            for r in self.projects.filter(status__in=PROJECT_SERVING)
            .order_by()
            .values("street", "area")
            .annotate(n=Count("pk"), spent_sum=Sum("spent"))
        }
        members = {g.key: g.members for g in self.street_groups}
        values = []
        grid = []
        for street in self.streets:
            cells = []
            for area in self.areas:
                count = need_cells.get((street["pk"], area["pk"]), 0)
                project = project_cells.get((street["pk"], area["pk"]), {})
                per_thousand = (
                    count * 1000 / members[street["pk"]] if members[street["pk"]] else None
                )
                cells.append(
                    HeatCell(
                        raised=count,
                        per_thousand=per_thousand,
                        projects=project.get("n", 0),
                        spent=project.get("spent_sum") or Decimal("0"),
                        level=0,
                    )
                )
                values.append(per_thousand if per_thousand is not None else count)
            grid.append((street, cells))
        top = max(values, default=0) or 0
        rows = []
        for street, cells in grid:
            for area, cell in zip(self.areas, cells, strict=True):
                intensity = cell.per_thousand if cell.per_thousand is not None else cell.raised
                if cell.raised and top:
                    cell.level = max(1, min(4, math.ceil(4 * intensity / top)))
                rows.append(
                    {
                        "street": street["name"],
                        "label": area["name"],
                        "raised": cell.raised,
                        "per_thousand": cell.per_thousand,
                        "projects": cell.projects,
                        "spent": cell.spent,
                        "unserved": "是" if cell.unserved else "",
                    }
                )
        heatmap = HeatMap(
            areas=[a["name"] for a in self.areas],
            rows=[(street["name"], cells) for street, cells in grid],
        )
        table = Table(
            "heatmap",
            "服务充分：街道 × 服务领域",
            [
                Column("street", "街道（开发区）"),
                Column("label", "服务领域"),
                Column("raised", "诉求数", Kind.INT),
                Column("per_thousand", "每千名会员诉求数", Kind.NUM),
                Column("projects", "在办及完成项目数", Kind.INT),
                Column("spent", "项目支出（元）", Kind.MONEY),
                Column("unserved", "有需求无项目"),
            ],
            rows,
        )
        return heatmap, table

    # -- responsiveness --

    def responsiveness(self) -> tuple[Table, Table, Table]:
        by_street = Table(
            "responsiveness-street",
            "响应速度：按街道（开发区）",
            [Column("label", "街道（开发区）"), *RESPONSIVENESS_COLUMNS],
            self.stats_rows(self.stats("workstation__street"), self.street_groups),
            self.total_row(None, label=f"合计（{self.scope_name}）"),
        )
        ws_groups = [Group(w["pk"], w["name"]) for w in self.workstations]
        ws_street = {w["pk"]: w["street__name"] for w in self.workstations}
        ws_rows = self.stats_rows(self.stats("workstation"), ws_groups)
        for row in ws_rows:
            row["street"] = ws_street.get(row["key"], "")
        by_workstation = Table(
            "responsiveness-workstation",
            "响应速度：按工作站",
            [
                Column("street", "街道（开发区）"),
                Column("label", "工作站"),
                *RESPONSIVENESS_COLUMNS,
            ],
            ws_rows,
            self.total_row(None, street=f"合计（{self.scope_name}）", label="全部工作站"),
        )
        return by_street, by_workstation, self.trend()

    def trend(self) -> Table:
        month = TruncMonth("created_at", tzinfo=timezone.get_current_timezone())
        aggregates = need_aggregates(self.now)
        by_month = {
            _month_key(row.pop("month")): row
            for row in self.needs.order_by()
            .annotate(month=month)
            .values("month")
            .annotate(
                **{
                    key: aggregates[key]
                    for key in ("raised", "effective", "resolved", "overdue", "resolve_p50")
                }
            )
        }
        rows = []
        for key in _months(self.params.start, self.params.end):
            n = by_month.get(key, {})
            row = {
                "month": key,
                "raised": n.get("raised", 0),
                "resolved": n.get("resolved", 0),
                "resolution_rate": _share(n.get("resolved", 0), n.get("effective", 0)),
                "overdue": n.get("overdue", 0),
                "resolve_p50": n.get("resolve_p50"),
            }
            rows.append(suppress_small(row))
        return Table(
            "trend",
            "响应速度：按月趋势（按提出月份）",
            [
                Column("month", "月份"),
                Column("raised", "诉求数", Kind.INT),
                Column("resolved", "办结数", Kind.INT),
                Column("resolution_rate", "办结率", Kind.PCT),
                Column("overdue", "超时数", Kind.INT),
                Column("resolve_p50", "办结天数中位数", Kind.DAYS),
            ],
            rows,
        )

    # -- projects (项目制) --

    def projects_tables(self) -> tuple[Table, Table]:
        by_status = _grouped(
            self.projects_with_cancelled,
            "status",
            {"n": Count("pk"), "budget_sum": Sum("budget"), "spent_sum": Sum("spent")},
        )
        pipeline_rows = [
            {
                "label": label,
                "projects": by_status.get(value, {}).get("n", 0),
                "budget": by_status.get(value, {}).get("budget_sum") or Decimal("0"),
                "spent": by_status.get(value, {}).get("spent_sum") or Decimal("0"),
            }
            for value, label in ProjectStatus.choices
        ]
        pipeline = Table(
            "projects-pipeline",
            "服务项目：各阶段项目",
            [
                Column("label", "阶段"),
                Column("projects", "项目数", Kind.INT),
                Column("budget", "预算（元）", Kind.MONEY),
                Column("spent", "支出（元）", Kind.MONEY),
            ],
            pipeline_rows,
            {
                "label": f"合计（{self.scope_name}）",
                "projects": sum(r["projects"] for r in pipeline_rows),
                "budget": sum((r["budget"] for r in pipeline_rows), Decimal("0")),
                "spent": sum((r["spent"] for r in pipeline_rows), Decimal("0")),
            },
        )
        per_street = _grouped(
            self.projects,
            "street",
            {
                "projects": Count("pk"),
                "passed": Count("pk", filter=Q(status__in=PROJECT_PASSED)),
                "verdicts": Count("pk", filter=Q(status__in=PROJECT_VERDICT)),
                "assessment_sum": Sum("assessment_score"),
                "assessment_n": Count("assessment_score"),
                "acceptance_sum": Sum("acceptance_score"),
                "acceptance_n": Count("acceptance_score"),
            },
        )
        rewards_scope = Reward.objects.filter(
            project__in=ServiceProject.objects.within(self.params.scope).values("pk"),
            awarded_at__gte=self.params.start_at,
            awarded_at__lt=self.params.end_before,
        )
        if self.params.street is not None:
            rewards_scope = rewards_scope.filter(project__street=self.params.street)
        if self.params.area is not None:
            rewards_scope = rewards_scope.filter(project__area=self.params.area)
        rewards = _grouped(
            rewards_scope, "project__street", {"rewards": Count("pk"), "amount": Sum("amount")}
        )
        rows = []
        for street in self.streets:
            p = per_street.get(street["pk"], {})
            r = rewards.get(street["pk"], {})
            rows.append(_project_row(street["name"], p, r))
        total = _project_row(
            f"合计（{self.scope_name}）",
            _sum_rows(per_street.values()),
            _sum_rows(rewards.values()),
        )
        summary = Table(
            "projects-summary",
            "服务项目：考核、验收与奖励",
            [
                Column("label", "街道（开发区）"),
                Column("projects", "项目数", Kind.INT),
                Column("verdicts", "已验收", Kind.INT),
                Column("passed", "验收通过", Kind.INT),
                Column("pass_rate", "验收通过率", Kind.PCT),
                Column("mean_assessment", "平均考核得分", Kind.NUM),
                Column("mean_acceptance", "平均验收得分", Kind.NUM),
                Column("rewards", "奖励数", Kind.INT),
                Column("reward_amount", "奖励金额（元）", Kind.MONEY),
            ],
            rows,
            total,
        )
        return pipeline, summary

    # -- follow-up (回访抽查) --

    def follow_up(self) -> Table:
        calls = _grouped(
            FollowUpCall.objects.within(self.params.scope).filter(need__in=self.needs.values("pk")),
            "street",
            {
                "calls": Count("pk"),
                "called": Count("pk", filter=Q(reached__isnull=False)),
                "reached_n": Count("pk", filter=Q(reached=True)),
                "sampled_satisfied": Count("pk", filter=Q(reached=True) & Rating.satisfied_q()),
            },
        )
        self_reported = self.stats("workstation__street")
        rows = [
            _follow_up_row(
                street["name"], calls.get(street["pk"], {}), self_reported.row(street["pk"])
            )
            for street in self.streets
        ]
        total = _follow_up_row(
            f"合计（{self.scope_name}）", _sum_rows(calls.values()), self.total.row(None)
        )
        return Table(
            "follow-up",
            "回访抽查：抽样满意率与自报满意率",
            [
                Column("label", "街道（开发区）"),
                Column("calls", "抽取件数", Kind.INT),
                Column("called", "已回访", Kind.INT),
                Column("reached", "接通", Kind.INT),
                Column("sampled_rate", "抽样满意率", Kind.PCT),
                Column("self_rate", "自报满意率", Kind.PCT),
                Column("gap", "差距（百分点）", Kind.POINTS),
            ],
            rows,
            total,
            note="差距 = 自报满意率 − 抽样满意率；接通不足 5 件的不计算抽样满意率。",
        )

    # -- ranking (考核) --

    def ranking(self) -> tuple[Table, dict[str, int]]:
        district_id = self.streets[0]["district_id"] if self.streets else None
        weights = RankingWeights.for_district(district_id)
        stats = self.stats("workstation")
        project_scores = _grouped(
            self.projects.filter(status__in=PROJECT_VERDICT, workstation__isnull=False),
            "workstation",
            {"mean_acceptance": Avg("acceptance_score")},
        )
        total_weight = sum(weights.values())
        rows = []
        for ws in self.workstations:
            effective = stats.needs.get(ws["pk"], {}).get("effective", 0)
            row = {"label": ws["name"], "street": ws["street__name"], "effective": effective}
            if effective >= MIN_GROUP:
                n = stats.needs[ws["pk"]]
                r = stats.ratings.get(ws["pk"], {})
                mean = project_scores.get(ws["pk"], {}).get("mean_acceptance")
                row["responsiveness"] = 100 * (_share(n["accepted_on_time"], n["accepted"]) or 0)
                row["resolution"] = 100 * (_share(n["resolved"], n["effective"]) or 0)
                row["satisfaction"] = 100 * (
                    _share(r.get("satisfied", 0), r.get("ratings", 0)) or 0
                )
                row["projects"] = float(mean) if mean is not None else 0.0
                row["score"] = sum(weights[k] * row[k] for k in weights) / total_weight
            rows.append(row)
        ranked = sorted((r for r in rows if "score" in r), key=lambda r: -r["score"])
        previous, rank = None, 0
        for position, row in enumerate(ranked, start=1):
            # Equal scores share a rank; compare past floating-point noise, not display.
            if previous is None or not math.isclose(row["score"], previous, abs_tol=1e-9):
                rank, previous = position, row["score"]
            row["rank"] = rank
        unranked = [r for r in rows if "score" not in r]
        table = Table(
            "ranking",
            "工作站考核排名",
            [
                Column("rank", "名次", Kind.INT),
                Column("label", "工作站"),
                Column("street", "街道（开发区）"),
                Column("effective", "有效诉求", Kind.INT),
                Column("responsiveness", "响应（及时受理率）", Kind.NUM),
                Column("resolution", "办结（办结率）", Kind.NUM),
                Column("satisfaction", "满意（满意率）", Kind.NUM),
                Column("projects", "项目（验收得分）", Kind.NUM),
                Column("score", "综合得分", Kind.NUM),
            ],
            ranked + unranked,
            note=f"有效诉求不足 {MIN_GROUP} 件的工作站不参与排名。",
        )
        return table, weights

    def build(self) -> Report:
        balance = self.balance()
        sufficiency, unserved = self.sufficiency()
        heatmap, heatmap_table = self.heatmap()
        by_street, by_workstation, trend = self.responsiveness()
        pipeline, summary = self.projects_tables()
        ranking, weights = self.ranking()
        return Report(
            params=self.params,
            balance=balance,
            sufficiency=sufficiency,
            unserved_areas=unserved,
            heatmap=heatmap,
            heatmap_table=heatmap_table,
            responsiveness_street=by_street,
            responsiveness_workstation=by_workstation,
            trend=trend,
            projects_pipeline=pipeline,
            projects_summary=summary,
            follow_up=self.follow_up(),
            ranking=ranking,
            weights=weights,
        )


def build_report(params: ReportParams, now: dt.datetime | None = None) -> Report:
    """Every section of the report for ``params``; a fixed number of queries."""
    return ReportBuilder(params, now=now).build()


# --- small helpers ---------------------------------------------------------------------


def _month_key(value) -> str:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value:%Y-%m}"


def _months(start: dt.date, end: dt.date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _sum_rows(rows: Iterable[dict]) -> dict:
    total: dict = {}
    for row in rows:
        for key, value in row.items():
            if value is not None:
                total[key] = total.get(key, 0) + value
    return total


def _mean(total, count):
    return float(total) / count if count else None


def _project_row(label: str, p: dict, r: dict) -> dict:
    return {
        "label": label,
        "projects": p.get("projects", 0),
        "verdicts": p.get("verdicts", 0),
        "passed": p.get("passed", 0),
        "pass_rate": _share(p.get("passed", 0), p.get("verdicts", 0)),
        "mean_assessment": _mean(p.get("assessment_sum"), p.get("assessment_n", 0)),
        "mean_acceptance": _mean(p.get("acceptance_sum"), p.get("acceptance_n", 0)),
        "rewards": r.get("rewards", 0),
        "reward_amount": r.get("amount") or Decimal("0"),
    }


def _follow_up_row(label: str, calls: dict, self_reported: dict) -> dict:
    reached = calls.get("reached_n", 0)
    sampled = _share(calls.get("sampled_satisfied", 0), reached) if reached >= MIN_GROUP else None
    self_rate = self_reported.get("satisfaction_rate")
    return {
        "label": label,
        "calls": calls.get("calls", 0),
        "called": calls.get("called", 0),
        "reached": reached,
        "sampled_rate": sampled,
        "self_rate": self_rate,
        "gap": self_rate - sampled if sampled is not None and self_rate is not None else None,
    }
