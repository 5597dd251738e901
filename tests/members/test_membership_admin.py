"""Membership applications decided in the admin by cadres of the worker's jurisdiction."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.members import services
from apps.members.models import Member, MembershipApplication


@pytest.fixture
def application(worker):
    worker.user.email = "alice@example.com"
    worker.user.save()
    return services.membership_apply(member=worker, statement="自愿加入工会")


def change_url(application):
    return reverse("admin:members_membershipapplication_change", args=[application.pk])


CHANGELIST = reverse("admin:members_membershipapplication_changelist")


def test_cadre_approves_on_the_change_page(
    client, cadre, application, django_capture_on_commit_callbacks
):
    client.force_login(cadre)
    page = client.get(change_url(application))
    assert page.status_code == 200
    assert "批准入会" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(application), {"decision": "approve"})
    assert response.status_code == 302
    application.refresh_from_db()
    member = Member.objects.get(pk=application.member_id)
    assert application.status == MembershipApplication.Status.APPROVED
    assert application.decided_by == cadre
    assert member.status == Member.Status.MEMBER
    assert member.member_number == f"330199{member.pk:08d}"
    assert member.joined_on is not None
    assert "入会申请已批准" in mail.outbox[0].subject


def test_worker_sees_member_number_after_approval(client, cadre, worker, application):
    services.membership_approve(application=application, by=cadre)
    client.force_login(worker.user)
    body = client.get(reverse("members:profile")).content.decode()
    worker.refresh_from_db()
    assert worker.member_number in body
    assert "工会会员" in body


def test_reject_requires_a_reason(client, cadre, application):
    client.force_login(cadre)
    response = client.post(change_url(application), {"decision": "reject", "reason": "  "})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.PENDING
    messages = [m.message for m in response.wsgi_request._messages]
    assert "驳回必须填写理由。" in messages


def test_rejection_reason_reaches_the_worker(client, cadre, worker, application):
    client.force_login(cadre)
    client.post(change_url(application), {"decision": "reject", "reason": "单位信息无法核实"})
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.REJECTED
    client.force_login(worker.user)
    body = client.get(reverse("members:profile")).content.decode()
    assert "上次入会申请未通过" in body
    assert "单位信息无法核实" in body
    # The worker may apply again.
    assert client.post(reverse("members:apply"), {}).status_code == 302
    assert worker.applications.filter(status="pending").count() == 1


def test_decided_application_cannot_be_decided_again(client, cadre, application):
    services.membership_approve(application=application, by=cadre)
    client.force_login(cadre)
    client.post(change_url(application), {"decision": "reject", "reason": "改主意"})
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.APPROVED


def test_other_workstation_cadre_gets_404(client, other_cadre, application):
    client.force_login(other_cadre)
    assert client.get(change_url(application)).status_code == 404
    response = client.post(change_url(application), {"decision": "approve"})
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.PENDING
    listing = client.get(CHANGELIST).content.decode()
    assert "张丽" not in listing


def test_street_cadre_can_decide(client, street_cadre, application):
    client.force_login(street_cadre)
    client.post(change_url(application), {"decision": "approve"})
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.APPROVED


def test_service_refuses_cadre_outside_jurisdiction(other_cadre, application):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.membership_approve(application=application, by=other_cadre)


def test_queue_defaults_to_pending(client, cadre, worker, application):
    client.force_login(cadre)
    body = client.get(CHANGELIST).content.decode()
    assert "张丽" in body
    services.membership_approve(application=application, by=cadre)
    assert "张丽" not in client.get(CHANGELIST).content.decode()
    assert "张丽" in client.get(CHANGELIST + "?status=all").content.decode()


def test_bulk_approve_action(client, street_cadre, worker, other_worker):
    first = services.membership_apply(member=worker)
    second = services.membership_apply(member=other_worker)
    client.force_login(street_cadre)
    response = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    assert Member.objects.filter(status=Member.Status.MEMBER).count() == 2


def test_bulk_reject_asks_for_reason_then_rejects(client, cadre, application):
    client.force_login(cadre)
    data = {"action": "reject_selected", "_selected_action": [application.pk]}
    page = client.post(CHANGELIST, data)
    assert page.status_code == 200
    assert "驳回理由（职工可见）" in page.content.decode()
    application.refresh_from_db()
    assert application.is_pending
    client.post(CHANGELIST, {**data, "reason": "请先补充单位证明"})
    application.refresh_from_db()
    assert application.status == MembershipApplication.Status.REJECTED
    assert application.reason == "请先补充单位证明"


def test_bulk_action_ignores_applications_outside_jurisdiction(
    client, cadre, application, other_worker
):
    foreign = services.membership_apply(member=other_worker)
    client.force_login(cadre)
    client.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [application.pk, foreign.pk]}
    )
    foreign.refresh_from_db()
    assert foreign.is_pending


def test_applications_cannot_be_deleted_or_added(client, cadre, application):
    client.force_login(cadre)
    delete = reverse("admin:members_membershipapplication_delete", args=[application.pk])
    assert client.get(delete).status_code == 403
    assert client.get(reverse("admin:members_membershipapplication_add")).status_code == 403
