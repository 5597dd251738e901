"""The report's charts, laid out in Python and drawn as inline SVG by the templates.

No JavaScript and no charting library: each function returns a small dataclass with
every coordinate worked out, and ``templates/reports/_chart_*.html`` only writes the
elements. Every chart is an image (``role="img"`` with a title) whose numbers are in
the table printed next to it, so colour is never the only carrier of a figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .metrics import HeatMap
from .tables import DASH, Kind, Table, display

# Colours with at least 3:1 contrast against white (graphical objects, WCAG 1.4.11).
RAISED_COLOUR = "#6c757d"
RESOLVED_COLOUR = "#b3121f"
STAGE_COLOURS = ["#55595f", "#0b5cad", "#0f6674", "#8a6d00", "#1e7a34", "#6f42c1", "#842029"]


def _f(value: float) -> float:
    """Coordinates rounded for compact, stable markup."""
    return round(value, 1)


# --- horizontal bars: one value per group against the whole scope ----------------------

BAR_WIDTH = 420  # viewBox units; the chart scales to its container
BAR_PLOT = 340  # room for the bars, leaving space for the value after the longest one
BAR_ROW = 44
BAR_TOP = 26


@dataclass
class Bar:
    label: str
    text: str
    label_y: float
    bar_y: float
    width: float
    text_x: float
    text_y: float


@dataclass
class BarChart:
    chart_id: str
    title: str
    bars: list[Bar]
    height: float
    ref_x: float | None = None
    ref_text: str = ""
    ref_anchor: str = "start"
    ref_text_x: float = 0
    width: int = BAR_WIDTH
    plot_width: int = BAR_PLOT
    bar_height: int = 16
    colour: str = RESOLVED_COLOUR


def bar_chart(
    table: Table, value_key: str, *, chart_id: str, title: str, label_key: str = "label"
) -> BarChart:
    """One bar per row of ``table``, with a reference line at the table's total."""
    column = next(c for c in table.columns if c.key == value_key)
    values = [row.get(value_key) for row in table.rows]
    reference = (table.total or {}).get(value_key)
    scale = _bar_scale(column.kind, [*values, reference])
    bars = []
    for index, row in enumerate(table.rows):
        top = BAR_TOP + index * BAR_ROW
        value = row.get(value_key)
        width = _f(float(value) / scale * BAR_PLOT) if value is not None else 0
        text = column.display(value)
        if row.get("small"):
            text += "（少于 5 件不展示）"
        bars.append(
            Bar(
                label=str(row.get(label_key, "")),
                text=text,
                label_y=top + 14,
                bar_y=top + 20,
                width=width,
                text_x=_f(width + 6),
                text_y=top + 33,
            )
        )
    chart = BarChart(chart_id, title, bars, height=BAR_TOP + len(bars) * BAR_ROW + 4)
    if reference is not None:
        chart.ref_x = _f(float(reference) / scale * BAR_PLOT)
        total_label = str((table.total or {}).get(label_key, "合计"))
        chart.ref_text = f"{total_label} {column.display(reference)}"
        chart.ref_anchor = "end" if chart.ref_x > BAR_PLOT / 2 else "start"
        chart.ref_text_x = _f(chart.ref_x - 4 if chart.ref_anchor == "end" else chart.ref_x + 4)
    return chart


def _bar_scale(kind: str, values) -> float:
    """Shares are drawn on 0–100%; anything else on 0 to its largest value."""
    if kind == Kind.PCT:
        return 1.0
    known = [float(v) for v in values if v is not None]
    return max(known, default=0) or 1.0


# --- vertical bars by month -------------------------------------------------------------

TREND_WIDTH = 420
TREND_HEIGHT = 260
TREND_LEFT = 40
TREND_RIGHT = 8
TREND_TOP = 34
TREND_BOTTOM = 30
TICKS = 4


@dataclass
class Series:
    key: str
    label: str
    colour: str


@dataclass
class TrendBar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class Tick:
    y: float
    text: str


@dataclass
class MonthLabel:
    x: float
    text: str


@dataclass
class LegendItem:
    x: float
    label: str
    colour: str

    @property
    def text_x(self) -> float:
        return self.x + 20


@dataclass
class TrendChart:
    chart_id: str
    title: str
    bars: list[TrendBar]
    ticks: list[Tick]
    months: list[MonthLabel]
    legend: list[LegendItem]
    width: int = TREND_WIDTH
    height: int = TREND_HEIGHT
    plot_left: int = TREND_LEFT
    plot_right: int = TREND_WIDTH - TREND_RIGHT
    baseline: int = TREND_HEIGHT - TREND_BOTTOM
    label_y: int = TREND_HEIGHT - 10
    axis_x: int = TREND_LEFT - 6
    middle: int = TREND_WIDTH // 2
    empty: bool = False


