"""The writes behind every need action: jurisdiction, stale checks, merge, rating, support."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.needs import services
from apps.needs.models import Channel, Need, NeedEvent, Support
from apps.needs.workflow import Action, Status, TransitionNotAllowed
from apps.notifications.models import Notification


def statuses(need):
    return list(need.events.values_list("action", "from_status", "to_status"))


def test_submit_routes_to_the_employers_workstation(cadre, worker, need):
    assert need.workstation == worker.workstation
    assert need.unit == worker.unit
    assert need.channel.code == Channel.ONLINE
    assert need.status == Status.SUBMITTED
    assert need.number.startswith("XQ") and need.number.endswith(f"{need.pk:06d}")
    assert need.accept_due > need.created_at
    assert statuses(need) == [(Action.SUBMIT, "", Status.SUBMITTED)]
    assert Notification.objects.filter(user=cadre, title__startswith="新诉求待受理").exists()


def test_accept_sets_handler_and_resolve_limit_and_tells_the_worker(need, cadre, worker):
    services.need_accept(need=need, by=cadre)
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED
    assert need.handler == cadre
    assert need.accepted_at is not None and need.resolve_due > need.accepted_at
    assert not need.accepted_late
    assert Notification.objects.filter(user=worker.user, title__startswith="诉求已受理").exists()


def test_cadre_of_another_workstation_cannot_act(need, other_cadre):
    with pytest.raises(PermissionDenied):
        services.need_accept(need=need, by=other_cadre)
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED
    assert need.events.count() == 1


def test_street_cadre_can_act_on_their_streets_needs(need, street_cadre):
    services.need_accept(need=need, by=street_cadre)
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED


def test_reject_requires_a_reason(need, cadre):
    with pytest.raises(ValidationError):
        services.need_reject(need=need, by=cadre, reason="  ")
    services.need_reject(need=need, by=cadre, reason="不属于工会受理范围，请向社区反映")
    need.refresh_from_db()
    assert need.status == Status.REJECTED
    assert need.rejection_reason == "不属于工会受理范围，请向社区反映"


def test_refused_transition_changes_nothing(need, cadre):
    with pytest.raises(TransitionNotAllowed):
        services.need_resolve(need=need, by=cadre, resolution="已解决")
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED
    assert need.resolution == ""
    assert need.events.count() == 1


def test_stale_expected_status_loses(need, cadre, street_cadre):
    services.need_accept(need=need, by=street_cadre, expected_status=Status.SUBMITTED)
    with pytest.raises(services.StaleNeed) as lost:
        services.need_reject(need=need, by=cadre, reason="重复", expected_status=Status.SUBMITTED)
    assert "已被他人处理" in str(lost.value)
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED


def test_full_life_of_a_need(need, cadre, worker):
    services.need_accept(need=need, by=cadre)
    services.need_start(need=need, by=cadre)
    services.need_refer(need=need, by=cadre, target="arbitration", public_note="已协助申请劳动仲裁")
    services.need_resolve(need=need, by=cadre, resolution="公司已补发全部工资")
    rating = services.need_rate(need=need, by=worker.user, outcome="yes", score=5)
    need.refresh_from_db()
    assert rating.satisfied
    assert need.status == Status.CLOSED
    assert need.closed_at is not None
    assert [a for a, _, _ in statuses(need)] == [
        Action.SUBMIT,
        Action.ACCEPT,
        Action.START,
        Action.REFER,
        Action.RESOLVE,
        Action.CONFIRM,
    ]
    assert need.referrals.get().target == "arbitration"


@pytest.mark.parametrize(("outcome", "score"), [("no", 5), ("partly", 2), ("yes", 1)])
def test_dissatisfied_rating_reopens_and_tells_the_cadres(need, cadre, worker, outcome, score):
    services.need_accept(need=need, by=cadre)
    services.need_resolve(need=need, by=cadre, resolution="已协调")
    services.need_rate(need=need, by=worker.user, outcome=outcome, score=score, comment="没发")
    need.refresh_from_db()
    assert need.status == Status.IN_PROGRESS
    assert need.resolved_at is None
    assert Notification.objects.filter(user=cadre, title__contains="不满意").exists()
    # Rating again before the next resolution is refused.
    with pytest.raises(TransitionNotAllowed):
        services.need_rate(need=need, by=worker.user, outcome="yes", score=5)


def test_only_the_worker_rates_and_withdraws(need, cadre, other_worker):
    services.need_accept(need=need, by=cadre)
    services.need_resolve(need=need, by=cadre, resolution="已协调")
    with pytest.raises(PermissionDenied):
        services.need_rate(need=need, by=other_worker.user, outcome="yes", score=5)
    with pytest.raises(PermissionDenied):
        services.need_withdraw(need=need, by=other_worker.user)


def test_rating_outside_one_to_five_is_refused(need, cadre, worker):
    services.need_accept(need=need, by=cadre)
    services.need_resolve(need=need, by=cadre, resolution="已协调")
    with pytest.raises(ValidationError):
        services.need_rate(need=need, by=worker.user, outcome="yes", score=9)
    need.refresh_from_db()
    assert need.status == Status.RESOLVED


def test_withdraw(need, worker):
    services.need_withdraw(need=need, by=worker.user, reason="已自行解决")
    need.refresh_from_db()
    assert need.status == Status.WITHDRAWN
    with pytest.raises(TransitionNotAllowed):
        services.need_withdraw(need=need, by=worker.user)


def test_merge_moves_worker_and_supporters_to_the_surviving_need(
    make_need, worker, other_worker, zone_worker, street_cadre
):
    survivor = make_need(worker, title="食堂饭菜质量差")
    duplicate = make_need(other_worker, title="食堂饭菜太差")
    services.need_publish(need=duplicate, by=street_cadre, public_title="食堂饭菜质量问题")
    services.need_support(need=duplicate, member=zone_worker)

    services.need_merge(need=duplicate, into=survivor, by=street_cadre)

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.status == Status.MERGED
    assert duplicate.merged_into == survivor
    assert set(survivor.supports.values_list("member", flat=True)) == {
        other_worker.pk,
        zone_worker.pk,
    }
    assert survivor.support_count == 2
    # The duplicate keeps its own history; its worker is told.
    assert [a for a, _, _ in statuses(duplicate)][-1] == Action.MERGE
    assert Notification.objects.filter(
        user=other_worker.user, title__startswith="诉求已合并办理"
    ).exists()


def test_merge_refuses_itself_and_dead_targets(make_need, worker, other_worker, street_cadre):
    first = make_need(worker)
    second = make_need(other_worker)
    with pytest.raises(ValidationError):
        services.need_merge(need=first, into=first, by=street_cadre)
    services.need_reject(need=second, by=street_cadre, reason="不属于受理范围")
    with pytest.raises(ValidationError):
        services.need_merge(need=first, into=second, by=street_cadre)
    first.refresh_from_db()
    assert first.status == Status.SUBMITTED


def test_merge_across_jurisdictions_is_refused(make_need, worker, zone_worker, cadre):
    mine = make_need(worker)
    theirs = make_need(zone_worker)
    with pytest.raises(PermissionDenied):
        services.need_merge(need=mine, into=theirs, by=cadre)
    mine.refresh_from_db()
    assert mine.status == Status.SUBMITTED


def test_support_once_not_own_and_only_published(need, cadre, worker, other_worker):
    with pytest.raises(ValidationError):
        services.need_support(need=need, member=other_worker)
    services.need_publish(need=need, by=cadre, public_title="企业拖欠工资")
    with pytest.raises(ValidationError):
        services.need_support(need=need, member=worker)
    services.need_support(need=need, member=other_worker)
    with pytest.raises(ValidationError):
        services.need_support(need=need, member=other_worker)
    need.refresh_from_db()
    assert need.support_count == 1
    assert Support.objects.count() == 1


def test_publish_requires_a_public_title(need, cadre):
    with pytest.raises(ValidationError):
        services.need_publish(need=need, by=cadre, public_title=" ")
    need.refresh_from_db()
    assert not need.is_public


def test_internal_note_is_not_public(need, cadre):
    services.need_add_note(need=need, by=cadre, internal_note="该企业去年也有类似投诉")
    event = need.events.get(action=Action.NOTE)
    assert not event.is_public
    assert event.public_note == ""
    assert not NeedEvent.objects.public().filter(pk=event.pk).exists()


def test_offline_need_recorded_by_a_cadre_keeps_its_channel(reference, worker, cadre):
    from apps.needs.models import ServiceArea

    hotline = Channel.objects.get(code="hotline")
    need = services.need_submit(
        member=worker,
        kind=Need.Kind.CONSULTATION,
        area=ServiceArea.objects.get(code="skills"),
        rights_type=Need.RightsType.OTHER,
        title="想参加焊工技能培训",
        description="电话咨询培训报名方式",
        channel=hotline,
        recorded_by=cadre,
    )
    assert need.channel == hotline
    assert need.recorded_by == cadre
    with pytest.raises(ValidationError):
        services.need_submit(
            member=worker,
            kind=Need.Kind.CONSULTATION,
            area=ServiceArea.objects.get(code="skills"),
            rights_type=Need.RightsType.OTHER,
            title="x",
            description="y",
            recorded_by=cadre,  # online channel by default: refused for a cadre's record
        )


def test_visible_to(
    need, worker, other_worker, cadre, other_cadre, street_cadre, reviewer, superuser
):
    assert list(Need.objects.visible_to(superuser)) == [need]
    assert list(Need.objects.visible_to(worker.user)) == [need]
    assert not Need.objects.visible_to(other_worker.user).exists()
    assert list(Need.objects.visible_to(cadre)) == [need]
    assert not Need.objects.visible_to(other_cadre).exists()
    assert list(Need.objects.visible_to(street_cadre)) == [need]
    assert not Need.objects.visible_to(reviewer).exists()
