"""The audit history (操作记录): admin changes recorded with who, when and what; superusers read it."""

import io
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.core.audit import AUDITED
from apps.members.models import Member
from apps.needs import services as need_services
from apps.needs.models import Need, ServiceArea
from apps.reports.models import RankingWeights
from apps.workstations.roles import ROLE_PERMISSIONS
from apps.workstations.services import CADRE_GROUP

CHANGELIST = reverse("admin:auditlog_logentry_changelist")
ID_NUMBER = "110101199003074514"


def entries_for(obj):
    return LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk")


def last_entry(obj) -> LogEntry:
    return entries_for(obj).last()


def entry_url(entry):
    return reverse("admin:auditlog_logentry_change", args=[entry.pk])


def admin_form_data(client, url, **changes):
    """What the admin's change form would post unchanged, with ``changes`` applied."""
    page = client.get(url)
    assert page.status_code == 200
    forms = [page.context["adminform"].form]
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
        forms += inline.formset.initial_forms
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if not field.disabled and value not in (None, False):
                data[form.add_prefix(name)] = value
    data.update(changes)
    return data


@pytest.fixture
def need(reference, worker):
    """Alice's complaint, waiting at her workstation (ws_a1)."""
    return need_services.need_submit(
        member=worker,
        kind=Need.Kind.COMPLAINT,
        area=ServiceArea.objects.get(code="rights"),
        rights_type=Need.RightsType.LABOUR_ECONOMIC,
        title="公司拖欠三个月工资",
        description="车间二十多名职工的工资从八月起一直没有发放。",
    )


def accept_in_admin(client, needs):
    return client.post(
        reverse("admin:needs_need_changelist") + "?status=all",
        {"action": "accept_selected", ACTION_CHECKBOX_NAME: [n.pk for n in needs], "index": 0},
    )


# --- what is recorded ---------------------------------------------------------------------


def test_cadre_accepting_a_need_in_the_admin_is_recorded_as_that_cadre(client, cadre, need):
    client.force_login(cadre)
    before = timezone.now()
    assert accept_in_admin(client, [need]).status_code == 302

    entry = last_entry(need)
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == cadre
    assert before <= entry.timestamp <= timezone.now()
    assert entry.remote_addr == "127.0.0.1"
    assert entry.changes_dict["status"] == ["submitted", "accepted"]
    assert entry.changes_dict["handler"] == ["None", str(cadre.pk)]
    assert "updated_at" not in entry.changes_dict  # the entry has its own time


def test_superuser_editing_a_mobile_is_recorded_with_old_and_new_value(client, superuser, worker):
    url = reverse("admin:members_member_change", args=[worker.pk])
    client.force_login(superuser)
    response = client.post(url, admin_form_data(client, url, mobile="13900000009"))
    assert response.status_code == 302

    entry = last_entry(worker)
    assert entry.actor == superuser
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict == {"mobile": ["13800000001", "13900000009"]}


def test_district_cadre_changing_ranking_weights_is_recorded(client, district_cadre, district):
    weights = RankingWeights.objects.create(district=district)
    url = reverse("admin:reports_rankingweights_change", args=[weights.pk])
    client.force_login(district_cadre)
    data = admin_form_data(client, url, responsiveness=40, projects=5)
    assert client.post(url, data).status_code == 302

    entry = last_entry(weights)
    assert entry.actor == district_cadre
    assert entry.changes_dict["responsiveness"] == ["30", "40"]
    assert entry.changes_dict["projects"] == ["15", "5"]
    assert "resolution" not in entry.changes_dict  # unchanged fields are left out


def test_one_admin_action_shares_one_batch_id(client, cadre, need, worker):
    second = need_services.need_submit(
        member=worker,
        kind=Need.Kind.SUGGESTION,
        area=ServiceArea.objects.get(code="rights"),
        rights_type=Need.RightsType.OTHER,
        title="食堂增加晚餐",
        description="夜班职工希望食堂晚上也开放。",
    )
    client.force_login(cadre)
    accept_in_admin(client, [need, second])
    first_cid, second_cid = last_entry(need).cid, last_entry(second).cid
    assert first_cid and first_cid == second_cid
    accept_in_admin(client, [need])  # another request: another id (nothing changes here)
    assert LogEntry.objects.filter(cid=first_cid).count() == 2


def test_a_forged_forwarded_for_is_not_recorded(client, cadre, need):
    client.force_login(cadre)
    client.post(
        reverse("admin:needs_need_changelist") + "?status=all",
        {"action": "accept_selected", ACTION_CHECKBOX_NAME: [need.pk], "index": 0},
        headers={"x-forwarded-for": "203.0.113.9", "x-correlation-id": "chosen-by-client"},
    )
    entry = last_entry(need)
    assert entry.remote_addr == "127.0.0.1"  # no trusted proxy in front of the test client
    assert entry.cid != "chosen-by-client"


def test_work_outside_a_request_has_no_actor(cadre, need):
    need_services.need_accept(need=need, by=cadre)
    assert last_entry(need).actor is None  # shown as 系统


