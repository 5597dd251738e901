"""The pure parts of the benchmark: wrk's report, percentiles, targets, the results table.

Nothing here starts a process or touches Django, so tests/scale/test_bench.py can check it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The line bench/wrk/report.lua prints when a run ends.
WRK_JSON_MARKER = "BENCH_JSON "


class BenchError(RuntimeError):
    """The benchmark could not measure something; the message says what to fix."""


# --- one page's measurement -------------------------------------------------------------


@dataclass
class Measurement:
    """What one load run (or the sequential cold run) measured on one page."""

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    # Socket errors and timeouts from wrk, plus responses whose status was not the expected one.
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def parse_wrk_output(stdout: str) -> Measurement:
    """The measurement from wrk's output, read from the JSON line report.lua's done() prints.

    wrk's own ``errors.status`` counts responses ≥ 400; report.lua's ``unexpected_status``
    counts every status other than the one the page should answer (a redirect to the login
    page on a page that should answer 200 is an error too), so it replaces wrk's figure.
    """
    for line in reversed(stdout.splitlines()):
        if line.startswith(WRK_JSON_MARKER):
            data = json.loads(line[len(WRK_JSON_MARKER) :])
            break
    else:
        raise BenchError("wrk printed no result line; was it run with bench/wrk/report.lua?")
    wrk_errors = data["errors"]
    latency = data["latency_ms"]
    return Measurement(
        requests=int(data["requests"]),
        duration_s=float(data["duration_s"]),
        rps=float(data["rps"]),
        p50_ms=float(latency["p50"]),
        p95_ms=float(latency["p95"]),
        p99_ms=float(latency["p99"]),
        max_ms=float(latency["max"]),
        errors={
            "connect": int(wrk_errors["connect"]),
            "read": int(wrk_errors["read"]),
            "write": int(wrk_errors["write"]),
            "timeout": int(wrk_errors["timeout"]),
            "status": int(wrk_errors["unexpected_status"]),
        },
        statuses={str(code): int(n) for code, n in data.get("statuses", {}).items()},
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), interpolated linearly between the closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measurement_from_timings(
    timings_ms: Sequence[float], statuses: Iterable[int], expected: int = 200
) -> Measurement:
    """A measurement of sequential single requests (the cold report), one timing each."""
    statuses = list(statuses)
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    total_s = sum(timings_ms) / 1000
    return Measurement(
        requests=len(timings_ms),
        duration_s=total_s,
        rps=len(timings_ms) / total_s if total_s else 0.0,
        p50_ms=percentile(timings_ms, 50),
        p95_ms=percentile(timings_ms, 95),
        p99_ms=percentile(timings_ms, 99),
        max_ms=max(timings_ms),
        errors={"status": sum(1 for status in statuses if status != expected)},
        statuses=counts,
    )


# --- targets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a page must achieve: a p95 latency ceiling and/or a share of the bare throughput."""

    p95_ms: float | None = None
    min_ratio: float | None = None

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"≥ {self.min_ratio:.0%} of bare")
        if self.p95_ms is not None:
            parts.append(
                f"p95 < {self.p95_ms / 1000:g} s"
                if self.p95_ms >= 1000
                else f"p95 < {self.p95_ms:g} ms"
            )
        return ", ".join(parts)


# The targets, at 8 concurrent clients.
PUBLIC_PAGE = Target(p95_ms=150, min_ratio=0.05)  # worker pages and the public showcase
ADMIN_PAGE = Target(p95_ms=400)
REPORT_COLD = Target(p95_ms=1500)
REPORT_WARM = Target(p95_ms=100)
WORKER_MEMORY_MB = 250


