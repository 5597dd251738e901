"""/reports/: the district's report page and its table downloads.

Views parse, authorise, fetch the report through ``cache.get_report`` and render; the
figures come from ``metrics`` and are defined in docs/reports.md. A page and the downloads
made from it show the same kept figures and say when they were computed. An invalid filter never fails the
page: the form shows its errors and the report falls back to the default period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from apps.workstations.jurisdiction import Jurisdiction

from . import charts, exports
from .cache import CachedReport, get_report
from .context_processors import remember_report_access
from .filters import ReportFilter
from .metrics import Dimension, Report
from .scope import may_draw_follow_up, report_scope
from .tables import Column, Table

FORBIDDEN = "统计报表供考核人员和街道（开发区）、县区工会干部查看。"
WEIGHT_LABELS = {
    "responsiveness": ("响应", "按时受理数 ÷ 受理数 × 100"),
    "resolution": ("办结", "办结率 × 100"),
    "satisfaction": ("满意", "满意率 × 100，没有评价记 0"),
    "projects": ("项目", "期内有验收结论的项目的平均验收得分，没有记 0"),
}
TREND_SERIES = [
    charts.Series("raised", "提出诉求", charts.RAISED_COLOUR),
    charts.Series("resolved", "办结", charts.RESOLVED_COLOUR),
]


def report_scope_or_403(request) -> Jurisdiction:
    """The part of the district the user may report on; 403 when there is none."""
    scope = report_scope(request.user)
    remember_report_access(request, not scope.is_empty)
    if scope.is_empty:
        raise PermissionDenied(FORBIDDEN)
    return scope


def filtered_report(request) -> tuple[ReportFilter, CachedReport]:
    scope = report_scope_or_403(request)
    filterset = ReportFilter(request.GET or None, scope=scope)
    refresh = request.GET.get("refresh") == "1"
    return filterset, get_report(filterset.params(), refresh=refresh)


# --- tables as the page shows them ----------------------------------------------------


@dataclass
class Cell:
    text: str
    numeric: bool
    header: bool = False  # the row's name: its "label" column, else its first text column


@dataclass
class Row:
    cells: list[Cell]
    highlight: bool = False


@dataclass
class TableView:
    table: Table
    body: list[Row]
    foot: Row | None
    has_data: bool
    csv_url: str
    xlsx_url: str

    @property
    def columns(self) -> list[Column]:
        return self.table.columns


def _has_data(table: Table) -> bool:
    """Whether any figure of the table is other than zero or blank."""
    return any(
        row.get(column.key) not in (None, 0, "")
        for row in [*table.rows, table.total or {}]
        for column in table.columns
        if column.numeric
    )


def present_table(
    table: Table, query: str, highlight: Callable[[dict], bool] = lambda row: False
) -> TableView:
    keys = [column.key for column in table.columns]
    text = [i for i, column in enumerate(table.columns) if not column.numeric]
    names = keys.index("label") if "label" in keys else (text or [0])[0]
    rows = [
        Row(
            [
                Cell(text, column.numeric, header=index == names)
                for index, (text, column) in enumerate(zip(cells, table.columns, strict=True))
            ]
        )
        for cells in table.display_rows()
    ]
    foot = rows.pop() if table.total else None
    for row, raw in zip(rows, table.rows, strict=True):
        row.highlight = highlight(raw)
    suffix = f"?{query}" if query else ""
    return TableView(
        table=table,
        body=rows,
        foot=foot,
        has_data=_has_data(table),
        csv_url=reverse("reports:export", args=[table.key, "csv"]) + suffix,
        xlsx_url=reverse("reports:export", args=[table.key, "xlsx"]) + suffix,
    )


# --- sections -------------------------------------------------------------------------


def cv_reading(cv: float | None) -> str:
    """The coefficient of variation in plain words."""
    if cv is None:
        return "可比较的分组不足两个，暂不计算"
    if cv < 0.1:
        return "各组之间比较均衡"
    if cv < 0.3:
        return "各组之间有一定差距"
    return "各组之间差距较大"


@dataclass
class DimensionView:
    dimension: Dimension
    table: TableView
    chart: charts.BarChart

    @property
    def indicators(self) -> list[tuple[str, str, str]]:
        """(figure, coefficient, reading) for each imbalance indicator of the dimension."""
        shown = [("办结率", self.dimension.cv_resolution)]
        if any(column.key == "per_thousand" for column in self.dimension.table.columns):
            shown.append(("每千名会员诉求数", self.dimension.cv_per_thousand))
        return [(label, "—" if cv is None else f"{cv:.2f}", cv_reading(cv)) for label, cv in shown]


def dimension_view(dimension: Dimension, query: str) -> DimensionView:
    lagging = dimension.lagging_key
    table = present_table(
        dimension.table,
        query,
        highlight=lambda row: bool(dimension.lagging) and row.get("key") == lagging,
    )
    chart = charts.bar_chart(
        dimension.table,
        "resolution_rate",
        chart_id=f"chart-{dimension.table.key}",
        title=f"{dimension.title}：各组办结率",
    )
    return DimensionView(dimension, table, chart)


def pipeline_stages(table: Table) -> list[tuple[str, int]]:
    """(stage, projects) from the pipeline table: its first text column and first count."""
    label = next(c.key for c in table.columns if not c.numeric)
    count = next(c.key for c in table.columns if c.numeric)
    return [(str(row.get(label, "")), int(row.get(count) or 0)) for row in table.rows]


def weight_rows(weights: dict[str, int]) -> list[dict]:
    return [
        {"label": label, "weight": weights.get(key, 0), "explanation": explanation}
        for key, (label, explanation) in WEIGHT_LABELS.items()
    ]


def report_context(report: Report, query: str) -> dict:
    """Every section of the page: its tables as shown, and its charts."""
    weights = weight_rows(report.weights)
    return {
        "report": report,
        "has_data": any(_has_data(table) for table in report.tables().values()),
        "dimensions": [dimension_view(d, query) for d in report.balance],
        "sufficiency": present_table(
            report.sufficiency, query, highlight=lambda row: bool(row.get("flag"))
        ),
        "heatmap": charts.heat_map(report.heatmap, title="各街道（开发区）× 服务领域需求热力图"),
        "heatmap_table": present_table(
            report.heatmap_table, query, highlight=lambda row: bool(row.get("unserved"))
        ),
        "responsiveness_street": present_table(report.responsiveness_street, query),
        "responsiveness_workstation": present_table(report.responsiveness_workstation, query),
        "trend": present_table(report.trend, query),
        "trend_chart": charts.trend_chart(
            report.trend, TREND_SERIES, chart_id="chart-trend", title="每月提出与办结的诉求数"
        ),
        "pipeline": present_table(report.projects_pipeline, query),
        "pipeline_chart": charts.pipeline_chart(
            pipeline_stages(report.projects_pipeline),
            chart_id="chart-pipeline",
            title="服务项目各阶段数量",
        ),
        "projects_summary": present_table(report.projects_summary, query),
        "follow_up": present_table(report.follow_up, query),
        "ranking": present_table(report.ranking, query),
        "weights": weights,
        "weight_total": sum(w["weight"] for w in weights),
    }


# --- views ----------------------------------------------------------------------------


def report_body(kept: CachedReport, may_draw: bool) -> str:
    """The report's sections as HTML, rendered once per computed report.

    A district's report lays out tables of hundreds of workstations; rendering them costs
    more than looking the figures up. The HTML is kept beside the figures, under their
    version, so a reviewer's next look renders only the page around it.
    """
    key = f"{kept.version}:body:{int(may_draw)}"
    body = cache.get(key)
    if body is None:
        query = kept.report.params.query_string()
        body = render_to_string(
            "reports/_report_body.html",
            {
                "may_draw_follow_up": may_draw,
                "follow_up_url": reverse("reports:follow-up-list") + (f"?{query}" if query else ""),
                **report_context(kept.report, query=query),
            },
        )
        cache.set(key, body, settings.REPORT_MAX_AGE_SECONDS)
    return mark_safe(body)  # rendered by our own template, escaped there


class ReportView(LoginRequiredMixin, TemplateView):
    template_name = "reports/report.html"

    def get(self, request, *args, **kwargs):
        filterset, kept = filtered_report(request)
        query = kept.report.params.query_string()
        context = self.get_context_data(
            filter=filterset,
            kept=kept,
            report=kept.report,
            refresh_url=reverse("reports:report") + f"?{query}&refresh=1",
            report_body=report_body(kept, may_draw_follow_up(request.user)),
        )
        return self.render_to_response(context)


@login_required
@require_GET
def export_table(request, table: str, fmt: str):
    """One table of the report, with the page's filters, as CSV or XLSX."""
    if fmt not in exports.FORMATS:
        raise Http404
    _, kept = filtered_report(request)
    chosen = kept.report.tables().get(table)
    if chosen is None:
        raise Http404
    return exports.export_response(chosen, kept.report.params, fmt, computed_at=kept.computed_at)
