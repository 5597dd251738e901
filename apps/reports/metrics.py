"""The report's figures, aggregated in the database (definitions: docs/reports.md).

Every figure comes from a grouped query (conditional aggregation, ``PercentileCont``
for medians and p90); Python only combines the per-group rows — never loops over
needs or members — so the page runs the same number of queries whatever the size
of the district. ``build_report`` returns a ``Report`` whose tables the page shows
and the exports write.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
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
from apps.needs.models import Channel, Need, Rating, ServiceArea, ever_overdue_q
from apps.needs.workflow import Status
from apps.projects.models import Reward, ServiceProject
from apps.projects.workflow import Status as ProjectStatus
from apps.workstations.models import OwnershipType, Street, Workstation

from .filters import ReportParams
from .models import FollowUpCall, RankingWeights
from .tables import Column, Kind, Table

# A group with fewer raised needs than this shows its count and nothing else.
MIN_GROUP = 5

NOT_EFFECTIVE = (Status.WITHDRAWN, Status.MERGED)
RESOLVED = (Status.RESOLVED, Status.CLOSED)
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
