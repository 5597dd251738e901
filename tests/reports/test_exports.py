"""/reports/export/<table>.<csv|xlsx>: every table of the page, with the page's filters.

The CSV holds exactly the page's cells; the XLSX holds the numbers behind them. Both
are refused to those who may not see the page, and neither names a worker.
"""

import csv
import datetime as dt
import io
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.needs import services as need_services
from apps.reports import exports
from apps.reports.filters import ReportParams
from apps.reports.tables import DASH, Column, Kind, Table
from apps.workstations.jurisdiction import Jurisdiction
from tests.needs import conftest as need_fixtures

# Shared fixtures of the needs and projects tests (there is no reports conftest for them).
make_need = need_fixtures.make_need

REPORT = reverse("reports:report")
WORKERS = [("张丽", "13800000001"), ("王强", "13800000002"), ("陈静", "13800000003")]


def export(key, fmt, query=""):
    return reverse("reports:export", args=[key, fmt]) + query


class PageTables(HTMLParser):
    """The cells of every report table on the page, by table key, as the reader sees them."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.key = None
        self.row = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "report-table-block":
            self.key = attrs["id"].removeprefix("table-")
            self.tables[self.key] = []
        elif tag == "tr" and self.key:
            self.row = []
        elif tag in ("th", "td") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.key].append(self.row)
            self.row = None
        elif tag == "table":
            self.key = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(client, query=""):
    parser = PageTables()
    parser.feed(client.get(REPORT + query).content.decode())
    return parser.tables


def csv_rows(response) -> list[list[str]]:
    content = response.content
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def activity(make_need, worker, other_worker, zone_worker, cadre, settings):
    """Named workers' needs in both streets (some confidential); three resolved."""
    settings.NEED_SUBMISSIONS_PER_DAY = 100
    for i in range(6):
        need = make_need(worker, title=f"东湖诉求{i}")
        if i < 3:
            need_services.need_accept(need=need, by=cadre)
            need_services.need_resolve(need=need, by=cadre, resolution="已协调解决")
    for i in range(2):
        make_need(other_worker, title=f"保密诉求{i}", confidential=True)
    for i in range(5):
        make_need(zone_worker, title=f"高新诉求{i}", confidential=i == 0)


@pytest.fixture
def signed_in(client, reviewer, activity):
    client.force_login(reviewer)
    return client


@pytest.fixture
def report(signed_in):
    return signed_in.get(REPORT).context["report"]


# --- access ----------------------------------------------------------------------------


