"""A worker raises at most NEED_SUBMISSIONS_PER_DAY needs online in 24 hours.

The rule lives in ``services.need_submit``: needs cadres record on a worker's behalf are
neither limited nor counted. The 60-second double-submit guard still comes first.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.needs import services
from apps.needs.models import Attachment, Channel, Need, ServiceArea
from apps.notifications.models import Notification
from tests.needs.test_worker_submit import URL, details, png_bytes, upload

LIMIT = 3


@pytest.fixture(autouse=True)
def limit(settings):
    settings.NEED_SUBMISSIONS_PER_DAY = LIMIT


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def rights(reference):
    return ServiceArea.objects.get(code="rights")


def fill_the_day(make_need, member, *, since=None):
    """LIMIT needs raised by the worker, one an hour, the first ``since`` (default 5 h ago)."""
    first = since or timezone.now() - dt.timedelta(hours=5)
    return [
        make_need(member, title=f"诉求 {i}", at=first + dt.timedelta(hours=i)) for i in range(LIMIT)
    ]


def test_the_production_limit_is_ten_a_day():
    from config.settings import base

    assert base.NEED_SUBMISSIONS_PER_DAY == 10


def test_the_page_refuses_a_need_past_the_limit_and_saves_nothing(
    client, worker, cadre, make_need, rights, media
):
    needs = fill_the_day(make_need, worker)
    Notification.objects.all().delete()
    client.force_login(worker.user)
    photo = upload("照片.png", png_bytes(), "image/png")
    response = client.post(URL, {**details(rights, title="第四件事"), "attachments": [photo]})

    assert response.status_code == 429
    body = response.content.decode()
    assert "您在 24 小时内已提交 3 件诉求，达到每日上限，本次诉求没有保存。" in body
    retry_at = timezone.localtime(needs[0].created_at + dt.timedelta(hours=24))
    assert f"请于 {retry_at.month}月{retry_at.day}日 {retry_at:%H:%M} 之后再提交" in body
    assert "12351" in body
    # What the worker typed is still in the form.
    assert 'value="第四件事"' in body
    assert Need.objects.count() == LIMIT
    assert not Attachment.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]
    assert not Notification.objects.exists()


def test_needs_older_than_a_day_do_not_count(worker, make_need, reference):
    fill_the_day(make_need, worker, since=timezone.now() - dt.timedelta(hours=30))
    # The last of them was raised 28 hours ago.
    assert make_need(worker, title="新的诉求").pk


def test_the_window_slides_with_the_oldest_need(worker, make_need, reference):
    # Raised 23.5, 22.5 and 21.5 hours ago: full until the first is a day old.
    fill_the_day(make_need, worker, since=timezone.now() - dt.timedelta(hours=23, minutes=30))
    with pytest.raises(services.TooManyNeeds):
        make_need(worker, title="太早了")
    later = timezone.now() + dt.timedelta(minutes=31)
    assert make_need(worker, title="半小时后", at=later).pk


def test_withdrawn_needs_still_count(worker, make_need, reference):
    for need in fill_the_day(make_need, worker):
        services.need_withdraw(need=need, by=worker.user)
    with pytest.raises(ValidationError, match="达到每日上限"):
        make_need(worker, title="撤回后再提")


def test_each_worker_has_their_own_allowance(worker, other_worker, make_need, reference):
    fill_the_day(make_need, worker)
    assert make_need(other_worker, title="别人的诉求").pk


def test_cadres_recording_offline_needs_are_not_limited(worker, cadre, make_need, reference):
    hotline = Channel.objects.get(code="hotline")
    for i in range(LIMIT + 2):
        make_need(worker, title=f"热线 {i}", channel=hotline, recorded_by=cadre)
    # Nor do the recorded ones use up the worker's own allowance.
    for i in range(LIMIT):
        make_need(worker, title=f"本人在线提交 {i}")
    with pytest.raises(services.TooManyNeeds):
        make_need(worker, title="超出上限")
    assert Need.objects.filter(recorded_by=None).count() == LIMIT


def test_the_offline_page_records_for_a_worker_at_the_limit(
    client, worker, cadre, make_need, reference
):
    fill_the_day(make_need, worker)
    client.force_login(cadre)
    response = client.post(
        "/admin/needs/need/add/",
        {
            "mobile": worker.mobile,
            "channel": Channel.objects.get(code="hotline").pk,
            "kind": Need.Kind.HELP,
            "area": ServiceArea.objects.get(code="rights").pk,
            "rights_type": Need.RightsType.LABOUR_ECONOMIC,
            "title": "工伤认定不知道怎么办",
            "description": "上月在车间受伤，单位不给申报工伤。",
            "urgency": Need.Urgency.URGENT,
            "follow_up_consent": "on",
        },
    )
    assert response.status_code == 302
    assert Need.objects.filter(recorded_by=cadre).count() == 1


def test_a_double_click_at_the_limit_still_lands_on_the_first_need(
    client, worker, make_need, rights, media
):
    fill_the_day(make_need, worker, since=timezone.now() - dt.timedelta(hours=6))
    client.force_login(worker.user)
    # Make room for exactly one more, then send it twice.
    Need.objects.filter(title="诉求 0").update(created_at=timezone.now() - dt.timedelta(days=2))
    first = client.post(URL, details(rights))
    second = client.post(URL, details(rights))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Need.objects.count() == LIMIT + 1
