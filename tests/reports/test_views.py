"""/reports/: who may open it, what it shows, and what it never shows.

The figures themselves are checked by hand in test_metrics.py; here the page: access,
filters and their errors, sections, the absence of personal data, and a fixed number
of queries whatever the size of the district.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.members import services as member_services
from apps.needs import services as need_services
from apps.needs.models import Need, ServiceArea
from apps.projects.workflow import Status as ProjectStatus
from apps.reports import charts, views
from apps.reports.context_processors import SESSION_KEY
from apps.reports.tables import Column, Kind, Table
from apps.workstations.models import CadreAssignment, Street, Unit, Workstation
from tests.needs import conftest as need_fixtures
from tests.projects import conftest as project_fixtures

# Shared fixtures of the needs and projects tests (there is no reports conftest for them).
make_need = need_fixtures.make_need
make_project = project_fixtures.make_project

REPORT = reverse("reports:report")
SECTIONS = [
    "筛选",
    "一、发展均衡",
    "二、服务充分",
    "三、响应速度",
    "四、服务项目",
    "五、回访抽查",
    "六、工作站考核排名",
    "口径说明",
]
# People whose needs are counted; none of them may appear on the page or in an export.
WORKERS = [("张丽", "13800000001"), ("王强", "13800000002"), ("陈静", "13800000003")]


def page(client, user, query=""):
    client.force_login(user)
    response = client.get(REPORT + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def activity(make_need, worker, other_worker, zone_worker, cadre, other_cadre, settings):
    """Needs of named workers in both streets, some confidential, some resolved.

    Street A: five of Alice's needs (three resolved) and two confidential ones of Bob;
    street B: five of Carol's, one confidential, none resolved.
    """
    settings.NEED_SUBMISSIONS_PER_DAY = 100
    needs = []
    for i in range(5):
        need = make_need(worker, title=f"东湖诉求{i}")
        if i < 3:
            need_services.need_accept(need=need, by=cadre)
            need_services.need_resolve(need=need, by=cadre, resolution="已协调解决")
        needs.append(need)
    for i in range(2):
        needs.append(make_need(other_worker, title=f"保密诉求{i}", confidential=True))
    for i in range(5):
        needs.append(make_need(zone_worker, title=f"高新诉求{i}", confidential=i == 0))
    return needs


# --- who may open it -------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(REPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("members:login"))


@pytest.mark.parametrize("who", ["worker", "cadre"])
def test_workers_and_workstation_cadres_get_403(client, request, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    assert client.get(REPORT).status_code == 403


@pytest.mark.parametrize("who", ["district_cadre", "reviewer", "superuser", "street_cadre"])
def test_district_and_street_cadres_reviewers_and_superusers_see_the_page(
    client, request, reference, who
):
    body = page(client, request.getfixturevalue(who))
    assert "<h1>统计报表</h1>" in body


def test_sections_come_in_order_each_with_an_anchor(client, reviewer, reference):
    body = page(client, reviewer)
    headings = re.findall(r'<h2 id="([\w-]+)-title"[^>]*>([^<]+)</h2>', body)
    assert [title for _, title in headings] == SECTIONS
    for anchor, _ in headings:
        assert f'href="#{anchor}"' in body


def test_header_links_the_report_for_those_who_may_see_it(client, reviewer, worker):
    client.force_login(reviewer)
    assert f'href="{REPORT}"' in client.get("/").content.decode()
    client.force_login(worker.user)
    assert f'href="{REPORT}"' not in client.get("/").content.decode()


def test_a_lost_post_is_refused_and_the_header_link_goes(client, street_cadre, reference):
    client.force_login(street_cadre)
    assert client.session[SESSION_KEY] is True
    CadreAssignment.objects.filter(user=street_cadre).delete()
    assert client.get(REPORT).status_code == 403
    assert client.session[SESSION_KEY] is False


def test_street_cadre_sees_only_their_street(client, street_cadre, activity, street_b, ws_b1):
    body = page(client, street_cadre)
    assert "东湖街道" in body
    assert street_b.name not in body
    assert ws_b1.name not in body


def test_street_outside_reach_is_a_form_error_not_its_data(
    client, street_cadre, activity, street_b, ws_b1
):
    body = page(client, street_cadre, f"?street={street_b.pk}")
    assert 'id="filter-errors"' in body
    assert "选择一个有效的选项" in body
    assert street_b.name not in body
    assert ws_b1.name not in body


def test_reviewer_narrows_to_a_street(client, reviewer, activity, street_a, street_b, ws_b1):
    body = page(client, reviewer, f"?street={street_a.pk}")
    assert 'id="filter-errors"' not in body
    assert f"· {street_a.name}" in body
    assert ws_b1.name not in body


# --- bad input never fails the page ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?period=custom&start=2026-03-01&end=2026-02-01", "开始日期不能晚于结束日期"),
        ("?period=custom&start=2026-02-01&end=2026-02-30", "输入一个有效的日期"),
        ("?area=999999", "选择一个有效的选项"),
        ("?period=weekly", "选择一个有效的选项"),
        ("?period=custom&start=2015-01-01&end=2025-12-31", "统计期间最长为 5 年"),
        ("?period=custom&start=2026-01-01", "自定义期间请填写开始和结束日期"),
        ("?street=abc", "选择一个有效的选项"),
    ],
)
def test_bad_filters_show_a_message_and_the_default_period(
    client, reviewer, activity, query, message
):
    body = page(client, reviewer, query)
    assert 'id="filter-errors"' in body
    assert message in body
    start = timezone.localdate().replace(day=1)
    assert f"{start:%Y-%m-%d}至" in body  # the report fell back to this month


def test_a_period_with_no_data_shows_zeros(client, reviewer, activity):
    body = page(client, reviewer, "?period=custom&start=2001-01-01&end=2001-01-31")
    assert "这个期间没有诉求和服务项目数据" in body
    assert "2001-01-01至2001-01-31" in body
    assert 'id="table-sufficiency"' in body
    assert ">0<" in body
    assert "本期间没有诉求" in body  # the trend chart
    assert "本期间没有服务项目" in body  # the pipeline chart


def test_a_narrow_custom_period_with_data(client, reviewer, activity):
    today = timezone.localdate()
    query = f"?period=custom&start={today:%Y-%m-%d}&end={today:%Y-%m-%d}"
    body = page(client, reviewer, query)
    assert 'id="filter-errors"' not in body
    assert "这个期间没有诉求和服务项目数据" not in body


# --- what it shows ---------------------------------------------------------------------


def test_page_shows_no_worker_names_or_mobiles(client, reviewer, activity):
    body = page(client, reviewer)
    for name, mobile in WORKERS:
        assert name not in body
        assert mobile not in body
        assert f"{mobile[:3]}****{mobile[-4:]}" not in body
    for need in activity:
        assert need.title not in body
        assert need.number not in body


def test_balance_shows_imbalance_and_the_lagging_group(client, reviewer, activity):
    body = page(client, reviewer)
    assert "办结率离散系数" in body
    # Street A resolved 3 of 7, street B none of 5: B lags the district's 3 of 12.
    assert '<p class="lagging">' in body
    assert "高新开发区办结率 0%，全区 25%" in body


def test_unserved_area_is_flagged(client, reviewer, activity):
    body = page(client, reviewer)
    assert "有需求无验收项目：</strong>维护合法权益" in body
    assert "无项目" in body


def test_heat_map_cells_count_projects(client, reviewer, activity, make_project, cadre, street_a):
    make_project(needs=[activity[0]], by=cadre, status=ProjectStatus.IN_PROGRESS)
    body = page(client, reviewer)
    assert "项目 1" in body


def test_every_chart_is_an_image_with_a_title(client, reviewer, activity):
    body = page(client, reviewer)
    charts = re.findall(r"<svg [^>]*>", body)
    assert len(charts) == 7  # five balance dimensions, the trend, the pipeline
    for tag in charts:
        assert 'role="img"' in tag
        assert "aria-labelledby=" in tag
    assert 'role="img" aria-label="各街道（开发区）× 服务领域需求热力图' in body


def test_every_table_has_its_downloads_with_the_filters(client, reviewer, activity):
    body = page(client, reviewer, "?period=year")
    tables = re.findall(r'<div class="report-table-block" id="table-([\w-]+)">', body)
    assert len(tables) == 14
    for key in tables:
        for fmt in ("csv", "xlsx"):
            url = reverse("reports:export", args=[key, fmt])
            assert f'href="{url}?period=year"' in body


def test_ranking_explains_the_weights(client, reviewer, reference):
    body = page(client, reviewer)
    assert "综合得分 = （响应 × 30 + 办结 × 30 + 满意 × 25 + 项目 × 15）÷ 100" in body
    assert "管理后台“考核权重”" in body


@pytest.mark.parametrize(("who", "shown"), [("reviewer", True), ("district_cadre", False)])
def test_follow_up_link_only_for_those_who_may_draw(client, request, reference, who, shown):
    body = page(client, request.getfixturevalue(who))
    assert (f'href="{reverse("reports:follow-up-list")}' in body) is shown


def test_page_has_no_inline_script_or_style(client, reviewer, activity):
    body = page(client, reviewer)
    assert 'href="/static/css/reports.css"' in body  # the page's own (and print) styles
    assert "<script" not in body
    assert "<style" not in body
    assert " style=" not in body


# --- a fixed number of queries ----------------------------------------------------------


def _grow(district, ownership, make_need, extra_streets):
    """More streets, workstations, units, workers and needs: the page must not notice."""
    area = ServiceArea.objects.get(code="skills")
    for s in range(extra_streets):
        street = Street.objects.create(
            district=district, code=f"S-X{s}", name=f"新街道{s}", order=10 + s
        )
        ws = Workstation.objects.create(
            street=street, code=f"W-X{s}", name=f"新工作站{s}", address="地址", hours="工作日"
        )
        unit = Unit.objects.create(
            workstation=ws, name=f"新单位{s}", ownership=ownership, industry="制造业"
        )
        member = member_services.member_register(
            username=f"x{s}", name=f"职工{s}", mobile=f"1390000{s:04d}", password="x", unit=unit
        )
        for i in range(6):
            make_need(member, title=f"诉求{s}-{i}", area=area, rights_type=Need.RightsType.OTHER)


@pytest.mark.parametrize("extra_streets", [0, 4])
def test_query_count_does_not_grow_with_the_district(
    client,
    reviewer,
    district,
    ownerships,
    make_need,
    worker,
    settings,
    django_assert_num_queries,
    extra_streets,
):
    settings.NEED_SUBMISSIONS_PER_DAY = 100
    make_need(worker)
    _grow(district, ownerships["private"], make_need, extra_streets)
    client.force_login(reviewer)
    # 1. the session  2. the user  3–4. the user's reviewer and cadre posts (report scope)
    # 5. the data fingerprint (apps/reports/cache.py)
    # 6–35. build_report: streets, workstations, areas, members by street and by
    #   ownership, ownership types; needs and latest ratings for the whole scope and
    #   by street, ownership, rights type, channel, area and workstation (2 each);
    #   projects by area; needs and projects by street × area; needs by month;
    #   projects by status and by street; rewards by street; ranking weights;
    #   acceptance scores by workstation; follow-up calls by street
    # 36. the header's unread message count
    # 37–38. the streets in scope and the service areas, for the filter's selects
    with django_assert_num_queries(37):
        response = client.get(REPORT)
    assert response.status_code == 200
    assert response.content.decode().count("<svg ") == 7
    # Looked at again with nothing changed: the kept figures, without build_report.
    with django_assert_num_queries(7):
        again = client.get(REPORT)
    assert again.status_code == 200
    assert again.content.decode().count("<svg ") == 7


# --- charts, laid out in Python ---------------------------------------------------------


def test_bars_are_scaled_to_100_percent_with_the_total_as_reference():
    table = Table(
        "t",
        "测试",
        [Column("label", "分组"), Column("resolution_rate", "办结率", Kind.PCT)],
        [
            {"label": "甲", "resolution_rate": 0.5},
            {"label": "乙", "resolution_rate": None, "small": True},
        ],
        {"label": "合计", "resolution_rate": 0.25},
    )
    chart = charts.bar_chart(table, "resolution_rate", chart_id="c", title="办结率")
    assert [bar.width for bar in chart.bars] == [charts.BAR_PLOT / 2, 0]
    assert [bar.text for bar in chart.bars] == ["50.0%", "—（少于 5 件不展示）"]
    assert chart.ref_x == charts.BAR_PLOT / 4
    assert chart.ref_text == "合计 25.0%"


def test_trend_axis_has_round_steps_and_skips_small_months():
    table = Table(
        "trend",
        "趋势",
        [Column("month", "月份"), Column("raised", "诉求数", Kind.INT)],
        [
            {"month": "2026-01", "raised": 37, "resolved": 30},
            {"month": "2026-02", "raised": 3, "resolved": None},
        ],
    )
    chart = charts.trend_chart(table, views.TREND_SERIES, chart_id="c", title="趋势")
    assert [tick.text for tick in chart.ticks] == ["0", "10", "20", "30", "40"]
    assert len(chart.bars) == 3  # February's resolved count is not shown (fewer than 5)


def test_pipeline_segments_share_the_width():
    chart = charts.pipeline_chart(
        [("立项", 1), ("实施", 3), ("验收", 0)], chart_id="c", title="项目"
    )
    assert [segment.width for segment in chart.segments] == [
        charts.PIPE_WIDTH / 4,
        charts.PIPE_WIDTH * 3 / 4,
    ]
    assert [key.text for key in chart.keys] == ["立项 1", "实施 3", "验收 0"]
