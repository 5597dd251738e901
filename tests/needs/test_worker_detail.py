"""/needs/<id>/ and its attachments: who may open them, and what the worker sees."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from apps.needs import services
from apps.needs.attachments import validate_upload
from apps.needs.models import Need, Referral


def detail(need):
    return reverse("needs:need-detail", args=[need.pk])


def png(name="照片.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), (10, 120, 200)).save(buffer, "PNG")
    upload = SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
    validate_upload(upload)
    return upload


def pdf(name="合同.pdf"):
    upload = SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    validate_upload(upload)
    return upload


@pytest.fixture
def with_files(make_need, worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_need(worker, attachments=[png(), pdf()])


# --- who may open it --------------------------------------------------------------------


def test_owner_sees_the_need(client, need, worker):
    client.force_login(worker.user)
    response = client.get(detail(need))
    assert response.status_code == 200
    body = response.content.decode()
    assert need.title in body and need.description in body and need.number in body


@pytest.mark.parametrize("who", ["other_worker", "other_cadre", "reviewer", "zone_worker"])
def test_other_peoples_need_is_404(client, need, request, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    assert client.get(detail(need)).status_code == 404


@pytest.mark.parametrize("who", ["cadre", "street_cadre", "district_cadre"])
def test_cadres_of_the_jurisdiction_may_look(client, need, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(detail(need))
    assert response.status_code == 200
    body = response.content.decode()
    assert "以工会干部身份查看" in body
    assert reverse("needs:need-rate", args=[need.pk]) not in body


def test_unknown_need_is_404(client, worker, reference):
    client.force_login(worker.user)
    assert client.get("/needs/987654/").status_code == 404


def test_anonymous_is_sent_to_log_in(client, need):
    response = client.get(detail(need))
    assert response.status_code == 302
    assert reverse("members:login") in response["Location"]


# --- what the worker sees ---------------------------------------------------------------


def test_public_timeline_without_internal_notes(client, need, worker, cadre):
    services.need_accept(
        need=need, by=cadre, public_note="已受理，明天上门核实。", internal_note="老板很难缠"
    )
    services.need_add_note(need=need, by=cadre, internal_note="内部：先找人社局")
    services.need_publish(need=need, by=cadre, public_title="公开标题XYZ")
    client.force_login(worker.user)
    body = client.get(detail(need)).content.decode()
    assert "已受理，明天上门核实。" in body
    assert "待受理 → 已受理" in body
    assert "职工在线提交" in body
    assert "老板很难缠" not in body
    assert "先找人社局" not in body
    assert "公开标题XYZ" not in body  # publishing is not a worker-facing event


def test_the_cadre_too_sees_only_the_public_timeline(client, need, cadre):
    services.need_accept(need=need, by=cadre, internal_note="老板很难缠")
    client.force_login(cadre)
    assert "老板很难缠" not in client.get(detail(need)).content.decode()


def test_handler_and_office_phone(client, need, worker, cadre):
    cadre.assignments.update(office_phone="0571-88880001")
    services.need_accept(need=need, by=cadre)
    client.force_login(worker.user)
    body = client.get(detail(need)).content.decode()
    assert "承办人" in body and "李站长" in body
    assert "0571-88880001" in body


def test_before_acceptance_the_workstation_is_the_contact(client, need, worker, cadre, ws_a1):
    ws_a1.phone = "0571-12351000"
    ws_a1.save()
    client.force_login(worker.user)
    body = client.get(detail(need)).content.decode()
    assert "尚未指定承办人" in body
    assert "0571-12351000" in body
    assert "李站长" in body  # the workstation's cadres


def test_time_limits_met_and_missed(client, make_need, worker, cadre):
    late = make_need(worker, at=timezone.now() - dt.timedelta(days=30))
    services.need_accept(need=late, by=cadre)
    client.force_login(worker.user)
    body = client.get(detail(late)).content.decode()
    assert "受理时限" in body and "办结时限" in body
    assert "超时" in body
    waiting = make_need(worker, title="刚提交的")
    body = client.get(detail(waiting)).content.decode()
    assert "等待受理" in body


def test_overdue_and_escalation_badges(client, make_need, worker):
    need = make_need(worker, at=timezone.now() - dt.timedelta(days=30))
    services.need_escalate(need=need, level=Need.Escalation.STREET)
    client.force_login(worker.user)
    body = client.get(detail(need)).content.decode()
    assert "已超时" in body
    assert "街道督办" in body


def test_referral_target_and_state_but_not_its_internal_follow_up(client, need, worker, cadre):
    services.need_accept(need=need, by=cadre)
    referral = services.need_refer(
        need=need,
        by=cadre,
        target=Referral.Target.ARBITRATION,
        target_detail="区仲裁院",
        public_note="已转介仲裁。",
    )
    services.referral_update(referral=referral, by=cadre, follow_up="仲裁员说证据不足", done=False)
    client.force_login(worker.user)
    body = client.get(detail(need)).content.decode()
    assert "劳动人事争议仲裁" in body and "区仲裁院" in body and "跟进中" in body
    assert "证据不足" not in body


def test_resolution_and_rating_form_when_resolved(client, need, worker, cadre):
    services.need_accept(need=need, by=cadre)
    services.need_resolve(need=need, by=cadre, resolution="企业已补发全部工资。")
    client.force_login(worker.user)
    body = client.get(detail(need)).content.decode()
    assert "企业已补发全部工资。" in body
    assert reverse("needs:need-rate", args=[need.pk]) in body
    assert 'name="rate-score"' in body
    assert reverse("needs:need-withdraw", args=[need.pk]) not in body  # resolved: too late


def test_withdraw_offered_only_while_open(client, need, worker):
    client.force_login(worker.user)
    assert (
        reverse("needs:need-withdraw", args=[need.pk]) in client.get(detail(need)).content.decode()
    )
    services.need_withdraw(need=need, by=worker.user)
    body = client.get(detail(need)).content.decode()
    assert reverse("needs:need-withdraw", args=[need.pk]) not in body
    assert "已撤回" in body


def test_rejection_reason_is_shown(client, need, worker, cadre):
    services.need_reject(need=need, by=cadre, reason="属于劳动仲裁范围，请直接申请仲裁")
    client.force_login(worker.user)
    assert "属于劳动仲裁范围" in client.get(detail(need)).content.decode()


# --- merged duplicates ------------------------------------------------------------------


@pytest.fixture
def merged(make_need, worker, other_worker, street_cadre):
    """Alice's need merged into Bob's confidential one (same street)."""
    survivor = make_need(
        other_worker, title="王强的欠薪", description="王强的私密描述", confidential=True
    )
    services.need_accept(need=survivor, by=street_cadre, public_note="王强先生您好，已受理")
    duplicate = make_need(worker, title="我们也欠薪")
    services.need_merge(need=duplicate, into=survivor, by=street_cadre)
    return duplicate, survivor


def test_merged_worker_follows_the_surviving_need_without_its_private_part(client, merged, worker):
    duplicate, survivor = merged
    client.force_login(worker.user)
    body = client.get(detail(duplicate)).content.decode()
    assert f"已与诉求 {survivor.number} 合并办理" in body
    assert "已受理" in body  # the survivor's progress
    for private in ("王强", "王强的私密描述", "王强的欠薪", "13800000002", "东湖纺织"):
        assert private not in body
    # The survivor's own page stays closed to Alice.
    assert client.get(detail(survivor)).status_code == 404


def test_the_survivors_worker_sees_how_many_joined(client, merged, other_worker):
    _, survivor = merged
    client.force_login(other_worker.user)
    body = client.get(detail(survivor)).content.decode()
    assert "另有 1 件相同的诉求已合并到本诉求" in body
    assert "张丽" not in body


def test_a_chain_of_merges_leads_to_the_last_need(
    client, make_need, worker, other_worker, street_cadre
):
    first = make_need(worker, title="一")
    middle = make_need(other_worker, title="二")
    last = make_need(other_worker, title="三")
    services.need_merge(need=first, into=middle, by=street_cadre)
    services.need_merge(need=middle, into=last, by=street_cadre)
    client.force_login(worker.user)
    assert f"已与诉求 {last.number} 合并办理" in client.get(detail(first)).content.decode()


# --- attachments --------------------------------------------------------------------------


def attachment_url(need, attachment, **params):
    url = reverse("needs:attachment-download", args=[need.pk, attachment.pk])
    return url + ("?size=thumb" if params.get("thumb") else "")


def test_owner_downloads_attachments(client, with_files, worker):
    image, document = with_files.attachments.order_by("id")
    client.force_login(worker.user)
    page = client.get(detail(with_files)).content.decode()
    assert attachment_url(with_files, image) in page
    assert "/media/" not in page

    response = client.get(attachment_url(with_files, image))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "inline" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]

    response = client.get(attachment_url(with_files, document))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_image_thumbnails_are_small_jpegs(client, with_files, worker):
    image = with_files.attachments.order_by("id").first()
    client.force_login(worker.user)
    response = client.get(attachment_url(with_files, image, thumb=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(response.content))
    assert max(thumb.size) <= 480


def test_cadre_of_the_jurisdiction_downloads(client, with_files, cadre):
    client.force_login(cadre)
    attachment = with_files.attachments.first()
    assert client.get(attachment_url(with_files, attachment)).status_code == 200


@pytest.mark.parametrize("who", ["other_worker", "other_cadre", "reviewer"])
def test_outsiders_get_404_for_attachments(client, with_files, request, who):
    person = request.getfixturevalue(who)
    client.force_login(getattr(person, "user", person))
    attachment = with_files.attachments.first()
    assert client.get(attachment_url(with_files, attachment)).status_code == 404
    assert client.get(attachment_url(with_files, attachment, thumb=True)).status_code == 404


def test_an_attachment_under_another_needs_id_is_404(client, with_files, make_need, worker):
    own_other = make_need(worker, title="另一件")
    attachment = with_files.attachments.first()
    client.force_login(worker.user)
    assert client.get(attachment_url(own_other, attachment)).status_code == 404


def test_a_missing_file_is_404_not_500(client, with_files, worker):
    attachment = with_files.attachments.first()
    attachment.file.delete(save=False)
    client.force_login(worker.user)
    assert client.get(attachment_url(with_files, attachment)).status_code == 404


def test_attachment_download_is_get_only(client, with_files, worker):
    client.force_login(worker.user)
    attachment = with_files.attachments.first()
    assert client.post(attachment_url(with_files, attachment)).status_code == 405
