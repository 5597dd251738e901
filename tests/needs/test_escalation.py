"""督办: reminders, escalation to the street and the district, auto-close — and idempotency.

The calendar is 2026's: National Day runs 1–7 October, Saturday 10 October is a
make-up working day (调休). A need submitted on Monday 28 September with three
working days to be accepted is due on Thursday 8 October at 17:30.
"""

import dataclasses
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.needs import deadlines, escalation, services
from apps.needs.models import Need, NeedEvent, ServiceArea, TimeLimit
from apps.needs.workflow import Action, Status
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db


def local(*args) -> dt.datetime:
    """An aware datetime in the site's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime(*args))


def submit(member, at, *, kind=Need.Kind.HELP, urgency=Need.Urgency.NORMAL) -> Need:
    return services.need_submit(
        member=member,
        kind=kind,
        area=ServiceArea.objects.first(),
        rights_type=Need.RightsType.LABOUR_ECONOMIC,
        title="车间拖欠加班费",
        description="九月加班费至今未发放。",
        urgency=urgency,
        at=at,
    )


def accept(need, cadre, at) -> Need:
    """Accept through the service, then move its times to ``at``."""
    services.need_accept(need=need, by=cadre)
    Need.objects.filter(pk=need.pk).update(
        accepted_at=at,
        accepted_late=at > need.accept_due,
        resolve_due=deadlines.due(
            TimeLimit.Stage.RESOLVE, at, kind=need.kind, urgency=need.urgency
        ),
    )
    NeedEvent.objects.filter(need=need, action=Action.ACCEPT).update(created_at=at)
    return Need.objects.get(pk=need.pk)


def resolve(need, cadre, at) -> Need:
    services.need_resolve(need=need, by=cadre, resolution="已协调单位补发加班费。")
    Need.objects.filter(pk=need.pk).update(resolved_at=at, resolved_late=at > need.resolve_due)
    NeedEvent.objects.filter(need=need, action=Action.RESOLVE).update(created_at=at)
    return Need.objects.get(pk=need.pk)


def run(now):
    return escalation.run(now=now)


def snapshot():
    """Everything a run could change: the timeline, the message boxes, the needs."""
    return (
        NeedEvent.objects.count(),
        Notification.objects.count(),
        list(
            Need.objects.order_by("pk").values_list(
                "status", "escalation", "escalated_at", "reminded_at", "closed_at", "auto_closed"
            )
        ),
    )


def messages(user):
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


@pytest.fixture
def people(reference, worker, cadre, street_cadre, district_cadre, other_cadre):
    return worker, cadre


@pytest.fixture
def late_need(people):
    """Submitted Monday 28 September 09:00; to be accepted by Thursday 8 October 17:30."""
    worker, _ = people
    need = submit(worker, local(2026, 9, 28, 9, 0))
    assert need.accept_due == local(2026, 10, 8, 17, 30)
    return need


# --- escalation -----------------------------------------------------------------------


def test_need_is_not_escalated_on_the_day_its_limit_ends(late_need):
    # Overdue from 17:30 (the admin shows it), escalated by the first run of the next day.
    for now in (local(2026, 10, 8, 17, 0), local(2026, 10, 8, 23, 59)):
        assert run(now).count("street") == 0
    assert Need.objects.get(pk=late_need.pk).escalation == Need.Escalation.NONE


def test_need_past_accept_limit_is_escalated_to_the_street(
    late_need, worker, cadre, other_cadre, street_cadre, district_cadre
):
    now = local(2026, 10, 9, 8, 0)
    outcome = run(now)

    assert outcome.done["street"] == [late_need.number]
    need = Need.objects.get(pk=late_need.pk)
    assert need.escalation == Need.Escalation.STREET
    assert need.escalated_at == now
    assert need.status == Status.SUBMITTED
    event = need.events.get(action=Action.ESCALATE)
    assert event.is_public and event.created_at == now
    assert "街道" in event.public_note
    assert any("诉求已督办" in title for title in messages(worker.user))
    assert any("街道督办" in title for title in messages(cadre))
    assert any("街道督办" in title for title in messages(street_cadre))
    assert messages(district_cadre) == []
    assert messages(other_cadre) == []  # another workstation's cadre


def test_still_overdue_two_working_days_later_goes_to_the_district(
    late_need, street_cadre, district_cadre
):
    run(local(2026, 10, 9, 8, 0))  # Friday: to the street
    # The street's two working days: the make-up Saturday 10 and Monday 12 October.
    for now in (local(2026, 10, 11, 9, 0), local(2026, 10, 12, 8, 0), local(2026, 10, 12, 23, 0)):
        assert run(now).count("district") == 0, now
    assert Need.objects.get(pk=late_need.pk).escalation == Need.Escalation.STREET
    assert messages(district_cadre) == []

    now = local(2026, 10, 13, 8, 0)
    outcome = run(now)

    assert outcome.done["district"] == [late_need.number]
    need = Need.objects.get(pk=late_need.pk)
    assert need.escalation == Need.Escalation.DISTRICT
    assert need.escalated_at == now
    assert need.events.filter(action=Action.ESCALATE).count() == 2
    assert any("县区督办" in title for title in messages(district_cadre))
    assert len(messages(street_cadre)) == 1  # told once, when the street got it


def test_second_run_the_same_day_changes_nothing(late_need, people):
    worker, cadre = people
    run(local(2026, 10, 9, 8, 0))  # late_need goes to the street
    resolved = accept(submit(worker, local(2026, 9, 21, 9, 0)), cadre, local(2026, 9, 22, 9, 0))
    resolve(resolved, cadre, local(2026, 9, 28, 10, 0))  # auto-closes on 14 October
    reminded = submit(worker, local(2026, 10, 12, 9, 0), urgency=Need.Urgency.URGENT)
    late = submit(worker, local(2026, 10, 9, 9, 0))  # accept by 13 October 17:30

    first = run(local(2026, 10, 13, 8, 0))
    assert first.done["district"] == [late_need.number]
    assert first.done["remind"] == [reminded.number, late.number]
    assert first.count("street") == 0
    assert first.count("auto_close") == 0
    before = snapshot()

    # Later the same day: two limits have run out at 17:30, but the next day acts on them.
    for now in (local(2026, 10, 13, 8, 0), local(2026, 10, 13, 12, 0), local(2026, 10, 13, 23, 0)):
        again = run(now)
        assert all(again.count(rule.name) == 0 for rule in again.rules)
        assert snapshot() == before
    assert Need.objects.get(pk=reminded.pk).reminded_at == local(2026, 10, 13, 8, 0)
    next_day = run(local(2026, 10, 14, 8, 0))
    assert next_day.done["street"] == [reminded.number, late.number]
    assert next_day.done["auto_close"] == [resolved.number]


def test_need_accepted_in_time_does_not_escalate(late_need, cadre):
    accept(late_need, cadre, local(2026, 9, 29, 10, 0))
    before = snapshot()

    outcome = run(local(2026, 10, 9, 8, 0))

    assert outcome.count("street") == 0
    assert Need.objects.get(pk=late_need.pk).escalation == Need.Escalation.NONE
    assert snapshot() == before


def test_need_accepted_after_street_escalation_is_not_taken_to_the_district(
    late_need, cadre, district_cadre
):
    run(local(2026, 10, 9, 8, 0))
    accept(late_need, cadre, local(2026, 10, 9, 10, 0))

    outcome = run(local(2026, 10, 13, 8, 0))

    assert outcome.count("district") == 0
    need = Need.objects.get(pk=late_need.pk)
    assert need.escalation == Need.Escalation.STREET  # stays marked: it was late once
    assert need.accepted_late
    assert messages(district_cadre) == []


def test_need_past_resolve_limit_is_escalated_the_next_day(people):
    worker, cadre = people
    need = submit(worker, local(2026, 9, 28, 9, 0), kind=Need.Kind.CONSULTATION)
    need = accept(need, cadre, local(2026, 9, 28, 11, 0))
    assert need.resolve_due == local(2026, 10, 8, 17, 30)  # 29, 30 Sep and 8 Oct

    assert run(local(2026, 10, 8, 18, 0)).count("street") == 0
    assert run(local(2026, 10, 9, 8, 0)).done["street"] == [need.number]


def test_closed_and_withdrawn_needs_are_left_alone(late_need, people):
    worker, _ = people
    services.need_withdraw(need=late_need, by=worker.user)
    before = snapshot()

    outcome = run(local(2026, 10, 20, 8, 0))

    assert all(outcome.count(rule.name) == 0 for rule in outcome.rules)
    assert snapshot() == before


# --- reminders ------------------------------------------------------------------------


def test_reminder_is_sent_once_the_working_day_before_the_limit(late_need, cadre, worker):
    # Due Thursday 8 October 17:30; Wednesday 30 September is the working day before.
    assert run(local(2026, 9, 29, 8, 0)).count("remind") == 0

    outcome = run(local(2026, 9, 30, 8, 0))

    assert outcome.done["remind"] == [late_need.number]
    need = Need.objects.get(pk=late_need.pk)
    assert need.reminded_at == local(2026, 9, 30, 8, 0)
    event = need.events.get(action=Action.REMIND)
    assert not event.is_public  # the worker's timeline does not show cadre reminders
    assert messages(cadre) == [f"诉求即将到期：{need.number}", f"新诉求待受理：{need.number}"]
    assert not any("到期" in title for title in messages(worker.user))

    for now in (local(2026, 9, 30, 15, 0), local(2026, 10, 8, 8, 0), local(2026, 10, 8, 17, 0)):
        assert run(now).count("remind") == 0
    assert need.events.filter(action=Action.REMIND).count() == 1


def test_no_reminders_on_a_day_off(people, cadre):
    worker, _ = people
    # Urgent, submitted on the evening before the holiday: due Thursday 8 October.
    need = submit(worker, local(2026, 9, 30, 19, 0), urgency=Need.Urgency.URGENT)
    assert need.accept_due == local(2026, 10, 8, 17, 30)

    for day in range(1, 8):
        assert run(local(2026, 10, day, 8, 0)).count("remind") == 0, f"10-{day:02d}"

    assert run(local(2026, 10, 8, 8, 0)).done["remind"] == [need.number]


def test_a_new_stage_gets_its_own_reminder(late_need, cadre):
    run(local(2026, 9, 30, 8, 0))  # reminded to accept
    need = Need.objects.get(pk=late_need.pk)
    Need.objects.filter(pk=need.pk).update(kind=Need.Kind.CONSULTATION)
    need = accept(Need.objects.get(pk=need.pk), cadre, local(2026, 10, 8, 10, 0))
    # Three working days to resolve: 9, the make-up Saturday 10, and Monday 12 October.
    assert need.resolve_due == local(2026, 10, 12, 17, 30)

    assert run(local(2026, 10, 9, 8, 0)).count("remind") == 0
    outcome = run(local(2026, 10, 10, 8, 0))  # Saturday, but a working day

    assert outcome.done["remind"] == [need.number]
    assert need.events.filter(action=Action.REMIND).count() == 2
    assert run(local(2026, 10, 12, 8, 0)).count("remind") == 0


def test_reopened_need_is_reminded_again(people):
    worker, cadre = people
    need = submit(worker, local(2026, 10, 12, 9, 0), kind=Need.Kind.CONSULTATION)
    need = accept(need, cadre, local(2026, 10, 12, 10, 0))  # due Thursday 15 October
    assert run(local(2026, 10, 14, 8, 0)).done["remind"] == [need.number]
    resolve(need, cadre, local(2026, 10, 14, 16, 0))
    services.need_rate(need=need, by=worker.user, outcome="no", score=1, comment="仍未补发")
    reopened = Need.objects.get(pk=need.pk)
    assert reopened.status == Status.IN_PROGRESS
    # The service gives the reopened need a fresh limit counted from the real clock.
    Need.objects.filter(pk=need.pk).update(resolve_due=local(2026, 10, 20, 17, 30))
    NeedEvent.objects.filter(need=need, action=Action.REOPEN).update(
        created_at=local(2026, 10, 15, 9, 0)
    )

    assert run(local(2026, 10, 16, 8, 0)).count("remind") == 0
    assert run(local(2026, 10, 19, 8, 0)).done["remind"] == [need.number]


# --- auto-close -----------------------------------------------------------------------


@pytest.fixture
def resolved_need(people):
    """Resolved Monday 28 September 10:00: seven working days run until 13 October 17:30."""
    worker, cadre = people
    need = submit(worker, local(2026, 9, 24, 9, 0))
    need = accept(need, cadre, local(2026, 9, 24, 10, 0))
    return resolve(need, cadre, local(2026, 9, 28, 10, 0))


def test_unrated_need_is_not_closed_before_seven_working_days(resolved_need):
    # Fifteen calendar days, but the holiday does not count: the seventh working day is today.
    outcome = run(local(2026, 10, 13, 23, 0))
    assert outcome.count("auto_close") == 0
    assert Need.objects.get(pk=resolved_need.pk).status == Status.RESOLVED


def test_unrated_need_closes_itself_after_seven_working_days(resolved_need, worker):
    now = local(2026, 10, 14, 8, 0)
    outcome = run(now)

    assert outcome.done["auto_close"] == [resolved_need.number]
    need = Need.objects.get(pk=resolved_need.pk)
    assert need.status == Status.CLOSED
    assert need.auto_closed
    assert need.closed_at == now
    assert need.events.get(action=Action.AUTO_CLOSE).is_public
    assert any("自动完结" in title for title in messages(worker.user))
    before = snapshot()
    assert run(local(2026, 10, 14, 20, 0)).count("auto_close") == 0
    assert snapshot() == before


def test_rated_need_is_not_auto_closed(resolved_need, worker):
    services.need_rate(need=resolved_need, by=worker.user, outcome="yes", score=5)

    run(local(2026, 10, 20, 8, 0))

    need = Need.objects.get(pk=resolved_need.pk)
    assert need.status == Status.CLOSED
    assert not need.auto_closed


def test_the_districts_rate_period_is_used(resolved_need):
    TimeLimit.objects.filter(stage=TimeLimit.Stage.RATE).update(working_days=3)
    # 29, 30 September and 8 October.
    assert run(local(2026, 10, 8, 23, 0)).count("auto_close") == 0
    assert run(local(2026, 10, 9, 8, 0)).count("auto_close") == 1


def test_rate_period_per_kind(resolved_need, people):
    worker, cadre = people
    consultation = submit(worker, local(2026, 9, 24, 9, 0), kind=Need.Kind.CONSULTATION)
    consultation = accept(consultation, cadre, local(2026, 9, 24, 10, 0))
    consultation = resolve(consultation, cadre, local(2026, 9, 28, 10, 0))
    TimeLimit.objects.create(
        stage=TimeLimit.Stage.RATE, kind=Need.Kind.CONSULTATION, working_days=2
    )

    outcome = run(local(2026, 10, 8, 8, 0))  # two working days (29, 30 Sep) have passed

    assert outcome.done["auto_close"] == [consultation.number]
    assert Need.objects.get(pk=resolved_need.pk).status == Status.RESOLVED


# --- the command ----------------------------------------------------------------------


@pytest.fixture
def one_of_each(late_need, resolved_need, people):
    """At Friday 9 October 08:00: one need to remind, one to escalate, none for the district."""
    worker, _ = people
    soon = submit(worker, local(2026, 10, 8, 9, 0), urgency=Need.Urgency.URGENT)
    assert soon.accept_due == local(2026, 10, 9, 17, 30)
    return {"remind": soon, "street": late_need, "auto_close": resolved_need}


def test_command_prints_counts_in_chinese(one_of_each):
    out = StringIO()
    call_command("escalate_overdue", "--now", "2026-10-14T08:00", stdout=out)

    assert out.getvalue().splitlines() == [
        "诉求时限检查：2026-10-14 08:00（Asia/Shanghai）",
        "临近时限提醒：0 件",
        "超时提请街道督办：2 件",
        "街道督办后仍超时，提请县区督办：0 件",
        "逾期未评价自动完结：1 件",
        "完成。",
    ]
    out = StringIO()
    call_command("escalate_overdue", "--now", "2026-10-14T08:00", stdout=out)
    assert "超时提请街道督办：0 件" in out.getvalue()
    assert "逾期未评价自动完结：0 件" in out.getvalue()


def test_command_lists_need_numbers_when_verbose(one_of_each):
    out = StringIO()
    call_command("escalate_overdue", "--now", "2026-10-09T08:00", verbosity=2, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1:3] == ["临近时限提醒：1 件", f"  {one_of_each['remind'].number}"]
    assert f"  {one_of_each['street'].number}" in lines


def test_dry_run_changes_nothing(one_of_each):
    before = snapshot()
    out = StringIO()

    call_command("escalate_overdue", "--now", "2026-10-14T08:00+08:00", "--dry-run", stdout=out)

    assert snapshot() == before
    text = out.getvalue()
    assert "试运行：以下为将会处理的数量，未做任何更改。" in text
    assert "超时提请街道督办：2 件" in text
    assert "逾期未评价自动完结：1 件" in text
    assert "完成。" not in text


def test_now_is_read_in_beijing_time_unless_an_offset_is_given(late_need):
    # Limit: 8 October 17:30 in Beijing. 23:59 is still that day; 16:30 UTC is the next one.
    out = StringIO()
    call_command("escalate_overdue", "--now", "2026-10-08T23:59", stdout=out)
    assert "诉求时限检查：2026-10-08 23:59（Asia/Shanghai）" in out.getvalue()
    assert Need.objects.get(pk=late_need.pk).escalation == Need.Escalation.NONE

    out = StringIO()
    call_command("escalate_overdue", "--now", "2026-10-08T16:30:00+00:00", stdout=out)
    assert "诉求时限检查：2026-10-09 00:30（Asia/Shanghai）" in out.getvalue()
    assert Need.objects.get(pk=late_need.pk).escalation == Need.Escalation.STREET


def test_command_refuses_a_malformed_now():
    with pytest.raises(CommandError, match="--now 的格式不正确"):
        call_command("escalate_overdue", "--now", "下周一")


def test_one_failure_does_not_undo_the_others(people, monkeypatch):
    worker, _ = people
    first = submit(worker, local(2026, 9, 28, 9, 0))
    second = submit(worker, local(2026, 9, 28, 9, 5))
    real_escalate = services.need_escalate

    def flaky(*, need, level, at=None):
        if need.pk == first.pk:
            raise RuntimeError("mail server down")
        return real_escalate(need=need, level=level, at=at)

    monkeypatch.setattr(services, "need_escalate", flaky)
    out = StringIO()

    with pytest.raises(CommandError, match=f"处理失败 1 件（超时提请街道督办 {first.number}）"):
        call_command("escalate_overdue", "--now", "2026-10-09T08:00", stdout=out)

    assert "超时提请街道督办：1 件" in out.getvalue()
    assert Need.objects.get(pk=first.pk).escalation == Need.Escalation.NONE
    assert Need.objects.get(pk=second.pk).escalation == Need.Escalation.STREET
    assert not first.events.filter(action=Action.ESCALATE).exists()


def test_a_need_acted_on_since_it_was_selected_is_skipped(late_need, cadre, monkeypatch):
    """The rule is checked again under the row lock: a cadre may have acted in between."""
    real_rules_at = escalation.rules_at

    def rules_with_a_race(now):
        rules = real_rules_at(now)
        street = next(rule for rule in rules if rule.name == "street")
        calls = []

        def select(qs):
            if calls:  # the check under the lock: the cadre has just accepted the need
                accept(late_need, cadre, local(2026, 10, 9, 7, 59))
            calls.append(qs)
            return street.select(qs)

        return [
            dataclasses.replace(rule, select=select) if rule is street else rule for rule in rules
        ]

    monkeypatch.setattr(escalation, "rules_at", rules_with_a_race)

    outcome = run(local(2026, 10, 9, 8, 0))

    assert outcome.count("street") == 0
    assert not outcome.failures
    need = Need.objects.get(pk=late_need.pk)
    assert need.status == Status.ACCEPTED
    assert need.escalation == Need.Escalation.NONE
    assert not need.events.filter(action=Action.ESCALATE).exists()


def test_candidates_are_found_with_a_fixed_number_of_queries(
    one_of_each, people, django_assert_num_queries
):
    worker, _ = people
    for hour in range(10, 15):
        submit(worker, local(2026, 9, 28, hour, 0))
    # 1 is today a working day (overrides)      2 the reminder horizon (overrides)
    # 3 "escalate" rules   4 its cutoff (overrides)   5 "rate" rules   6 its cutoff
    # 7–10 one candidate query per rule: remind, street, district, auto-close
    with django_assert_num_queries(10):
        outcome = escalation.run(now=local(2026, 10, 9, 8, 0), dry_run=True)
    assert outcome.count("street") == 6