def test_id_numbers_are_stored_masked(client, superuser, worker):
    url = reverse("admin:members_member_change", args=[worker.pk])
    client.force_login(superuser)
    client.post(url, admin_form_data(client, url, id_number=ID_NUMBER))

    assert last_entry(worker).changes_dict == {"id_number": ["", "110***********4514"]}
    stored = list(LogEntry.objects.values_list("changes", "changes_text", "object_repr"))
    assert ID_NUMBER not in str(stored)


def test_passwords_and_logins_are_not_recorded(client, worker):
    user = worker.user
    before = entries_for(user).count()
    user.set_password("Another-pass-2026")
    user.save()
    response = client.post(
        reverse("members:login"), {"username": "alice", "password": "Another-pass-2026"}
    )
    assert response.status_code == 302  # logged in, which saves last_login
    assert entries_for(user).count() == before


def test_every_audited_model_is_registered_and_the_timelines_are_not():
    for label in AUDITED:
        assert auditlog.contains(apps.get_model(label)), label
    for label in ("needs.NeedEvent", "projects.ProjectEvent", "needs.Rating"):
        assert not auditlog.contains(apps.get_model(label)), label


@pytest.mark.django_db
def test_demo_load_is_not_audited(settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    assert Member.objects.exists()
    assert not LogEntry.objects.exists()


# --- who reads it ---------------------------------------------------------------------------


def test_superuser_reads_the_history_in_chinese(client, superuser, cadre, need):
    client.force_login(cadre)
    accept_in_admin(client, [need])
    entry = last_entry(need)

    client.force_login(superuser)
    page = client.get(CHANGELIST).content.decode()
    assert "操作记录" in page and "操作审计" in page
    assert "李站长（cadre_a1）" in page
    assert "状态" in page and "承办人" in page  # the changed fields, by their Chinese names

    detail = client.get(entry_url(entry)).content.decode()
    assert "原值" in detail and "新值" in detail
    assert "待受理" in detail and "已受理" in detail  # labels, not stored codes
    assert f"李站长（#{cadre.pk}）" in detail  # a related row by name
    assert f"?cid={entry.cid}" in detail  # the rest of the same action


def test_history_filters_by_model_user_and_date_and_searches_by_id(
    client, superuser, cadre, need, worker
):
    client.force_login(cadre)
    accept_in_admin(client, [need])
    client.force_login(superuser)

    def listed(**params):
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    need_type = ContentType.objects.get_for_model(Need)
    by_model = listed(model=need_type.pk)
    assert by_model and all(e.content_type == need_type for e in by_model)
    assert {e.actor for e in listed(actor=cadre.pk)} == {cadre}
    assert all(e.actor is None for e in listed(actor="system"))
    # The date filter's links carry local midnights, as here.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    assert listed(timestamp__gte=str(midnight + timedelta(days=1))) == set()
    assert listed(timestamp__gte=str(midnight)) == listed()
    assert {e.object_pk for e in listed(q=str(need.pk), model=need_type.pk)} == {str(need.pk)}
    assert {e.cid for e in listed(cid=last_entry(need).cid)} == {last_entry(need).cid}


def test_history_is_read_only_even_for_superusers(client, superuser, need):
    entry = last_entry(need)
    client.force_login(superuser)
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403
    client.post(entry_url(entry), {"object_repr": "改写"})
    entry.refresh_from_db()
    assert entry.object_repr != "改写"
    response = client.get(CHANGELIST)
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )


@pytest.mark.parametrize("who", ["cadre", "district_cadre", "reviewer", "worker"])
def test_no_one_but_superusers_reads_the_history(client, request, who, need):
    user = request.getfixturevalue(who)
    user = user.user if isinstance(user, Member) else user
    client.force_login(user)
    entry = last_entry(need)
    assert client.get(CHANGELIST).status_code in (302, 403)
    assert client.get(entry_url(entry)).status_code in (302, 403)
    index = client.get(reverse("admin:index"))
    assert "操作审计" not in index.content.decode()


def test_role_groups_grant_no_audit_permission(cadre, reviewer):
    for perms in ROLE_PERMISSIONS.values():
        assert not [p for p in perms if p.startswith("auditlog.")]
    granted = Permission.objects.filter(group__isnull=False, content_type__app_label="auditlog")
    assert not granted.exists()


def test_a_cadre_granted_the_permission_by_mistake_still_cannot_read(client, cadre, need):
    Group.objects.get(name=CADRE_GROUP).permissions.add(
        Permission.objects.get(content_type__app_label="auditlog", codename="view_logentry")
    )
    client.force_login(cadre)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(entry_url(last_entry(need))).status_code == 403


def test_changelist_query_count(client, superuser, cadre, need, django_assert_num_queries):
    client.force_login(cadre)
    accept_in_admin(client, [need])
    client.force_login(superuser)
    client.get(CHANGELIST)  # warm the content-type cache
    # session, user; the staff users of the 操作人 filter; the count; the page's entries
    # (content type and actor joined in).
    with django_assert_num_queries(5):
        assert client.get(CHANGELIST).status_code == 200
