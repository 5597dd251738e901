"""Bulk actions of the needs changelist: each row through the services, out-of-scope rows ignored."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.needs import services
from apps.needs.workflow import Action, Status

CHANGELIST = reverse("admin:needs_need_changelist")


def run(client, action, needs, **extra):
    return client.post(
        CHANGELIST + "?status=all",
        {"action": action, ACTION_CHECKBOX_NAME: [n.pk for n in needs], "index": 0, **extra},
    )


def messages_of(response):
    return [str(m.message) for m in response.wsgi_request._messages]


def status_of(need):
    need.refresh_from_db()
    return need.status


@pytest.fixture
def own(make_need, worker, cadre):
    """Three needs at the cadre's workstation: two waiting, one already accepted."""
    first = make_need(worker, title="第一件")
    second = make_need(worker, title="第二件")
    accepted = make_need(worker, title="已受理的")
    services.need_accept(need=accepted, by=cadre)
    return first, second, accepted


@pytest.fixture
def bobs_need(make_need, other_worker):
    return make_need(other_worker, title="别的工作站的诉求")


def test_accept_selected_accepts_and_skips(client, cadre, own, bobs_need):
    first, second, accepted = own
    client.force_login(cadre)
    response = run(client, "accept_selected", [first, second, accepted, bobs_need])
    assert response.status_code == 302
    assert messages_of(response) == [
        f"已受理 2 件诉求。跳过 1 件当前状态不能受理的诉求：{accepted.number}。"
    ]
    assert status_of(first) == status_of(second) == Status.ACCEPTED
    assert accepted.events.filter(action=Action.ACCEPT).count() == 1  # not accepted twice
    # Another workstation's need is not even counted: the action never saw it.
    assert status_of(bobs_need) == Status.SUBMITTED
    assert bobs_need.events.count() == 1


def test_reject_selected_asks_for_the_reason_first(client, cadre, own, bobs_need):
    first, second, accepted = own
    client.force_login(cadre)
    page = run(client, "reject_selected", [first, accepted, bobs_need])
    assert page.status_code == 200
    body = page.content.decode()
    assert first.number in body
    assert accepted.number in body and "将被跳过" in body
    assert bobs_need.number not in body
    assert status_of(first) == Status.SUBMITTED  # nothing happens before the reason

    # Confirming without a reason shows the page again, changing nothing.
    page = run(client, "reject_selected", [first], confirm="yes", text="  ")
    assert page.status_code == 200
    assert status_of(first) == Status.SUBMITTED

    response = run(
        client,
        "reject_selected",
        [first, accepted, bobs_need],
        confirm="yes",
        text="不属于工会受理范围，建议向社区反映",
    )
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("已不予受理 1 件诉求。跳过 1 件")
    first.refresh_from_db()
    assert first.status == Status.REJECTED
    assert first.rejection_reason == "不属于工会受理范围，建议向社区反映"
    assert status_of(accepted) == Status.ACCEPTED
    assert status_of(bobs_need) == Status.SUBMITTED


def test_resolve_selected_asks_for_the_resolution(client, cadre, own):
    first, second, accepted = own
    client.force_login(cadre)
    page = run(client, "resolve_selected", [first, accepted])
    assert page.status_code == 200
    assert "办理结果（职工可见）" in page.content.decode()
    response = run(
        client, "resolve_selected", [first, accepted], confirm="yes", text="已统一协调解决"
    )
    assert messages_of(response) == [
        f"已办结 1 件诉求。跳过 1 件当前状态不能办结的诉求：{first.number}。"
    ]
    accepted.refresh_from_db()
    assert accepted.status == Status.RESOLVED and accepted.resolution == "已统一协调解决"
    event = accepted.events.order_by("-id").first()
    assert (event.from_status, event.to_status, event.by) == (
        Status.ACCEPTED,
        Status.RESOLVED,
        cadre,
    )
    assert status_of(first) == Status.SUBMITTED


def test_bulk_actions_need_change_permission(client, cadre, own):
    from django.contrib.auth.models import Permission

    cadre.groups.clear()
    cadre.user_permissions.add(Permission.objects.get(codename="view_need"))
    client.force_login(cadre)
    first = own[0]
    response = run(client, "accept_selected", [first])
    assert status_of(first) == Status.SUBMITTED
    assert response.status_code in (200, 302)
