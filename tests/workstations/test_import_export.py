"""Units (单位) through the admin's import/export: Chinese columns, jurisdiction, all-or-nothing."""

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from apps.workstations.models import Unit
from apps.workstations.resources import UnitResource

IMPORT_URL = reverse("admin:workstations_unit_import")
CONFIRM_URL = reverse("admin:workstations_unit_process_import")
EXPORT_URL = reverse("admin:workstations_unit_export")

HEADERS = [
    "单位名称",
    "统一社会信用代码",
    "所有制",
    "行业",
    "职工人数",
    "已建基层工会",
    "基层工会名称",
    "地址",
    "所属工作站编码",
]


def unit_row(**overrides):
    row = {
        "单位名称": "东湖食品有限公司",
        "统一社会信用代码": "",
        "所有制": "私营企业",
        "行业": "食品加工",
        "职工人数": "35",
        "已建基层工会": "否",
        "基层工会名称": "",
        "地址": "东湖路 8 号",
        "所属工作站编码": "W-A1",
    }
    row.update(overrides)
    return row


def csv_file(rows, headers=HEADERS):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue().encode("utf-8")


def xlsx_file(rows, headers=HEADERS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def format_index(formats, wanted):
    return str(next(i for i, fmt in enumerate(formats) if fmt is wanted))


def upload(client, content, fmt=CSV):
    formats = admin.site._registry[Unit].get_import_formats()
    name = f"units.{fmt().get_extension()}"
    return client.post(
        IMPORT_URL,
        {
            "import_file": SimpleUploadedFile(name, content),
            "format": format_index(formats, fmt),
            "resource": "0",
        },
    )


def confirm(client, preview):
    """Post the confirm form exactly as the preview page renders it."""
    initial = preview.context["confirm_form"].initial
    fields = ("import_file_name", "original_file_name", "format", "resource")
    return client.post(CONFIRM_URL, {key: initial[key] for key in fields})


def import_ok(client, content, fmt=CSV):
    preview = upload(client, content, fmt)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form"), preview.content.decode()
    done = confirm(client, preview)
    assert done.status_code == 302
    return preview


def rejected(client, content, fmt=CSV):
    """Upload a file that must be refused: no confirm form, the report as text."""
    response = upload(client, content, fmt)
    assert response.status_code == 200
    assert not response.context.get("confirm_form")
    assert "import_file_name" not in response.content.decode()
    return response.content.decode()


def export(client, fmt):
    formats = admin.site._registry[Unit].get_export_formats()
    data = {"format": format_index(formats, fmt), "resource": "0"}
    prefix = UnitResource.__name__.lower()
    for field in UnitResource().get_export_order():
        data[f"{prefix}_{field}"] = "on"
    response = client.post(EXPORT_URL, data)
    assert response.status_code == 200, response.content.decode()
    return response.content


def read_export(content, fmt):
    if fmt is CSV:
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def snapshot():
    return list(Unit.objects.order_by("pk").values())


# --- Import -----------------------------------------------------------------------------


def test_cadre_imports_csv_into_own_workstation(client, cadre, ws_a1, ownerships):
    client.force_login(cadre)
    content = csv_file(
        [
            unit_row(),
            unit_row(
                单位名称="东湖物流有限公司",
                统一社会信用代码="91330100mA2B3C4D5E",
                所有制="state",  # by code as well as by name
                职工人数="120",
                已建基层工会="是",
                基层工会名称="东湖物流有限公司工会",
            ),
        ]
    )
    preview = upload(client, content)
    # The dry run shows a preview but saves nothing.
    assert preview.context["confirm_form"]
    assert not Unit.objects.filter(name="东湖食品有限公司").exists()

    assert confirm(client, preview).status_code == 302
    food = Unit.objects.get(name="东湖食品有限公司")
    assert (food.workstation, food.ownership, food.headcount) == (ws_a1, ownerships["private"], 35)
    assert (food.has_union, food.industry, food.address) == (False, "食品加工", "东湖路 8 号")
    logistics = Unit.objects.get(name="东湖物流有限公司")
    assert logistics.ownership == ownerships["state"]
    assert logistics.credit_code == "91330100MA2B3C4D5E"
    assert (logistics.has_union, logistics.union_name) == (True, "东湖物流有限公司工会")


def test_cadre_imports_xlsx_with_native_cells_and_updates_existing(
    client, cadre, unit_a1, ownerships
):
    client.force_login(cadre)
    content = xlsx_file(
        [
            unit_row(职工人数=58, 已建基层工会="1", 基层工会名称="东湖食品工会"),
            # The existing unit is found by its name and updated.
            unit_row(单位名称=unit_a1.name, 所有制="国有企业", 行业="机械制造", 职工人数=300),
        ]
    )
    import_ok(client, content, XLSX)
    food = Unit.objects.get(name="东湖食品有限公司")
    assert (food.headcount, food.has_union, food.union_name) == (58, True, "东湖食品工会")
    unit_a1.refresh_from_db()
    assert (unit_a1.industry, unit_a1.headcount) == ("机械制造", 300)
    assert Unit.objects.count() == 2


def test_one_bad_row_rejects_the_whole_file(client, cadre, ws_a1, ownerships):
    client.force_login(cadre)
    before = snapshot()
    content = csv_file(
        [
            unit_row(单位名称="甲公司"),
            unit_row(单位名称="乙公司", 所有制="外星所有制"),
            unit_row(单位名称="丙公司"),
        ]
    )
    body = rejected(client, content)
    assert "未知的所有制“外星所有制”" in body
    assert "<td>2 </td>" in body  # the row number column of the error table
    assert snapshot() == before


@pytest.mark.parametrize(
    "rows, bad_row, message",
    [
        ([unit_row(所属工作站编码="W-XX")], 1, "工作站编码“W-XX”不存在"),
        ([unit_row(职工人数="-3")], 1, "不是不小于 0 的整数"),
        ([unit_row(职工人数="十二")], 1, "不是不小于 0 的整数"),
        ([unit_row(职工人数="1.5")], 1, "不是不小于 0 的整数"),
        ([unit_row(已建基层工会="也许")], 1, "请填写“是”或“否”"),
        ([unit_row(已建基层工会="是")], 1, "已建基层工会的单位须填写基层工会名称"),
        ([unit_row(行业="")], 1, "不能为空"),
        ([unit_row(所有制="")], 1, "不能为空"),
        ([unit_row(统一社会信用代码="12345")], 1, "应为 18 位数字或大写字母"),
        ([unit_row(), unit_row(地址="别处")], 2, "与第 2 行重复"),
        ([unit_row(所属工作站编码="W-A2")], 1, "工作站“W-A2”不在您的管辖范围内"),
        ([unit_row(所属工作站编码="W-B1")], 1, "工作站“W-B1”不在您的管辖范围内"),
    ],
)
def test_row_errors_are_reported_in_chinese(
    client, cadre, ws_a1, ws_a2, ws_b1, ownerships, rows, bad_row, message
):
    client.force_login(cadre)
    body = rejected(client, csv_file([unit_row(单位名称="好单位"), *rows]))
    assert message in body
    assert f"<td>{bad_row + 1} </td>" in body
    assert not Unit.objects.exists()


def test_missing_required_column_is_reported_on_every_row(client, cadre, ws_a1, ownerships):
    client.force_login(cadre)
    headers = [h for h in HEADERS if h != "行业"]
    body = rejected(client, csv_file([unit_row(), unit_row(单位名称="另一家")], headers))
    assert body.count("文件中没有这一列") == 2
    assert not Unit.objects.exists()


def test_credit_code_of_another_unit_is_refused(client, cadre, unit_b1, ws_a1):
    Unit.objects.filter(pk=unit_b1.pk).update(credit_code="91330100MA2B3C4D5E")
    client.force_login(cadre)
    body = rejected(client, csv_file([unit_row(统一社会信用代码="91330100MA2B3C4D5E")]))
    assert "该统一社会信用代码已被其他单位登记" in body
    assert unit_b1.name not in body


def test_other_workstation_is_refused_for_workstation_cadre_but_fine_for_street_cadre(
    client, cadre, street_cadre, ws_a2, ownerships
):
    content = csv_file([unit_row(所属工作站编码="W-A2")])
    client.force_login(cadre)
    assert "不在您的管辖范围内" in rejected(client, content)
    assert not Unit.objects.exists()

    client.force_login(street_cadre)
    import_ok(client, content)
    assert Unit.objects.get().workstation == ws_a2


def test_existing_unit_of_another_jurisdiction_is_not_updated_nor_revealed(
    client, cadre, unit_b1, ws_a1
):
    client.force_login(cadre)
    before = snapshot()
    body = rejected(client, csv_file([unit_row(单位名称=unit_b1.name, 所有制="国有企业")]))
    assert "该单位名称已被其他工作站登记" in body
    for detail in ("W-B1", "高新园区", "外商投资企业", "制造业"):
        assert detail not in body
    assert snapshot() == before


def test_confirm_refuses_a_file_that_went_bad_after_the_preview(client, cadre, ws_b1, ownerships):
    """Between preview and confirm the data changed: nothing of the file is saved."""
    client.force_login(cadre)
    preview = upload(client, csv_file([unit_row(单位名称="甲公司"), unit_row(单位名称="乙公司")]))
    assert preview.context["confirm_form"]
    Unit.objects.create(
        workstation=ws_b1, name="乙公司", ownership=ownerships["state"], industry="制造业"
    )
    response = confirm(client, preview)
    assert response.status_code == 302
    assert response.url.endswith("/import/")
    refusal = client.get(response.url).content.decode()
    assert "已全部撤销，未保存任何数据" in refusal
    assert not Unit.objects.filter(name="甲公司").exists()
    assert Unit.objects.get(name="乙公司").workstation == ws_b1


def test_blank_lines_are_ignored(client, cadre, ws_a1, ownerships):
    client.force_login(cadre)
    rows = [unit_row(), {}, unit_row(单位名称="另一家")]
    import_ok(client, xlsx_file(rows), XLSX)
    assert Unit.objects.count() == 2


# --- Export -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [CSV, XLSX])
def test_export_contains_only_the_cadres_units(client, cadre, unit_a1, unit_a2, unit_b1, fmt):
    Unit.objects.filter(pk=unit_a1.pk).update(has_union=True, union_name="东湖机械工会")
    client.force_login(cadre)
    rows = read_export(export(client, fmt), fmt)
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == [unit_a1.name]
    assert rows[1][2] == "国有企业"
    assert rows[1][5] == "是"
    assert rows[1][8] == "W-A1"


@pytest.mark.parametrize("fmt", [CSV, XLSX])
def test_round_trip_changes_nothing(client, street_cadre, unit_a1, unit_a2, unit_b1, fmt):
    Unit.objects.filter(pk=unit_a1.pk).update(
        has_union=True, union_name="东湖机械工会", credit_code="91330100MA2B3C4D5E", headcount=88
    )
    client.force_login(street_cadre)
    content = export(client, fmt)
    assert len(read_export(content, fmt)) == 3  # header + the street's two units
    before = snapshot()

    preview = upload(client, content, fmt)
    result = preview.context["result"]
    assert [row.import_type for row in result.rows] == ["skip", "skip"]
    assert confirm(client, preview).status_code == 302
    assert snapshot() == before