def judge(measurement: Measurement, target: Target | None, ratio: float | None) -> bool | None:
    """Pass (True), fail (False), or None when the page has no target (the bare view).

    Any error fails a page: a fast page that answers with errors has not been measured.
    """
    if target is None:
        return None
    if measurement.error_count or measurement.requests == 0:
        return False
    if target.p95_ms is not None and not measurement.p95_ms < target.p95_ms:
        return False
    return not (target.min_ratio is not None and (ratio is None or ratio < target.min_ratio))


# --- the table --------------------------------------------------------------------------


@dataclass
class PageResult:
    """One row of the results table."""

    key: str
    label: str
    url: str
    account: str | None
    measurement: Measurement | None
    target: Target | None
    ratio: float | None = None
    queries: int | None = None
    passed: bool | None = None
    note: str = ""

    def as_dict(self) -> dict:
        m = self.measurement
        return {
            "key": self.key,
            "label": self.label,
            "url": self.url,
            "account": self.account,
            "requests": m.requests if m else None,
            "duration_s": round(m.duration_s, 3) if m else None,
            "rps": round(m.rps, 2) if m else None,
            "ratio_to_bare": round(self.ratio, 4) if self.ratio is not None else None,
            "latency_ms": (
                {
                    "p50": round(m.p50_ms, 2),
                    "p95": round(m.p95_ms, 2),
                    "p99": round(m.p99_ms, 2),
                    "max": round(m.max_ms, 2),
                }
                if m
                else None
            ),
            "errors": m.error_count if m else None,
            "error_kinds": m.errors if m else None,
            "statuses": m.statuses if m else None,
            "queries_per_request": self.queries,
            "target": self.target.describe() if self.target else None,
            "passed": self.passed,
            "note": self.note,
        }


BARE_KEYS = ("bare", "bare-end")


def with_ratios(rows: list[PageResult]) -> list[PageResult]:
    """Fill each row's ratio to the bare view's throughput and its pass/fail verdict.

    The bare view is measured first and last; its mean throughput is the reference, so a
    machine that got busier (or quieter) during the run moves every ratio only half as much.
    """
    bare = [row.measurement.rps for row in rows if row.key in BARE_KEYS and row.measurement]
    bare_rps = sum(bare) / len(bare) if bare else 0.0
    for row in rows:
        if row.measurement is None:
            continue
        if bare_rps and row.ratio is None and row.key != "reports-cold":
            row.ratio = row.measurement.rps / bare_rps
        row.passed = judge(row.measurement, row.target, row.ratio)
    return rows


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "—"}[passed]


TABLE_HEADER = (
    "| page | req/s | ratio to bare | p50 ms | p95 ms | p99 ms | errors | queries/request "
    "| target | result |"
)


def results_table(rows: Sequence[PageResult], memory_mb: float | None = None) -> str:
    """The Markdown table of every page, and the workers' peak memory as its last row."""
    lines = [TABLE_HEADER, "|" + " --- |" * 10]
    for row in rows:
        m = row.measurement
        if m is None:
            cells = [row.label, "—", "—", "—", "—", "—", "—", "—"]
        else:
            cells = [
                row.label,
                f"{m.rps:,.1f}",
                f"{row.ratio:.1%}" if row.ratio is not None else "—",
                _ms(m.p50_ms),
                _ms(m.p95_ms),
                _ms(m.p99_ms),
                str(m.error_count),
                str(row.queries) if row.queries is not None else "—",
            ]
        cells += [row.target.describe() if row.target else "—", _verdict(row.passed)]
        lines.append("| " + " | ".join(cells) + " |")
    if memory_mb is not None:
        passed = memory_mb < WORKER_MEMORY_MB
        lines.append(
            f"| gunicorn workers' peak memory | {memory_mb:,.0f} MB | | | | | | "
            f"| < {WORKER_MEMORY_MB} MB | {_verdict(passed)} |"
        )
    return "\n".join(lines)


def facts_table(facts: dict[str, object]) -> str:
    """A two-column Markdown table of the machine and data facts."""
    lines = ["| | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in facts.items()]
    return "\n".join(lines)