def nice_step(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least ``value``."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for multiple in (1, 2, 5, 10):
        if value <= multiple * power:
            return int(multiple * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def trend_chart(
    table: Table, series: list[Series], *, chart_id: str, title: str, label_key: str = "month"
) -> TrendChart:
    """Side-by-side bars of each series per month (counts), on a shared 0-based axis."""
    rows = table.rows
    largest = max((row.get(s.key) or 0 for row in rows for s in series), default=0)
    step = nice_step(largest / TICKS)
    top_value = step * TICKS
    plot_height = TREND_HEIGHT - TREND_TOP - TREND_BOTTOM
    plot_width = TREND_WIDTH - TREND_LEFT - TREND_RIGHT
    slot = plot_width / max(len(rows), 1)
    bar_width = min(18.0, slot * 0.8 / len(series))
    baseline = TREND_HEIGHT - TREND_BOTTOM
    bars = []
    for index, row in enumerate(rows):
        group_left = TREND_LEFT + index * slot + (slot - bar_width * len(series)) / 2
        for position, s in enumerate(series):
            value = row.get(s.key)
            if value is None:  # a small month: only its count is shown
                continue
            height = value / top_value * plot_height
            bars.append(
                TrendBar(
                    x=_f(group_left + position * bar_width),
                    y=_f(baseline - height),
                    width=_f(bar_width),
                    height=_f(height),
                    colour=s.colour,
                    title=f"{row.get(label_key, '')} {s.label} {value}",
                )
            )
    ticks = [
        Tick(y=_f(baseline - i * plot_height / TICKS), text=f"{i * step:,}")
        for i in range(TICKS + 1)
    ]
    every = max(1, math.ceil(len(rows) * 64 / plot_width))  # about 64 units per label
    months = [
        MonthLabel(x=_f(TREND_LEFT + (index + 0.5) * slot), text=str(row.get(label_key, "")))
        for index, row in enumerate(rows)
        if index % every == 0
    ]
    legend = [
        LegendItem(x=TREND_LEFT + i * 100, label=s.label, colour=s.colour)
        for i, s in enumerate(series)
    ]
    return TrendChart(chart_id, title, bars, ticks, months, legend, empty=largest == 0 or not rows)


# --- one stacked bar: projects by stage -------------------------------------------------

PIPE_WIDTH = 420
PIPE_BAR_Y = 8
PIPE_BAR_HEIGHT = 32
PIPE_LEGEND_TOP = 62
PIPE_LEGEND_ROW = 24
PIPE_LEGEND_COLUMNS = 3


@dataclass
class Segment:
    x: float
    width: float
    colour: str
    title: str


@dataclass
class StageKey:
    x: float
    y: float
    colour: str
    text: str

    @property
    def text_x(self) -> float:
        return _f(self.x + 20)

    @property
    def text_y(self) -> float:
        return self.y + 12


@dataclass
class PipelineChart:
    chart_id: str
    title: str
    segments: list[Segment]
    keys: list[StageKey]
    height: float
    total: int
    width: int = PIPE_WIDTH
    bar_y: int = PIPE_BAR_Y
    bar_height: int = PIPE_BAR_HEIGHT
    empty_y: int = PIPE_BAR_Y + 21


def pipeline_chart(stages: list[tuple[str, int]], *, chart_id: str, title: str) -> PipelineChart:
    """Stages left to right, each as wide as its share of the projects."""
    total = sum(count for _, count in stages)
    segments, keys = [], []
    x = 0.0
    column_width = PIPE_WIDTH / PIPE_LEGEND_COLUMNS
    for index, (label, count) in enumerate(stages):
        colour = STAGE_COLOURS[index % len(STAGE_COLOURS)]
        if total and count:
            width = count / total * PIPE_WIDTH
            segments.append(Segment(_f(x), _f(width), colour, f"{label} {count}"))
            x += width
        row, column = divmod(index, PIPE_LEGEND_COLUMNS)
        keys.append(
            StageKey(
                x=_f(column * column_width),
                y=PIPE_LEGEND_TOP + row * PIPE_LEGEND_ROW,
                colour=colour,
                text=f"{label} {count}",
            )
        )
    rows = math.ceil(len(stages) / PIPE_LEGEND_COLUMNS)
    height = PIPE_LEGEND_TOP + rows * PIPE_LEGEND_ROW
    return PipelineChart(chart_id, title, segments, keys, height, total)


# --- heat map: streets × service areas --------------------------------------------------


@dataclass
class HeatMapCell:
    value: str  # needs per 1,000 members, or "—" when the street has no members
    raised: int
    projects: int
    level: int
    unserved: bool


@dataclass
class HeatMapView:
    title: str
    areas: list[str]
    rows: list[tuple[str, list[HeatMapCell]]] = field(default_factory=list)
    unserved_count: int = 0

    @property
    def aria_label(self) -> str:
        text = f"{self.title}：颜色越深，每千名会员诉求越多"
        if self.unserved_count:
            text += f"；{self.unserved_count} 个格有诉求但没有服务项目，标有“无项目”"
        return text + "。各格数字见下表。"


def heat_map(heatmap: HeatMap, *, title: str) -> HeatMapView:
    view = HeatMapView(title=title, areas=heatmap.areas)
    for street, cells in heatmap.rows:
        shown = [
            HeatMapCell(
                value=display(cell.per_thousand, Kind.NUM)
                if cell.per_thousand is not None
                else DASH,
                raised=cell.raised,
                projects=cell.projects,
                level=cell.level,
                unserved=cell.unserved,
            )
            for cell in cells
        ]
        view.unserved_count += sum(cell.unserved for cell in shown)
        view.rows.append((street, shown))
    return view
