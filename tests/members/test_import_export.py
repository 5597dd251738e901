"""Workers (职工) through the admin's import/export: offline rosters in, masked lists out."""

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from apps.members import services
from apps.members.models import Employment, Member, User
from apps.members.resources import MemberResource
from apps.workstations.models import Unit

IMPORT_URL = reverse("admin:members_member_import")
CONFIRM_URL = reverse("admin:members_member_process_import")
EXPORT_URL = reverse("admin:members_member_export")

HEADERS = ["姓名", "手机号码", "工作单位", "所属工作站编码"]
EXPORT_HEADERS = [
    "系统编号",
    "姓名",
    "手机号码",
    "工作单位",
    "所属工作站",
    "会员状态",
    "会员编号",
    "入会日期",
    "登记时间",
]


def row(name, mobile, unit, code=""):
    return {"姓名": name, "手机号码": mobile, "工作单位": unit, "所属工作站编码": code}


def csv_file(rows, headers=HEADERS):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for values in rows:
        writer.writerow([values.get(h, "") for h in headers])
    return out.getvalue().encode("utf-8")


def xlsx_file(rows, headers=HEADERS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for values in rows:
        sheet.append([values.get(h) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def format_index(formats, wanted):
    return str(next(i for i, fmt in enumerate(formats) if fmt is wanted))


def upload(client, content, fmt=CSV):
    formats = admin.site._registry[Member].get_import_formats()
    return client.post(
        IMPORT_URL,
        {
            "import_file": SimpleUploadedFile(f"roster.{fmt().get_extension()}", content),
            "format": format_index(formats, fmt),
            "resource": "0",
        },
    )


def confirm(client, preview):
    initial = preview.context["confirm_form"].initial
    fields = ("import_file_name", "original_file_name", "format", "resource")
    return client.post(CONFIRM_URL, {key: initial[key] for key in fields})


def import_ok(client, content, fmt=CSV):
    preview = upload(client, content, fmt)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form"), preview.content.decode()
    assert confirm(client, preview).status_code == 302
    return preview


def rejected(client, content, fmt=CSV):
    response = upload(client, content, fmt)
    assert response.status_code == 200
    assert not response.context.get("confirm_form")
    assert "import_file_name" not in response.content.decode()
    return response.content.decode()


def export(client, fmt):
    formats = admin.site._registry[Member].get_export_formats()
    data = {"format": format_index(formats, fmt), "resource": "0"}
    prefix = MemberResource.__name__.lower()
    for field in MemberResource().get_export_order():
        data[f"{prefix}_{field}"] = "on"
    response = client.post(EXPORT_URL, data)
    assert response.status_code == 200, response.content.decode()
    return response.content


def read_export(content, fmt):
    if fmt is CSV:
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]


def everything():
    members = Member.objects.order_by("pk").values("pk", "mobile", "unit", "unit_name")
    return list(members), Employment.objects.count(), User.objects.count()


@pytest.fixture
def unit_a1b(ws_a1, ownerships):
    """A second employer at the cadre's own workstation."""
    return Unit.objects.create(
        workstation=ws_a1, name="东湖印刷厂", ownership=ownerships["private"], industry="印刷"
    )


# --- Import -----------------------------------------------------------------------------


def test_cadre_imports_a_csv_roster(client, cadre, unit_a1, ws_a1):
    client.force_login(cadre)
    content = csv_file(
        [
            # A listed unit decides the workstation: no code needed.
            row("刘洋", "13900000011", unit_a1.name),
            # An unlisted employer: named freely, placed by the workstation code.
            row("黄敏", "13900000012", "东湖小吃店", "W-A1"),
        ]
    )
    preview = upload(client, content)
    assert preview.context["confirm_form"]
    assert not Member.objects.filter(mobile="13900000011").exists()  # the dry run saved nothing

    assert confirm(client, preview).status_code == 302
    liu = Member.objects.select_related("user").get(mobile="13900000011")
    assert (liu.user.name, liu.unit, liu.workstation) == ("刘洋", unit_a1, ws_a1)
    assert not liu.user.has_usable_password()
    assert liu.employments.get().unit == unit_a1
    huang = Member.objects.get(mobile="13900000012")
    assert (huang.unit, huang.unit_name, huang.workstation) == (None, "东湖小吃店", ws_a1)
    assert huang.status == Member.Status.NON_MEMBER


def test_cadre_imports_xlsx_and_updates_known_workers(
    client, cadre, worker, unit_a1, unit_a1b, ws_a1
):
    client.force_login(cadre)
    content = xlsx_file(
        [
            # Excel stores a typed-in mobile as a number.
            row("刘洋", 13900000011, unit_a1.name),
            # A known mobile: the name is corrected and the worker moves employer.
            row("张丽华", int(worker.mobile), unit_a1b.name),
        ]
    )
    import_ok(client, content, XLSX)
    assert Member.objects.get(mobile="13900000011").user.name == "刘洋"
    worker.refresh_from_db()
    worker.user.refresh_from_db()
    assert (worker.user.name, worker.unit, worker.workstation) == ("张丽华", unit_a1b, ws_a1)
    history = list(worker.employments.order_by("pk"))
    assert [e.unit for e in history] == [unit_a1, unit_a1b]
    assert history[0].ended_on is not None and history[1].ended_on is None
    assert history[1].recorded_by == cadre
    assert Member.objects.count() == 2


def test_unchanged_worker_is_skipped(client, cadre, worker, unit_a1):
    client.force_login(cadre)
    before = everything()
    preview = import_ok(client, csv_file([row(worker.user.name, worker.mobile, unit_a1.name)]))
    assert [r.import_type for r in preview.context["result"].rows] == ["skip"]
    assert everything() == before


def test_one_bad_row_rejects_the_whole_roster(client, cadre, unit_a1):
    client.force_login(cadre)
    before = everything()
    content = csv_file(
        [
            row("刘洋", "13900000011", unit_a1.name),
            row("黄敏", "1390000", unit_a1.name),
            row("周杰", "13900000013", unit_a1.name),
        ]
    )
    body = rejected(client, content)
    assert "请输入 11 位中国大陆手机号码" in body
    assert "<td>2 </td>" in body
    assert everything() == before


@pytest.mark.parametrize(
    "bad, message",
    [
        (row("", "13900000019", "东湖机械有限公司"), "不能为空"),
        (row("黄敏", "", "东湖机械有限公司"), "不能为空"),
        (row("黄敏", "02388888888", "东湖机械有限公司"), "请输入 11 位中国大陆手机号码"),
        (row("黄敏", "13900000011", "东湖机械有限公司"), "与第 1 行重复"),
        (row("黄敏", "13900000019", ""), "不能为空"),
        (row("黄敏", "13900000019", "东湖小吃店"), "单位不在名录中时必须填写所属工作站编码"),
        (row("黄敏", "13900000019", "东湖小吃店", "W-ZZ"), "工作站编码“W-ZZ”不存在"),
        (row("黄敏", "13900000019", "东湖小吃店", "W-A2"), "工作站“W-A2”不在您的管辖范围内"),
        (
            row("黄敏", "13900000019", "东湖纺织有限公司"),
            "单位“东湖纺织有限公司”不在您的管辖范围内",
        ),
        (
            row("黄敏", "13900000019", "东湖机械有限公司", "W-A2"),
            "与单位名录中该单位的所属工作站不一致",
        ),
    ],
)
def test_row_errors_are_reported_in_chinese(client, cadre, unit_a1, unit_a2, ws_a2, bad, message):
    client.force_login(cadre)
    before = everything()
    body = rejected(client, csv_file([row("刘洋", "13900000011", unit_a1.name), bad]))
    assert message in body
    assert "<td>2 </td>" in body
    assert everything() == before


def test_known_mobile_of_another_jurisdiction_is_refused_without_details(
    client, cadre, other_worker, unit_a1
):
    client.force_login(cadre)
    before = everything()
    body = rejected(client, csv_file([row("王小强", other_worker.mobile, unit_a1.name)]))
    assert "手机号码已被其他工作站登记" in body
    for detail in ("王强", "东湖纺织", "东湖第二网格"):
        assert detail not in body
    assert everything() == before


def test_mobile_used_as_another_username_is_refused(client, cadre, unit_a1, django_user_model):
    django_user_model.objects.create_user(username="13900000011", password=None)
    client.force_login(cadre)
    body = rejected(client, csv_file([row("刘洋", "13900000011", unit_a1.name)]))
    assert "手机号码已被其他账号使用" in body


def test_other_workstation_is_refused_for_workstation_cadre_but_fine_for_street_cadre(
    client, cadre, street_cadre, unit_a2
):
    content = csv_file([row("刘洋", "13900000011", unit_a2.name)])
    client.force_login(cadre)
    assert "不在您的管辖范围内" in rejected(client, content)
    assert not Member.objects.filter(mobile="13900000011").exists()

    client.force_login(street_cadre)
    import_ok(client, content)
    assert Member.objects.get(mobile="13900000011").workstation == unit_a2.workstation


def test_confirm_refuses_a_roster_that_went_bad_after_the_preview(client, cadre, unit_a1, unit_b1):
    """Someone registered one of the mobiles elsewhere in between: nothing is saved."""
    client.force_login(cadre)
    preview = upload(
        client,
        csv_file(
            [row("刘洋", "13900000011", unit_a1.name), row("黄敏", "13900000012", unit_a1.name)]
        ),
    )
    assert preview.context["confirm_form"]
    services.member_register_offline(name="别人", mobile="13900000012", unit=unit_b1)
    response = confirm(client, preview)
    assert response.status_code == 302
    assert response.url.endswith("/import/")
    refusal = client.get(response.url).content.decode()
    assert "已全部撤销，未保存任何数据" in refusal
    assert not Member.objects.filter(mobile="13900000011").exists()
    assert Member.objects.get(mobile="13900000012").workstation == unit_b1.workstation


# --- Export -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [CSV, XLSX])
def test_export_is_scoped_and_masks_mobiles(client, cadre, worker, other_worker, zone_worker, fmt):
    client.force_login(cadre)
    content = export(client, fmt)
    rows = read_export(content, fmt)
    assert rows[0] == EXPORT_HEADERS
    assert len(rows) == 2
    assert rows[1][:7] == [
        str(worker.pk),
        "张丽",
        "138****0001",
        "东湖机械有限公司",
        "东湖第一网格工作站",
        "未入会",
        "",
    ]
    # Full mobiles never leave in a file, and other workstations' workers not at all.
    raw = content if fmt is CSV else "\n".join(",".join(r) for r in rows).encode()
    for mobile in (worker.mobile, other_worker.mobile, zone_worker.mobile):
        assert mobile.encode() not in raw
    for name in ("王强", "陈静"):
        assert name.encode() not in raw


def test_known_worker_at_an_unlisted_employer_keeps_their_workstation(client, cadre, ws_a1):
    """A roster line without a code for a worker already at that unlisted employer."""
    member = services.member_register_offline(
        name="黄敏", mobile="13900000012", unit=None, unit_name="东湖小吃店", workstation=ws_a1
    )
    client.force_login(cadre)
    preview = import_ok(client, csv_file([row("黄敏", member.mobile, "东湖小吃店")]))
    assert [r.import_type for r in preview.context["result"].rows] == ["skip"]


def test_unlisted_employer_of_another_jurisdiction_is_not_borrowed(client, cadre, ws_b1):
    services.member_register_offline(
        name="陈静", mobile="13900000012", unit=None, unit_name="高新小吃店", workstation=ws_b1
    )
    client.force_login(cadre)
    body = rejected(client, csv_file([row("陈静", "13900000012", "高新小吃店")]))
    assert "手机号码已被其他工作站登记" in body
    assert "W-B1" not in body
