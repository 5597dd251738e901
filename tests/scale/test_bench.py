"""`make bench`: the pure parts of bench/ (wrk's report, the table, the verdicts) and the
benchmark's bare view, which exists only in config.bench_urls."""

import datetime as dt
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from apps.needs.models import Need, ServiceArea
from bench import results, run
from bench.probe import BENCH_TITLE_PREFIX
from bench.results import (
    ADMIN_PAGE,
    PUBLIC_PAGE,
    BenchError,
    Measurement,
    PageResult,
    Target,
    judge,
    measurement_from_timings,
    parse_wrk_output,
    percentile,
    results_table,
    with_ratios,
)

WRK_DIR = Path(run.__file__).parent / "wrk"

WRK_STDOUT = """Running 10s test @ http://127.0.0.1:8000/needs/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.00ms   10.00ms 120.00ms   70.00%
  1600 requests in 10.00s, 9.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    160.00
Transfer/sec:      0.90MB
BENCH_JSON {"requests":1600,"duration_s":10.0,"bytes":9437184,"rps":160.0,\
"latency_ms":{"mean":40.0,"max":120.0,"p50":38.5,"p95":61.25,"p99":95.0},\
"errors":{"connect":0,"read":1,"write":0,"timeout":2,"status":3,"unexpected_status":5},\
"statuses":{"200":1595,"302":2,"500":3}}
"""


def measurement(rps=100.0, p95=50.0, errors=0, requests=1000):
    return Measurement(
        requests=requests,
        duration_s=10.0,
        rps=rps,
        p50_ms=p95 / 2,
        p95_ms=p95,
        p99_ms=p95 * 1.5,
        max_ms=p95 * 2,
        errors={"status": errors},
    )


# --- wrk's report -----------------------------------------------------------------------


def test_wrk_report_is_read_from_the_json_line():
    m = parse_wrk_output(WRK_STDOUT)

    assert (m.requests, m.rps, m.p50_ms, m.p95_ms, m.p99_ms) == (1600, 160.0, 38.5, 61.25, 95.0)
    assert m.statuses == {"200": 1595, "302": 2, "500": 3}


def test_wrk_errors_count_every_unexpected_status_not_only_4xx_and_5xx():
    m = parse_wrk_output(WRK_STDOUT)

    # wrk's own "status" (≥ 400) is 3; the reporter also counts the two redirects.
    assert m.errors == {"connect": 0, "read": 1, "write": 0, "timeout": 2, "status": 5}
    assert m.error_count == 8


def test_wrk_output_without_the_report_line_is_an_error():
    with pytest.raises(BenchError):
        parse_wrk_output("Running 10s test @ http://127.0.0.1:8000/\n")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
