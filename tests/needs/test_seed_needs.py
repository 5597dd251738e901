"""The demo district's needs (seeds/demo/needs.csv, loaded by load_demo).

Every state, channel, area and rights type shows up; some needs are overdue and
escalated, rated, published with supporters, confidential; the reports have a
story to tell (the development zone lags, 职工文化阵地 is under-served); and a
second load changes nothing.

The demo is loaded once for the module (about 7 s) inside a transaction that is
rolled back afterwards; each test runs in a savepoint of its own.
"""

import csv
import datetime as dt
import io
import shutil
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count, Q
from django.test import override_settings
from django.utils import timezone

from apps.core.seeding import SeedError, run_demo
from apps.needs.models import (
    Channel,
    Need,
    NeedEvent,
    Rating,
    Referral,
    ServiceArea,
    Support,
)
from apps.needs.workflow import Action, Status
from apps.notifications.models import Notification
from apps.workstations.models import Street

pytestmark = pytest.mark.django_db

SEEDS = django_settings.BASE_DIR / "seeds"
DONE = [Status.RESOLVED, Status.CLOSED]  # what the reports count as resolved


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo district, loaded once through the seed runner."""
    with django_db_blocker.unblock(), override_settings(DEBUG=True), transaction.atomic():
        ctx = run_demo()
        yield ctx
        transaction.set_rollback(True)


def resolution_share(needs) -> float:
    counts = needs.aggregate(n=Count("id"), done=Count("id", filter=Q(status__in=DONE)))
    return counts["done"] / counts["n"]


def test_every_status_channel_area_rights_type_kind_and_urgency_is_present(demo):
    needs = Need.objects.all()
    assert needs.count() >= 250
    assert set(needs.values_list("status", flat=True)) == set(Status.values)
    assert set(needs.values_list("channel__code", flat=True)) == set(
        Channel.objects.values_list("code", flat=True)
    )
    assert set(needs.values_list("area__code", flat=True)) == set(
        ServiceArea.objects.values_list("code", flat=True)
    )
    assert set(needs.values_list("rights_type", flat=True)) == set(Need.RightsType.values)
    assert set(needs.values_list("kind", flat=True)) == set(Need.Kind.values)
    assert set(needs.values_list("urgency", flat=True)) == set(Need.Urgency.values)
    # The finer states of the file: closed by the worker and by the system, reopened.
    assert needs.filter(status=Status.CLOSED, auto_closed=True).exists()
    assert needs.filter(status=Status.CLOSED, auto_closed=False, ratings__isnull=False).exists()
    assert needs.filter(status=Status.IN_PROGRESS, events__action=Action.REOPEN).exists()
    assert not needs.filter(status=Status.REJECTED, rejection_reason="").exists()
    assert not needs.filter(status=Status.MERGED, merged_into__isnull=True).exists()
    assert set(Referral.objects.values_list("state", flat=True)) == set(Referral.State.values)


def test_offline_needs_are_recorded_by_a_cadre_of_their_jurisdiction(demo):
    offline = Need.objects.filter(channel__is_online=False)
    assert offline.count() >= 80
    assert not offline.filter(recorded_by__isnull=True).exists()
    assert not Need.objects.filter(channel__is_online=True, recorded_by__isnull=False).exists()
    # 12351 calls reach the district union, which records them for the workstation.
    assert offline.filter(channel__code="hotline", recorded_by__username="zhou.jianguo").exists()
    online = Need.objects.filter(channel__is_online=True).count()
    assert online > offline.count()  # the portal is already the main way in


def test_some_needs_are_overdue_and_escalated_to_the_street_and_the_district(demo):
    overdue = Need.objects.overdue()
    assert overdue.count() >= 20
    assert overdue.filter(status=Status.SUBMITTED).exists()  # waiting to be accepted
    assert overdue.filter(status__in=[Status.ACCEPTED, Status.IN_PROGRESS]).exists()
    assert Need.objects.filter(escalation=Need.Escalation.STREET).count() >= 5
    assert Need.objects.filter(escalation=Need.Escalation.DISTRICT).count() >= 5
    # Each escalation is on the timeline, at the moment the need records.
    for need in Need.objects.exclude(escalation=0).prefetch_related("events"):
        escalations = [e for e in need.events.all() if e.action == Action.ESCALATE]
        assert len(escalations) == need.escalation
        assert escalations[-1].created_at == need.escalated_at


def test_some_needs_are_rated_published_supported_and_confidential(demo):
    ratings = Rating.objects.all()
    assert ratings.count() >= 50
    assert {r.satisfied for r in ratings} == {True, False}
    assert set(ratings.values_list("outcome", flat=True)) == set(Rating.Outcome.values)

    published = Need.objects.published()
    assert published.count() >= 10
    assert published.filter(support_count__gt=0).count() >= 10
    for need in published.annotate(n=Count("supports")):
        assert need.support_count == need.n
        assert need.public_title
    # Merged duplicates' workers now support the surviving need.
    for duplicate in Need.objects.filter(status=Status.MERGED).select_related("merged_into"):
        assert Support.objects.filter(
            need=duplicate.merged_into, member=duplicate.submitter_id
        ).exists()

    confidential = Need.objects.filter(confidential=True)
    assert confidential.count() >= 20
    assert not confidential.filter(is_public=True).exists()


def test_the_history_spreads_over_months_in_order(demo):
    now = timezone.now()
    needs = Need.objects.all()
    oldest = needs.order_by("created_at").first().created_at
    assert oldest < now - dt.timedelta(days=150)
    for model in (Need, NeedEvent, Notification, Support, Rating, Referral):
        assert not model.objects.filter(created_at__gt=now).exists(), model
    for need in needs.prefetch_related("events"):
        events = list(need.events.all())
        assert events[0].action == Action.SUBMIT
        assert events[0].created_at == need.created_at
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status == before.to_status, (need.number, after.action)
        assert events[-1].to_status == need.status
        accepted = [e.created_at for e in events if e.action == Action.ACCEPT]
        assert need.accepted_at == (accepted[0] if accepted else None)
        if need.accepted_at:
            assert need.accepted_late == (need.accepted_at > need.accept_due)
    # Old messages about needs have been read; the last few days' wait in the boxes.
    about_needs = Notification.objects.filter(url__contains="/needs/")
    assert not about_needs.unread().filter(created_at__lt=now - dt.timedelta(days=4))
    assert about_needs.unread().exists()


def test_the_reports_have_a_story_the_development_zone_lags(demo):
    needs = Need.objects.all()
    district = resolution_share(needs)
    zone = Street.objects.get(kind=Street.Kind.ZONE)
    in_zone = needs.filter(workstation__street=zone)
    assert resolution_share(in_zone) < district - 0.1
    for street in Street.objects.exclude(pk=zone.pk):
        assert resolution_share(needs.filter(workstation__street=street)) > resolution_share(
            in_zone
        )
    # Slower, more often overdue and less satisfied, too.
    elsewhere = needs.exclude(workstation__street=zone)

    def days_to_resolve(qs):
        spans = [
            (n.resolved_at - n.created_at).total_seconds() / 86400
            for n in qs.filter(resolved_at__isnull=False)
        ]
        return sum(spans) / len(spans)

    assert days_to_resolve(in_zone) > days_to_resolve(elsewhere)
    zone_overdue = in_zone.overdue().count() / in_zone.count()
    assert zone_overdue > elsewhere.overdue().count() / elsewhere.count()
    satisfied = {
        kind: Rating.objects.filter(need__workstation__street__kind=kind)
        .aggregate(n=Count("id"), high=Count("id", filter=Q(score__gte=4)))
        .values()
        for kind in Street.Kind.values
    }
    zone_n, zone_high = satisfied[Street.Kind.ZONE]
    street_n, street_high = satisfied[Street.Kind.STREET]
    assert zone_high / zone_n < street_high / street_n


def test_the_reports_have_a_story_culture_is_under_served(demo):
    needs = Need.objects.all()
    shares = {
        area.code: resolution_share(needs.filter(area=area)) for area in ServiceArea.objects.all()
    }
    assert min(shares, key=shares.get) == "culture"
    assert shares["culture"] < resolution_share(needs) - 0.15
    # Demand is real: not the smallest area.
    demand = Counter(needs.values_list("area__code", flat=True))
    assert demand["culture"] > min(demand.values())
    # Labour-economic needs outnumber democratic-political ones.
    rights = Counter(needs.values_list("rights_type", flat=True))
    assert rights[Need.RightsType.LABOUR_ECONOMIC] > rights[Need.RightsType.DEMOCRATIC_POLITICAL]


def test_the_demo_accounts_have_something_to_see(demo):
    mine = Need.objects.filter(submitter__user__username="worker")
    statuses = set(mine.values_list("status", flat=True))
    assert {Status.SUBMITTED, Status.ACCEPTED, Status.RESOLVED, Status.CLOSED} <= statuses
    assert mine.filter(is_public=True, support_count__gt=0).exists()
    assert Support.objects.filter(member__user__username="worker").exists()
    assert Notification.objects.filter(user__username="worker").unread().exists()

    workstation = Need.objects.filter(workstation__code="HB01")  # the demo cadre's
    assert workstation.count() >= 15
    assert workstation.filter(status=Status.SUBMITTED).exists()
    assert workstation.overdue().exists()


COUNTED = (Need, NeedEvent, Rating, Support, Referral, Notification)


def test_a_second_load_changes_nothing(demo):
    before = {model: model.objects.count() for model in COUNTED}
    needs_before = list(Need.objects.order_by("pk").values_list())
    with override_settings(DEBUG=True):
        ctx = run_demo()
    assert {model: model.objects.count() for model in COUNTED} == before
    assert list(Need.objects.order_by("pk").values_list()) == needs_before
    assert ctx.tally["诉求"] == {"created": 0, "updated": 0, "unchanged": before[Need]}
    assert not ctx.changed


def needs_line(**values) -> str:
    """One line of needs.csv: a plain new need, changed by ``values``."""
    header = (SEEDS / "demo" / "needs.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    row = dict.fromkeys(header.split(","), "")
    row.update(
        ref="N999",
        submitter="13752367796",  # the demo worker
        title="又一条诉求",
        kind="complaint",
        area="rights",
        rights_type="labour_economic",
        urgency="normal",
        confidential="否",
        channel="online",
        description="说明。",
        state="submitted",
        submitted_on="today-3",
    )
    row.update(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row.values())
    return out.getvalue()


BROKEN = [
    (needs_line(submitter="13900000000"), "找不到手机号码为“13900000000”的职工"),
    # Closed, but never rated.
    (
        needs_line(
            state="closed",
            submitted_on="today-30",
            accepted_on="today-29",
            resolved_on="today-20",
            closed_on="today-18",
            result="已办结。",
        ),
        "outcome 必须填写",
    ),
    (needs_line(state="lost"), "state：“lost”不是有效的取值"),
    (needs_line(channel="visit"), "须填写代为登记的干部 recorded_by"),
    (needs_line(state="accepted", accepted_on="today-5"), "日期顺序"),
    (needs_line(confidential="是", public_title="公开"), "保密诉求不能公开征集"),
    (needs_line(state="merged", accepted_on="today-2", merge_into="N000"), "merge_into"),
]


@pytest.mark.parametrize(("line", "message"), BROKEN)
def test_a_bad_line_stops_the_load_with_its_file_and_line(demo, settings, tmp_path, line, message):
    settings.DEBUG = True
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    needs_csv = seeds / "demo" / "needs.csv"
    lines = needs_csv.read_text(encoding="utf-8").rstrip("\n").split("\n")
    needs_csv.write_text("\n".join([*lines, line]) + "\n", encoding="utf-8")
    before = {model: model.objects.count() for model in COUNTED}

    with pytest.raises(SeedError) as error:
        run_demo(seeds)

    assert f"needs.csv:{len(lines) + 1}:" in str(error.value)
    assert message in str(error.value)
    assert {model: model.objects.count() for model in COUNTED} == before
