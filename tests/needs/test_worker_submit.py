"""/needs/new/: raising a need in two steps, and every kind of bad input."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.needs import services
from apps.needs.models import Attachment, Need, ServiceArea
from apps.needs.workflow import Status
from apps.notifications.models import Notification

URL = reverse("needs:need-new")


def png_bytes(size=(40, 30), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, fmt)
    return buffer.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def rights(reference):
    return ServiceArea.objects.get(code="rights")


@pytest.fixture
def logged_in(client, worker):
    client.force_login(worker.user)
    return client


def details(area_obj, **overrides):
    data = {
        "step": "details",
        "title": "公司拖欠三个月工资",
        "description": "车间二十多名职工的工资从八月起一直没有发放。",
        "kind": Need.Kind.COMPLAINT,
        "area": area_obj.pk,
        "rights_type": Need.RightsType.LABOUR_ECONOMIC,
        "urgency": Need.Urgency.URGENT,
        "follow_up_consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stored_files(media):
    return [path for path in media.rglob("*") if path.is_file()]


# --- the happy path ---------------------------------------------------------------------


def test_step_one_asks_for_the_problem(logged_in, worker):
    response = logged_in.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="step" value="describe"' in body
    assert "东湖第一网格工作站" in body  # where it will go


def test_step_one_leads_to_the_full_form_without_saving(logged_in, rights):
    response = logged_in.post(
        URL, {"step": "describe", "title": "食堂太贵", "description": "饭菜价格偏高"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="step" value="details"' in body
    assert 'value="食堂太贵"' in body
    assert 'enctype="multipart/form-data"' in body
    assert Need.objects.count() == 0


def test_submit_routes_to_the_workers_workstation(logged_in, worker, cadre, rights, media):
    response = logged_in.post(URL, details(rights, confidential="on"))
    need = Need.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("needs:need-detail", args=[need.pk])
    assert need.submitter == worker
    assert need.workstation == worker.workstation
    assert need.unit == worker.unit
    assert need.status == Status.SUBMITTED
    assert need.confidential and need.follow_up_consent
    assert need.urgency == Need.Urgency.URGENT
    assert need.channel.is_online
    assert Notification.objects.filter(user=cadre, title__startswith="新诉求待受理").exists()
    page = logged_in.get(response["Location"]).content.decode()
    assert need.number in page


def test_a_forged_workstation_is_ignored_for_a_worker_with_an_employer(
    logged_in, worker, ws_b1, rights, media
):
    logged_in.post(URL, details(rights, workstation=ws_b1.pk))
    assert Need.objects.get().workstation == worker.workstation


def test_worker_without_employer_on_file_chooses_the_workstation(
    client, worker, ws_a2, rights, media
):
    worker.unit = None
    worker.save()
    client.force_login(worker.user)
    form = client.post(URL, {"step": "describe", "title": "求助", "description": "求助内容"})
    assert 'name="workstation"' in form.content.decode()
    client.post(URL, details(rights, workstation=ws_a2.pk))
    assert Need.objects.get().workstation == ws_a2


def test_forged_workstation_id_is_refused(client, worker, rights, media):
    worker.unit = None
    worker.save()
    client.force_login(worker.user)
    response = client.post(URL, details(rights, workstation=999999))
    assert response.status_code == 200
    assert "受理工作站" in response.content.decode()
    assert Need.objects.count() == 0


def test_attachments_are_saved_with_the_need(logged_in, rights, media):
    files = [
        upload("工资条.jpg", png_bytes(fmt="JPEG"), "image/jpeg"),
        upload("合同.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", "application/pdf"),
    ]
    response = logged_in.post(URL, {**details(rights), "attachments": files})
    assert response.status_code == 302
    need = Need.objects.get()
    saved = list(need.attachments.order_by("id"))
    assert [a.content_type for a in saved] == ["image/jpeg", "application/pdf"]
    assert [a.original_name for a in saved] == ["工资条.jpg", "合同.pdf"]
    assert len(stored_files(media)) == 2


def test_the_content_decides_the_type_not_the_name(logged_in, rights, media):
    # A real PNG named .jpg and sent as image/gif: stored as what it is.
    file = upload("photo.jpg", png_bytes(), "image/gif")
    logged_in.post(URL, {**details(rights), "attachments": [file]})
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png"
    assert attachment.file.name.endswith(".png")


def test_staff_without_a_worker_profile_get_a_friendly_page(client, cadre):
    client.force_login(cadre)
    response = client.get(URL)
    assert response.status_code == 403
    assert "工作台" in response.content.decode()
    assert client.post(URL, {"step": "describe"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("members:login") in response["Location"]


# --- similar published needs ------------------------------------------------------------


@pytest.fixture
def published(make_need, other_worker, zone_worker, cadre, street_cadre, district_cadre):
    wages = make_need(other_worker, title="厂里两个月没发工资", description="老板说资金紧张")
    services.need_publish(
        need=wages,
        by=district_cadre,
        public_title="部分企业拖欠职工工资",
        public_summary="多家企业拖欠工资两个月以上，职工希望工会帮助追讨。",
    )
    canteen = make_need(zone_worker, title="食堂饭菜贵", description="食堂价格高")
    services.need_publish(
        need=canteen,
        by=district_cadre,
        public_title="单位食堂饭菜价格偏高",
        public_summary="职工反映食堂饭菜价格偏高、品种少。",
    )
    return wages, canteen


def test_similar_published_needs_are_offered_before_saving(logged_in, published):
    wages, canteen = published
    response = logged_in.post(
        URL,
        {
            "step": "describe",
            "title": "公司拖欠工资",
            "description": "我们公司已经两个月没发工资了，拖欠工资怎么办？",
        },
    )
    body = response.content.decode()
    assert "已有职工反映过类似的问题" in body
    assert "部分企业拖欠职工工资" in body
    assert "单位食堂饭菜价格偏高" not in body
    assert reverse("needs:need-support", args=[wages.pk]) in body
    assert "仍然提交" in body
    # Only the public wording is shown, never the other worker's own text or name.
    assert "老板说资金紧张" not in body and "王强" not in body
    assert Need.objects.count() == 2


def test_similarity_uses_only_the_public_wording(logged_in, published):
    # The private description says 资金紧张; typing it must not surface the need.
    response = logged_in.post(
        URL, {"step": "describe", "title": "老板说资金紧张", "description": "老板说资金紧张"}
    )
    assert "已有职工反映过类似的问题" not in response.content.decode()


def test_submitting_anyway_after_the_similar_step(logged_in, published, rights, media):
    response = logged_in.post(URL, details(rights, title="公司拖欠工资"))
    assert response.status_code == 302
    assert Need.objects.count() == 3


# --- double submission ------------------------------------------------------------------


def test_the_same_need_twice_within_a_minute_is_saved_once(logged_in, rights, media):
    first = logged_in.post(URL, details(rights))
    second = logged_in.post(URL, details(rights))
    need = Need.objects.get()
    assert first["Location"] == second["Location"] == reverse("needs:need-detail", args=[need.pk])
    page = logged_in.get(second["Location"]).content.decode()
    assert "无需重复提交" in page


def test_the_same_words_later_are_a_new_need(logged_in, worker, rights, media, make_need):
    import datetime as dt

    from django.utils import timezone

    make_need(
        worker,
        title="公司拖欠三个月工资",
        description="车间二十多名职工的工资从八月起一直没有发放。",
        at=timezone.now() - dt.timedelta(minutes=5),
    )
    logged_in.post(URL, details(rights))
    assert Need.objects.count() == 2


def test_a_different_need_right_after_is_not_a_duplicate(logged_in, rights, media):
    logged_in.post(URL, details(rights))
    logged_in.post(URL, details(rights, title="另一件事"))
    assert Need.objects.count() == 2


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "诉求标题"),
        ({"title": "   "}, "诉求标题"),
        ({"title": "长" * 61}, "60"),
        ({"description": ""}, "具体情况"),
        ({"description": "长" * 3001}, "3000"),
        ({"kind": "bribe"}, "诉求类型"),
        ({"kind": None}, "诉求类型"),
        ({"rights_type": "royal"}, "涉及哪类权益"),
        ({"urgency": "apocalyptic"}, "紧急程度"),
        ({"area": 999999}, "属于哪方面"),
        ({"area": "x'; DROP TABLE needs_need;--"}, "属于哪方面"),
        ({"title": "含\x00空字符"}, "诉求标题"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_saved(logged_in, rights, media, overrides, message):
    response = logged_in.post(URL, details(rights, **overrides))
    assert response.status_code == 200
    body = response.content.decode()
    assert "提交未成功" in body
    assert message in body
    assert Need.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_bad_step_one_is_refused(logged_in, reference):
    response = logged_in.post(URL, {"step": "describe", "title": "", "description": ""})
    assert response.status_code == 200
    assert "提交未成功" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("evil.jpg", b"MZ\x90\x00 this is a windows program", "image/jpeg"),
        ("page.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("fake.pdf", b"hello, I am not a PDF", "application/pdf"),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        ("truncated.png", png_bytes()[:40], "image/png"),
        ("empty.jpg", b"", "image/jpeg"),
    ],
)
def test_files_that_are_not_images_or_pdfs_are_refused(
    logged_in, rights, media, name, content, content_type
):
    good = upload("ok.png", png_bytes(), "image/png")
    bad = upload(name, content, content_type)
    response = logged_in.post(URL, {**details(rights), "attachments": [good, bad]})
    assert response.status_code == 200
    body = response.content.decode()
    assert name in body
    assert Need.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(media) == []


def test_an_oversized_file_is_refused(logged_in, rights, media, settings):
    settings.NEED_ATTACHMENT_MAX_BYTES = 1000
    big = upload("big.pdf", b"%PDF-1.4\n" + b"0" * 2000, "application/pdf")
    response = logged_in.post(URL, {**details(rights), "attachments": [big]})
    assert response.status_code == 200
    assert "超过了" in response.content.decode()
    assert Need.objects.count() == 0
    assert stored_files(media) == []


def test_too_many_files_are_refused(logged_in, rights, media, settings):
    settings.NEED_ATTACHMENT_MAX_FILES = 2
    files = [upload(f"p{i}.png", png_bytes(), "image/png") for i in range(3)]
    response = logged_in.post(URL, {**details(rights), "attachments": files})
    assert response.status_code == 200
    assert "最多上传 2 个附件" in response.content.decode()
    assert Need.objects.count() == 0


def test_a_decompression_bomb_is_refused(logged_in, rights, media, monkeypatch):
    from apps.needs import attachments

    monkeypatch.setattr(attachments, "MAX_PIXELS", 100)
    file = upload("huge.png", png_bytes(size=(20, 20)), "image/png")
    response = logged_in.post(URL, {**details(rights), "attachments": [file]})
    assert response.status_code == 200
    assert Need.objects.count() == 0


def test_markup_in_every_text_field_is_stored_as_text_and_shown_escaped(logged_in, rights, media):
    script = '<script>alert("x")</script><b onmouseover="x()">hi</b>'
    logged_in.post(URL, details(rights, title=script[:60], description=script))
    need = Need.objects.get()
    assert need.description == script
    body = logged_in.get(reverse("needs:need-detail", args=[need.pk])).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert" in body
    listing = logged_in.get(reverse("needs:need-list")).content.decode()
    assert "<script>alert" not in listing
    assert "&lt;script&gt;" in listing


def test_markup_in_a_file_name_is_shown_escaped(logged_in, rights, media):
    file = upload('<img src=x onerror="alert(1)">.png', png_bytes(), "image/png")
    logged_in.post(URL, {**details(rights), "attachments": [file]})
    need = Need.objects.get()
    body = logged_in.get(reverse("needs:need-detail", args=[need.pk])).content.decode()
    assert '<img src=x onerror="alert(1)">' not in body
    assert "&lt;img src=x" in body