@pytest.mark.parametrize(("path", "ok"), [("/", True), ("/missing", False)])
def test_report_lua_counts_responses_and_unexpected_statuses(path, ok):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        completed = subprocess.run(
            ["wrk", "-t1", "-c2", "-d1s", "-s", str(WRK_DIR / "report.lua")]
            + [f"http://127.0.0.1:{server.server_port}{path}", "--", "200"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.shutdown()
    m = parse_wrk_output(completed.stdout)

    assert m.requests > 0
    assert m.errors["status"] == (0 if ok else m.statuses["404"])
    assert sum(m.statuses.values()) == m.requests


# --- figures and verdicts ---------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    values = [10.0, 20.0, 30.0, 40.0, 50.0]

    assert percentile(values, 50) == 30.0
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile([7.0], 99) == 7.0


def test_sequential_timings_count_other_statuses_as_errors():
    m = measurement_from_timings([100.0, 200.0, 300.0, 400.0], [200, 200, 500, 200])

    assert (m.requests, m.p50_ms, m.max_ms) == (4, 250.0, 400.0)
    assert m.rps == pytest.approx(4 / 1.0)
    assert m.errors == {"status": 1}


def test_public_page_needs_both_the_ratio_and_the_latency():
    assert judge(measurement(p95=149), PUBLIC_PAGE, ratio=0.05) is True
    assert judge(measurement(p95=150), PUBLIC_PAGE, ratio=0.5) is False
    assert judge(measurement(p95=20), PUBLIC_PAGE, ratio=0.049) is False


def test_any_error_fails_a_page_and_the_bare_view_has_no_verdict():
    assert judge(measurement(p95=10, errors=1), ADMIN_PAGE, ratio=None) is False
    assert judge(measurement(p95=10, requests=0), ADMIN_PAGE, ratio=None) is False
    assert judge(measurement(), None, ratio=1.0) is None


def test_targets_describe_themselves():
    assert PUBLIC_PAGE.describe() == "≥ 5% of bare, p95 < 150 ms"
    assert Target(p95_ms=1500).describe() == "p95 < 1.5 s"


def test_table_gives_each_page_its_ratio_to_the_bare_view_and_a_verdict():
    rows = with_ratios(
        [
            # Measured first and last: the mean, 2000 req/s, is the reference.
            PageResult("bare", "bare view", "/b/", None, measurement(rps=2200), None),
            PageResult("bare-end", "bare view", "/b/", None, measurement(rps=1800), None),
            PageResult(
                "needs", "/needs/", "/needs/", "w", measurement(rps=200, p95=80), PUBLIC_PAGE
            ),
            PageResult("slow", "/slow/", "/slow/", "w", measurement(rps=50, p95=90), PUBLIC_PAGE),
        ]
    )
    rows[2].queries = 6
    table = results_table(rows, memory_mb=251.0).splitlines()

    assert table[0] == results.TABLE_HEADER
    assert [row.ratio for row in rows] == [1.1, 0.9, 0.1, 0.025]
    assert table[4].startswith("| /needs/ | 200.0 | 10.0% | 40.0 | 80.0 | 120 | 0 | 6 |")
    assert table[4].endswith("| pass |")
    assert table[5].endswith("| **FAIL** |")  # 2.5% of the bare view
    assert "peak memory | 251 MB" in table[6]
    assert table[6].endswith("| < 250 MB | **FAIL** |")


# --- the runner's choices ---------------------------------------------------------------


def test_cold_report_periods_are_all_different_year_windows():
    urls = run.cold_report_urls(dt.date(2026, 3, 1), 20, offset=5)

    assert len(set(urls)) == 20
    assert urls[0] == "/reports/?period=custom&start=2025-02-24&end=2026-02-23"  # 365 days


def test_district_is_reused_only_at_the_requested_size_with_its_accounts():
    accounts = run.ACCOUNTS["bench"]
    state = {
        "migrated": True,
        "members": 20_000,
        "needs": 50_000,
        "users": sorted(accounts.values()),
    }

    assert run.district_matches(state, run.SCALES["small"], accounts)
    assert not run.district_matches(state, run.SCALES["full"], accounts)
    assert not run.district_matches({**state, "users": []}, run.SCALES["small"], accounts)


def test_post_script_sends_the_same_fields_as_the_runner():
    script = (WRK_DIR / "post_need.lua").read_text(encoding="utf-8")
    form = run.post_form({"area_id": 1, "poster_workstation_id": None}, "x")

    for name in form:
        assert f'"{name}=' in script or f"&{name}=" in script, name
    assert BENCH_TITLE_PREFIX in script
    assert form["title"].startswith(BENCH_TITLE_PREFIX)


def test_the_submission_the_benchmark_posts_creates_a_need(client, worker, reference):
    area = ServiceArea.objects.order_by("order", "pk").first()
    client.force_login(worker.user)

    response = client.post("/needs/new/", run.post_form({"area_id": area.pk}, "t-1"))

    assert response.status_code == 302
    assert Need.objects.filter(submitter=worker, title__startswith=BENCH_TITLE_PREFIX).count() == 1


# --- the bare view ----------------------------------------------------------------------


@pytest.mark.urls("config.bench_urls")
def test_bare_view_answers_a_fixed_short_response(client):
    response = client.get("/__bench__/bare/")

    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_bare_view_is_not_in_the_project_urls():
    with pytest.raises(Resolver404):
        resolve("/__bench__/bare/", urlconf="config.urls")
