import pytest
from django.urls import reverse

from apps.members.models import Employment, Member

URL = "/accounts/register/"


def form_data(**overrides):
    data = {
        "name": "刘洋",
        "mobile": "13912345678",
        "username": "liuyang",
        "unit_name": "东湖机械有限公司",
        "workstation": "",
        "password1": "Strong-pass-2026",
        "password2": "Strong-pass-2026",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_register_page_asks_the_server_for_employers_instead_of_listing_them(
    client, unit_a1, django_assert_max_num_queries
):
    # The directory has thousands of employers in a real district: none of them is sent
    # with the form, and the page's queries do not depend on how many there are.
    with django_assert_max_num_queries(3):
        response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<datalist id="unit-options"></datalist>' in body
    assert 'data-unit-search="/workstations/units/"' in body
    assert "js/unit-search.js" in body
    assert unit_a1.name not in body


def test_register_with_listed_unit_routes_to_its_workstation(client, unit_a1):
    response = client.post(URL, form_data())
    assert response.status_code == 302
    assert response.url == reverse("members:profile")
    member = Member.objects.get(mobile="13912345678")
    assert member.user.name == "刘洋"
    assert member.unit == unit_a1
    assert member.workstation == unit_a1.workstation
    assert member.status == Member.Status.NON_MEMBER
    assert Employment.objects.filter(member=member, ended_on__isnull=True).count() == 1
    # Logged in straight away, and the profile names the workstation.
    profile = client.get(reverse("members:profile"))
    assert "东湖第一网格工作站" in profile.content.decode()


def test_register_with_unlisted_unit_needs_a_workstation(client, ws_b1, unit_a1):
    response = client.post(URL, form_data(unit_name="新开的小饭馆"))
    assert response.status_code == 200
    assert "该单位不在名录中，请选择单位所在的网格化工会工作站。" in response.content.decode()
    assert not Member.objects.exists()

    response = client.post(URL, form_data(unit_name="新开的小饭馆", workstation=ws_b1.pk))
    assert response.status_code == 302
    member = Member.objects.get()
    assert member.unit is None
    assert member.unit_name == "新开的小饭馆"
    assert member.workstation == ws_b1


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"mobile": "1234"}, "请输入 11 位中国大陆手机号码"),
        ({"mobile": "12912345678"}, "请输入 11 位中国大陆手机号码"),
        ({"password1": "12345678", "password2": "12345678"}, "密码"),
        ({"password1": "abc", "password2": "abc"}, "密码"),
        ({"password2": "Other-pass-2026"}, "两次输入的密码不一致。"),
        ({"unit_name": ""}, "这个字段是必填项。"),
        ({"name": ""}, "这个字段是必填项。"),
        ({"username": "a b"}, "用户名为 3–30 位字母、数字或 _ . -。"),
        ({"workstation": "999999", "unit_name": "不存在的单位"}, "选择一个有效的选项"),
    ],
)
def test_register_bad_input_rerenders_with_message_and_saves_nothing(
    client, unit_a1, overrides, field_message
):
    response = client.post(URL, form_data(**overrides))
    assert response.status_code == 200
    body = response.content.decode()
    assert field_message in body
    assert "提交未成功，请修改以下内容" in body
    assert not Member.objects.exists()


def test_register_taken_username_and_mobile(client, worker, unit_a1):
    response = client.post(URL, form_data(username="ALICE", mobile=worker.mobile))
    body = response.content.decode()
    assert response.status_code == 200
    assert "该用户名已被使用，请换一个。" in body
    assert "该手机号码已注册" in body
    assert Member.objects.count() == 1


def test_register_escapes_markup(client, ws_b1, unit_a1):
    client.post(
        URL, form_data(name="<script>alert(1)</script>", unit_name="<b>x</b>", workstation=ws_b1.pk)
    )
    body = client.get(reverse("members:profile")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_logged_in_user_is_sent_to_profile(client, worker):
    client.force_login(worker.user)
    assert client.get(URL).url == reverse("members:profile")