def test_anonymous_download_is_sent_to_login(client, db):
    response = client.get(export("sufficiency", "csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("members:login"))


@pytest.mark.parametrize("who", ["worker", "cadre"])
def test_workers_and_workstation_cadres_get_403(client, request, reference, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    assert client.get(export("sufficiency", "csv")).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        export("no-such-table", "csv"),
        export("sufficiency", "pdf"),
        export("sufficiency", "CSV"),
    ],
)
def test_unknown_table_or_format_is_404(signed_in, url):
    assert signed_in.get(url).status_code == 404


def test_post_is_refused(signed_in):
    assert signed_in.post(export("sufficiency", "csv")).status_code == 405


# --- every table, both formats ---------------------------------------------------------


def test_every_table_of_the_page_is_downloadable(signed_in, report):
    keys = set(page_tables(signed_in))
    assert keys == set(report.tables())
    for key in keys:
        for fmt, content_type in exports.CONTENT_TYPES.items():
            response = signed_in.get(export(key, fmt))
            assert response.status_code == 200, (key, fmt)
            assert response["Content-Type"] == content_type


def test_csv_cells_are_the_pages_cells(signed_in, report):
    shown = page_tables(signed_in)
    for key, table in report.tables().items():
        rows = csv_rows(signed_in.get(export(key, "csv")))
        assert rows[0] == [column.label for column in table.columns]
        assert rows == shown[key], key


def test_xlsx_numbers_are_the_values_behind_the_page(signed_in, report):
    for key, table in report.tables().items():
        response = signed_in.get(export(key, "xlsx"))
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[2] == tuple(column.label for column in table.columns)
        expected = [*table.rows, *([table.total] if table.total else [])]
        assert len(rows) >= 3 + len(expected)
        for written, row in zip(rows[3:], expected, strict=False):
            for cell, column in zip(written, table.columns, strict=True):
                assert cell == _xlsx_expected(row.get(column.key), column), (key, column.key)


def _xlsx_expected(value, column):
    if value is None or value == "":
        return DASH
    if column.kind == Kind.TEXT:
        return str(value)
    if column.kind == Kind.POINTS:
        return pytest.approx(float(value) * 100)
    return pytest.approx(float(value))


def test_xlsx_formats_numbers_like_the_page(signed_in):
    response = signed_in.get(export("balance-street", "xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[3]]
    total = sheet[sheet.max_row]
    formats = {label: total[i].number_format for i, label in enumerate(header)}
    assert formats["办结率"] == "0.0%"
    assert formats["诉求数"] == "#,##0"
    assert isinstance(total[header.index("诉求数")].value, int)


def test_xlsx_title_rows_name_the_period_filters_and_data_time(signed_in, street_a, report):
    before = timezone.localtime().replace(second=0, microsecond=0)
    response = signed_in.get(export("sufficiency", "xlsx", f"?street={street_a.pk}"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "职工之家报表：服务充分：六个服务领域"
    filters, computed = sheet["A2"].value.split("；数据统计于 ")
    assert filters == f"统计期间：{report.params.label}；街道（开发区）：{street_a.name}"
    stamp = dt.datetime.strptime(computed, "%Y-%m-%d %H:%M")
    assert before.replace(tzinfo=None) <= stamp <= timezone.localtime().replace(tzinfo=None)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_file_name_has_the_table_and_the_period(signed_in, report, fmt):
    response = signed_in.get(export("sufficiency", fmt))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    name = unquote(disposition.split("''", 1)[1])
    assert name == f"职工之家报表_服务充分：六个服务领域_{report.params.label}.{fmt}"


def test_file_name_has_the_street_and_custom_period(signed_in, street_a):
    query = f"?period=custom&start=2026-01-01&end=2026-03-31&street={street_a.pk}"
    response = signed_in.get(export("trend", "csv", query))
    name = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert (
        name
        == f"职工之家报表_响应速度：按月趋势（按提出月份）_2026-01-01至2026-03-31_{street_a.name}.csv"
    )


# --- filters and privacy ---------------------------------------------------------------


def test_exports_follow_the_filters(signed_in, street_a, street_b):
    everything = csv_rows(signed_in.get(export("balance-street", "csv")))
    assert {row[0] for row in everything[1:-1]} == {street_a.name, street_b.name}
    one = csv_rows(signed_in.get(export("balance-street", "csv", f"?street={street_a.pk}")))
    assert [row[0] for row in one[1:-1]] == [street_a.name]


def test_street_cadre_exports_only_their_street(client, street_cadre, activity, street_b):
    client.force_login(street_cadre)
    response = client.get(export("balance-street", "csv", f"?street={street_b.pk}"))
    assert response.status_code == 200
    assert street_b.name not in response.content.decode("utf-8-sig")


def test_invalid_filters_export_the_default_period(signed_in, report):
    response = signed_in.get(export("trend", "csv", "?period=custom&start=2026-02-30"))
    assert response.status_code == 200
    assert report.params.label in unquote(response["Content-Disposition"])


def test_a_period_with_no_data_exports_zeros(signed_in):
    rows = csv_rows(
        signed_in.get(
            export("balance-street", "csv", "?period=custom&start=2001-01-01&end=2001-01-31")
        )
    )
    assert rows[-1][1] == "0"


def test_exports_name_no_worker(signed_in, report):
    for key in report.tables():
        text = signed_in.get(export(key, "csv")).content.decode("utf-8-sig")
        book = signed_in.get(export(key, "xlsx")).content
        cells = " ".join(
            str(value)
            for row in load_workbook(io.BytesIO(book)).active.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
        for name, mobile in WORKERS:
            for content in (text, cells):
                assert name not in content
                assert mobile not in content


# --- spreadsheet formulas --------------------------------------------------------------


@pytest.fixture
def hostile_table():
    return Table(
        "test",
        "测试",
        [Column("label", "名称"), Column("gap", "差距（百分点）", Kind.POINTS)],
        [{"label": '=HYPERLINK("http://x")', "gap": -0.031}, {"label": "@SUM(A1)", "gap": 0.02}],
    )


def test_csv_quotes_formula_text_but_not_negative_numbers(hostile_table):
    rows = list(csv.reader(io.StringIO(exports.to_csv(hostile_table).decode("utf-8-sig"))))
    assert rows[1] == ['\'=HYPERLINK("http://x")', "-3.1"]
    assert rows[2] == ["'@SUM(A1)", "+2.0"]


def test_xlsx_keeps_formula_text_as_text(hostile_table, reference):
    today = timezone.localdate()
    params = ReportParams(scope=Jurisdiction(everything=True), start=today, end=today)
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(hostile_table, params))).active
    assert sheet["A4"].value == '=HYPERLINK("http://x")'
    assert sheet["A4"].data_type == "s"
    assert sheet["B4"].value == pytest.approx(-3.1)
    assert sheet["B4"].data_type == "n"


def test_a_workstation_named_like_a_formula_is_escaped(signed_in, ws_a1):
    ws_a1.name = "=1+2 工作站"
    ws_a1.save(update_fields=["name"])
    rows = csv_rows(signed_in.get(export("responsiveness-workstation", "csv")))
    assert [row[1] for row in rows if "工作站" in row[1] and "=" in row[1]] == ["'=1+2 工作站"]
