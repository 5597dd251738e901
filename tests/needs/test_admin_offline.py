"""Recording a need met offline (visit, hotline 12351, forum, letter) on a worker's behalf."""

import pytest
from django.urls import reverse

from apps.members.models import Member
from apps.needs.models import Channel, Need, ServiceArea
from apps.needs.workflow import Actor, Status

ADD = reverse("admin:needs_need_add")


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


@pytest.fixture
def need_data(reference):
    return {
        "channel": Channel.objects.get(code="hotline").pk,
        "kind": Need.Kind.HELP,
        "area": ServiceArea.objects.get(code="rights").pk,
        "rights_type": Need.RightsType.LABOUR_ECONOMIC,
        "title": "工伤认定不知道怎么办",
        "description": "上月在车间受伤，单位不给申报工伤。",
        "urgency": Need.Urgency.URGENT,
        "follow_up_consent": "on",
    }


def test_lookup_finds_a_worker_of_the_jurisdiction(client, cadre, worker, reference):
    client.force_login(cadre)
    response = client.get(ADD, {"mobile": worker.mobile})
    assert response.status_code == 200
    assert response.context["state"] == "found"
    body = response.content.decode()
    assert "张丽" in body and "东湖机械有限公司" in body
    assert "12351 热线" in body and "网上提交" not in body  # offline channels only


def test_record_for_an_existing_worker(client, cadre, worker, need_data):
    client.force_login(cadre)
    response = client.post(ADD, {"mobile": worker.mobile, **need_data})
    need = Need.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:needs_need_change", args=[need.pk])
    assert messages_of(response) == [f"已为 张丽 登记线下诉求 {need.number}（12351 热线）。"]
    assert need.submitter == worker
    assert need.workstation == worker.workstation
    assert need.channel.code == "hotline"
    assert need.recorded_by == cadre
    assert need.status == Status.SUBMITTED
    assert need.urgency == Need.Urgency.URGENT
    event = need.events.get()
    assert (event.actor, event.by) == (Actor.CADRE, cadre)


def test_record_for_a_new_worker(client, cadre, unit_a1, need_data):
    client.force_login(cadre)
    response = client.get(ADD, {"mobile": "13900000009"})
    assert response.context["state"] == "new"
    response = client.post(
        ADD,
        {"mobile": "13900000009", "name": "刘师傅", "unit": unit_a1.pk, **need_data},
    )
    assert response.status_code == 302
    member = Member.objects.get(mobile="13900000009")
    assert member.user.name == "刘师傅"
    assert member.unit == unit_a1 and member.workstation == unit_a1.workstation
    assert not member.user.has_usable_password()
    need = Need.objects.get()
    assert need.submitter == member and need.recorded_by == cadre
    assert "并已登记为新职工" in messages_of(response)[0]


def test_new_worker_with_a_typed_unit_and_workstation(client, cadre, ws_a1, need_data):
    client.force_login(cadre)
    response = client.post(
        ADD,
        {
            "mobile": "13900000010",
            "name": "周阿姨",
            "unit_name": "街边小吃店",
            "workstation": ws_a1.pk,
            **need_data,
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(mobile="13900000010")
    assert (member.unit, member.unit_name, member.workstation) == (None, "街边小吃店", ws_a1)


def test_new_worker_needs_name_and_employer(client, cadre, need_data):
    client.force_login(cadre)
    response = client.post(ADD, {"mobile": "13900000011", **need_data})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "name" in errors and "unit" in errors
    assert not Member.objects.filter(mobile="13900000011").exists()
    assert not Need.objects.exists()


def test_new_worker_cannot_be_placed_outside_the_jurisdiction(
    client, cadre, unit_a2, ws_b1, need_data
):
    client.force_login(cadre)
    for employer in ({"unit": unit_a2.pk}, {"unit_name": "某店", "workstation": ws_b1.pk}):
        response = client.post(
            ADD, {"mobile": "13900000012", "name": "越界", **employer, **need_data}
        )
        assert response.status_code == 200
    assert not Member.objects.filter(mobile="13900000012").exists()


def test_a_mobile_of_another_jurisdiction_reveals_nothing(client, cadre, other_worker, need_data):
    client.force_login(cadre)
    response = client.get(ADD, {"mobile": other_worker.mobile})
    body = response.content.decode()
    assert response.context["state"] == "elsewhere"
    assert "管辖范围以外" in body
    for detail in ("王强", "东湖纺织有限公司", "东湖第二网格工作站"):
        assert detail not in body
    response = client.post(ADD, {"mobile": other_worker.mobile, "name": "冒名", **need_data})
    body = response.content.decode()
    assert response.status_code == 200
    assert "王强" not in body and "东湖纺织有限公司" not in body
    assert not Need.objects.exists()
    other_worker.user.refresh_from_db()
    assert other_worker.user.name == "王强"


def test_online_channel_is_refused(client, cadre, worker, need_data):
    client.force_login(cadre)
    online = Channel.objects.get(code=Channel.ONLINE)
    response = client.post(ADD, {"mobile": worker.mobile, **need_data, "channel": online.pk})
    assert response.status_code == 200
    assert "channel" in response.context["form"].errors
    assert not Need.objects.exists()


def test_bad_mobile_is_explained(client, cadre, reference):
    client.force_login(cadre)
    response = client.get(ADD, {"mobile": "12345"})
    assert response.context["state"] is None
    assert "11 位中国大陆手机号码" in response.content.decode()


def test_recording_needs_the_add_permission(client, cadre, worker, need_data):
    from django.contrib.auth.models import Permission

    cadre.groups.clear()
    cadre.user_permissions.add(Permission.objects.get(codename="view_need"))
    client.force_login(cadre)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"mobile": worker.mobile, **need_data}).status_code == 403
    assert not Need.objects.exists()


def test_changelist_links_to_offline_recording(client, cadre, reference):
    client.force_login(cadre)
    body = client.get(reverse("admin:needs_need_changelist")).content.decode()
    assert "代为登记线下诉求" in body and ADD in body
