"""District-wide settings: every cadre reads them, district cadres and superusers change them."""

import datetime as dt

import pytest
from django.urls import reverse

from apps.core.models import WorkdayOverride
from apps.needs.models import Channel, ReplyTemplate, ServiceArea, TimeLimit
from apps.needs.workflow import Action


@pytest.fixture
def template(reference):
    return ReplyTemplate.objects.create(title="通用受理", action=Action.ACCEPT, body="已受理")


@pytest.fixture
def limit(reference):
    return TimeLimit.objects.get(stage=TimeLimit.Stage.ACCEPT, kind="", urgency="")


@pytest.fixture
def override(db):
    return WorkdayOverride.objects.create(date=dt.date(2031, 10, 11), is_workday=True, note="调休")


def url(obj, view="change"):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])


def changed(client, obj, data):
    client.post(url(obj), data)
    before = {k: getattr(obj, k) for k in data}
    obj.refresh_from_db()
    return {k: getattr(obj, k) for k in data} != before


CHANGES = {
    "template": {"title": "改过的", "action": Action.ACCEPT, "kind": "", "body": "新内容"},
    "limit": {"stage": "accept", "kind": "", "urgency": "", "working_days": 5},
    "override": {"date": "2031-10-11", "is_workday": "", "note": "改为放假"},
}


@pytest.mark.parametrize("name", ["template", "limit", "override"])
def test_workstation_and_street_cadres_only_read(client, cadre, street_cadre, name, request):
    obj = request.getfixturevalue(name)
    for user in (cadre, street_cadre):
        client.force_login(user)
        assert client.get(url(obj)).status_code == 200
        assert 'name="_save"' not in client.get(url(obj)).content.decode()
        assert not changed(client, obj, CHANGES[name])
        changelist = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200
        add = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_add")
        assert client.get(add).status_code == 403
        assert client.post(url(obj, "delete"), {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("name", ["template", "limit", "override"])
def test_district_cadres_and_superusers_edit(client, district_cadre, superuser, name, request):
    obj = request.getfixturevalue(name)
    client.force_login(district_cadre)
    assert 'name="_save"' in client.get(url(obj)).content.decode()
    assert changed(client, obj, CHANGES[name])
    client.force_login(superuser)
    assert client.get(url(obj)).status_code == 200


def test_time_limit_change_applies_to_new_needs(client, district_cadre, limit, make_need, worker):
    from apps.core.workdays import working_days_between

    client.force_login(district_cadre)
    client.post(url(limit), CHANGES["limit"])
    need = make_need(worker)
    assert working_days_between(need.created_at, need.accept_due) == 5


@pytest.mark.parametrize("model", [ServiceArea, Channel])
def test_reference_data_is_read_only_for_cadres(
    client, district_cadre, superuser, model, reference
):
    obj = model.objects.first()
    client.force_login(district_cadre)
    assert client.get(url(obj)).status_code == 200
    assert 'name="_save"' not in client.get(url(obj)).content.decode()
    client.post(url(obj), {"code": obj.code, "name": "改名", "order": 1})
    obj.refresh_from_db()
    assert obj.name != "改名"
    client.force_login(superuser)
    assert 'name="_save"' in client.get(url(obj)).content.decode()
