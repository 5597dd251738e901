"""manage.py generate_district: a tiny generated district, checked against the rules it mimics.

The district is generated once for the module (and rolled back at its end) through
the command, with a fixed ``--now`` at 15:00 local time, so that day's escalation run
(07:00) lies in the past. Every need's timeline is replayed through the state machine
and its fields recomputed the way ``apps.needs.services`` computes them; projects are
checked the same way against ``apps.projects``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter, defaultdict
from decimal import Decimal
from types import SimpleNamespace

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.generator import ACCOUNTS, SMALL, load_reference_data
from apps.core.management.commands.generate_district import sizes_from
from apps.core.workdays import add_working_days, is_workday
from apps.members.models import Employment, Member, MembershipApplication
from apps.members.validators import id_number_validator, mobile_validator
from apps.needs import deadlines, escalation
from apps.needs import services as need_services
from apps.needs.models import (
    Channel,
    Need,
    NeedEvent,
    Rating,
    Referral,
    ServiceArea,
    Support,
    TimeLimit,
)
from apps.needs.workflow import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    WORKING,
    Action,
    Actor,
    Status,
    transition_for,
)
from apps.notifications.models import Notification
from apps.projects import services as project_services
from apps.projects.models import (
    PASS_SCORE,
    Evidence,
    Indicator,
    ProgressUpdate,
    ProjectEvent,
    ProjectNeed,
    Review,
    Reward,
    ServiceProject,
)
from apps.projects.workflow import TRANSITIONS as PROJECT_TRANSITIONS
from apps.projects.workflow import Action as ProjectAction
from apps.projects.workflow import Status as ProjectStatus
from apps.reports.filters import ReportParams
from apps.reports.metrics import build_report
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import (
    CadreAssignment,
    District,
    OwnershipType,
    Street,
    Unit,
    Workstation,
)
from apps.workstations.services import CADRE_GROUP, REVIEWER_GROUP

pytestmark = pytest.mark.django_db

PASSWORD = "bench12345"
TINY = {"members": 400, "needs": 1000, "units": 60, "projects": 30, "streets": 3,
        "workstations": 9}  # fmt: skip
TWO_YEARS = dt.timedelta(days=731)
ASSESSED = {ProjectStatus.ASSESSED, ProjectStatus.ACCEPTED, ProjectStatus.FAILED,
            ProjectStatus.REWARDED}  # fmt: skip
DECIDED = {ProjectStatus.ACCEPTED, ProjectStatus.FAILED, ProjectStatus.REWARDED}
# What the generated rows are compared by between two runs (passwords carry a salt).
DIGESTED = (Workstation, Unit, Member, Need, NeedEvent, Support, Rating, Referral,
            ServiceProject, Indicator, ProjectEvent, ProjectNeed, Review, Reward)  # fmt: skip


def run(seed: int, now: dt.datetime, *extra: str) -> str:
    out = io.StringIO()
    args = [f"--{name}={value}" for name, value in TINY.items()]
    call_command(
        "generate_district", *args, f"--seed={seed}", f"--now={now.isoformat()}", *extra,
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


def digest() -> str:
    sha = hashlib.sha256()
    for model in DIGESTED:
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*fields):
            sha.update(repr(row).encode())
    users = get_user_model().objects.order_by("pk")
    for row in users.values_list("pk", "username", "name", "is_staff", "date_joined"):
        sha.update(repr(row).encode())
    return sha.hexdigest()


@pytest.fixture(scope="module")
def district(django_db_setup, django_db_blocker):
    """The tiny district, generated twice with seed 1 (and once with seed 2) to compare."""
    local = timezone.localtime()
    now = local.replace(hour=15, minute=0, second=0, microsecond=0)
    if now > local:
        now -= dt.timedelta(days=1)
    with django_db_blocker.unblock(), transaction.atomic():
        load_reference_data()  # once, so every run below sees the same reference rows
        digests = {}
        for seed in (1, 2):
            with transaction.atomic():
                run(seed, now)
                digests[seed] = digest()
                transaction.set_rollback(True)
        output = run(1, now, "--verbosity=2")
        world = SimpleNamespace(
            now=now,
            output=output,
            digests=digests,
            digest=digest(),
            audit_entries=LogEntry.objects.count(),
            notifications=Notification.objects.count(),
            users={u.username: u for u in get_user_model().objects.filter(username__in=ACCOUNTS)},
        )
        yield world
        transaction.set_rollback(True)


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def day_start(moment: dt.datetime) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(local(moment).date(), dt.time.min))


def due(stage: str, start: dt.datetime, need: Need) -> dt.datetime:
    return deadlines.due(stage, start, kind=need.kind, urgency=need.urgency)


# --- sizes, accounts, command --------------------------------------------------------------


def test_the_district_has_the_sizes_asked_for(district):
    assert District.objects.count() == 1
    assert Street.objects.count() == 3
    assert Street.objects.filter(kind=Street.Kind.ZONE).exists()
    assert Workstation.objects.count() == 9
    assert set(Workstation.objects.values_list("street", flat=True)) == set(
        Street.objects.values_list("pk", flat=True)
    )
    assert Unit.objects.count() == 60
    assert Member.objects.count() == 400
    assert Employment.objects.count() == 400
    assert Need.objects.count() == 1000
    assert ServiceProject.objects.count() == 30
    assert "needs_need" in district.output and "峰值内存" in district.output


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(district):
    assert district.digest == district.digests[1]
    assert district.digests[2] != district.digests[1]


def test_it_refuses_a_database_with_members_or_needs(district):
    with pytest.raises(CommandError, match="已有职工或诉求"):
        run(3, district.now)
    assert Member.objects.count() == 400


def test_small_preset_and_explicit_sizes():
    options = {"small": True, "members": None, "needs": 60_000, "units": None,
               "projects": None, "streets": None, "workstations": None}  # fmt: skip
    sizes = sizes_from(options)
    assert sizes.members == SMALL.members == 20_000
    assert sizes.needs == 60_000
    assert (sizes.units, sizes.projects, sizes.streets, sizes.workstations) == (2000, 1000, 30, 300)
    full = sizes_from({**options, "small": False, "needs": None})
    assert (full.members, full.needs, full.units, full.projects) == (500_000, 1_000_000, 10_000,
                                                                      20_000)  # fmt: skip


def test_named_accounts_have_their_roles(district):
    users = district.users
    worker = Member.objects.get(user__username="bench-worker")
    poster = Member.objects.get(user__username="bench-poster")
    assert worker.status == poster.status == Member.Status.MEMBER
    assert worker.workstation_id == poster.workstation_id
    bench_ws = worker.workstation
    assert worker.unit.workstation_id == bench_ws.pk
    assert Need.objects.filter(submitter=worker).count() == 50
    statuses = set(Need.objects.filter(submitter=worker).values_list("status", flat=True))
    assert len(statuses) >= 4 and statuses & OPEN_STATUSES and statuses & FINAL_STATUSES
    assert not Need.objects.filter(submitter=poster).exists()
    # An ordinary workstation: neither the busiest nor the quietest.
    per_ws = sorted(Need.objects.values("workstation").annotate(n=models.Count("pk")).values_list(
        "n", flat=True))  # fmt: skip
    bench_count = Need.objects.filter(workstation=bench_ws).count()
    assert per_ws[0] < bench_count < per_ws[-1]

    def post(username):
        return CadreAssignment.objects.get(user=users[username])

    assert post("bench-cadre").workstation_id == bench_ws.pk
    assert post("bench-street").street_id == bench_ws.street_id
    assert post("bench-district").district_id == bench_ws.street.district_id
    reviewer = post("bench-reviewer")
    assert reviewer.role == CadreAssignment.Role.REVIEWER and reviewer.district_id
    for name in ("bench-cadre", "bench-street", "bench-district"):
        assert post(name).role == CadreAssignment.Role.CADRE
        assert users[name].is_staff
        assert set(users[name].groups.values_list("name", flat=True)) == {CADRE_GROUP}
    # As load_demo's reviewer: the reviewers' group, no staff flag.
    assert not users["bench-reviewer"].is_staff
    assert set(users["bench-reviewer"].groups.values_list("name", flat=True)) == {REVIEWER_GROUP}
    # Every cadre account gets the same staff flag and group.
    for assignment in CadreAssignment.objects.select_related("user"):
        cadre = assignment.role == CadreAssignment.Role.CADRE
        assert assignment.user.is_staff == cadre
        group = CADRE_GROUP if cadre else REVIEWER_GROUP
        assert list(assignment.user.groups.values_list("name", flat=True)) == [group]


def test_accounts_log_in_and_see_their_pages(district, client):
    for username in ACCOUNTS:
        response = client.post(
            reverse("members:login"), {"username": username, "password": PASSWORD}
        )
        assert response.status_code == 302, username
        client.post(reverse("members:logout"))
    client.post(reverse("members:login"), {"username": "bench-worker", "password": PASSWORD})
    response = client.get("/needs/")
    assert response.status_code == 200
    assert response.context["paginator"].count == 50

    client.post(reverse("members:logout"))
    client.post(reverse("members:login"), {"username": "bench-cadre", "password": PASSWORD})
    response = client.get(reverse("admin:needs_need_changelist"))
    assert response.status_code == 200
    bench_ws = Member.objects.get(user__username="bench-worker").workstation_id
    shown = response.context["cl"].result_list
    assert shown and {need.workstation_id for need in shown} == {bench_ws}

    client.post(reverse("members:logout"))
    client.post(reverse("members:login"), {"username": "bench-reviewer", "password": PASSWORD})
    assert client.get("/reports/").status_code == 200


def test_nothing_is_audited_and_nobody_is_notified(district):
    assert district.audit_entries == 0
    assert district.notifications == 0


# --- organisation and workers ----------------------------------------------------------------


def test_every_ownership_type_occurs_and_workers_are_valid(district):
    assert set(Unit.objects.values_list("ownership", flat=True)) == set(
        OwnershipType.objects.values_list("pk", flat=True)
    )
    assert not Unit.objects.filter(has_union=True, union_name="").exists()
    for member in Member.objects.select_related("unit", "user"):
        mobile_validator(member.mobile)
        if member.id_number:
            id_number_validator(member.id_number)
            weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
            total = sum(int(c) * w for c, w in zip(member.id_number[:17], weights, strict=True))
            assert "10X98765432"[total % 11] == member.id_number[17]
        if member.unit_id:
            assert member.workstation_id == member.unit.workstation_id
            assert member.unit_name == member.unit.name
        assert (member.status == Member.Status.MEMBER) == (member.member_number is not None)
        assert member.user.date_joined == member.created_at
    statuses = Counter(Member.objects.values_list("status", flat=True))
    assert statuses[Member.Status.MEMBER] > 250 and statuses[Member.Status.PENDING] > 0
    pending = MembershipApplication.objects.filter(status=MembershipApplication.Status.PENDING)
    assert set(pending.values_list("member__status", flat=True)) == {Member.Status.PENDING}
    approved = MembershipApplication.objects.filter(status=MembershipApplication.Status.APPROVED)
    assert approved.count() == statuses[Member.Status.MEMBER]
    for application in approved.select_related("member", "decided_by"):
        assert application.submitted_at < application.decided_at < district.now
        assert application.member.joined_on == local(application.decided_at).date()
        assert Jurisdiction.for_user(application.decided_by).covers_workstation(
            application.member.workstation
        )


# --- needs -----------------------------------------------------------------------------------


def test_every_kind_of_need_occurs_in_realistic_shares(district):
    needs = Need.objects.all()
    assert set(needs.values_list("status", flat=True)) == set(Status.values)
    assert set(needs.values_list("kind", flat=True)) == set(Need.Kind.values)
    assert set(needs.values_list("rights_type", flat=True)) == set(Need.RightsType.values)
    assert set(needs.values_list("urgency", flat=True)) == set(Need.Urgency.values)
    assert set(needs.values_list("channel", flat=True)) == set(
        Channel.objects.values_list("pk", flat=True)
    )
    assert set(needs.values_list("area", flat=True)) == set(
        ServiceArea.objects.values_list("pk", flat=True)
    )
    total = needs.count()
    assert 0.03 < needs.filter(confidential=True).count() / total < 0.2
    assert 0.75 < needs.filter(follow_up_consent=True).count() / total < 0.95
    online = needs.filter(channel__is_online=True)
    assert 0.4 < online.count() / total < 0.9
    assert not online.filter(recorded_by__isnull=False).exists()
    assert not needs.filter(channel__is_online=False, recorded_by__isnull=True).exists()
    assert needs.filter(status=Status.CLOSED, auto_closed=True).exists()
    assert needs.filter(events__action=Action.REOPEN).exists()
    assert needs.filter(escalation=Need.Escalation.DISTRICT).exists()
    assert needs.filter(is_public=True).exists()
    assert Referral.objects.exists()  # their state is checked with the timelines below


def test_needs_route_to_their_units_workstation_and_are_numbered_like_the_services_do(district):
    for need in Need.objects.select_related("submitter", "unit"):
        assert need.unit_id == need.submitter.unit_id
        expected_ws = need.unit.workstation_id if need.unit_id else need.submitter.workstation_id
        assert need.workstation_id == expected_ws
        assert need.number == f"XQ{local(need.created_at):%Y%m%d}{need.pk:06d}"
        assert need.created_at > need.submitter.created_at
    assert Need.objects.filter(unit__isnull=True).exists()  # workers of unlisted employers


def test_each_timeline_follows_the_state_machine_and_gives_the_needs_fields(district):
    """Replay every timeline: transitions, actors and the fields services would have set."""
    escalate_days = deadlines.working_days_for(TimeLimit.Stage.ESCALATE)
    events = defaultdict(list)
    for event in NeedEvent.objects.order_by("created_at", "pk"):
        events[event.need_id].append(event)
    for need in Need.objects.all():
        timeline = events[need.pk]
        first = timeline[0]
        assert (first.action, first.from_status, first.to_status) == (
            Action.SUBMIT, "", Status.SUBMITTED,
        )  # fmt: skip
        assert first.created_at == need.created_at
        assert need.accept_due == due(TimeLimit.Stage.ACCEPT, need.created_at, need)
        status, resolve_due = Status.SUBMITTED, None
        accepted_at = resolved_at = closed_at = escalated_at = reminded_at = first_escalation = None
        resolved_late = auto_closed = False
        escalations = 0
        for event in timeline[1:]:
            at = event.created_at
            assert event.from_status == status, (need.number, event.action)
            if event.action == Action.SUPPORT_MOVED:
                assert event.to_status == status
                continue
            transition = transition_for(event.action, status)
            assert transition.allows(event.actor), (need.number, event.action, event.actor)
            assert event.to_status == (transition.target or status)
            assert event.is_public == transition.public
            by_project = event.actor == Actor.PROJECT
            if event.action == Action.ACCEPT:
                accepted_at = at
                resolve_due = None if by_project else due(TimeLimit.Stage.RESOLVE, at, need)
            elif by_project and event.action in (Action.START, Action.NOTE):
                if "退回" in event.internal_note:  # handed back by a failed or cancelled project
                    resolve_due = due(TimeLimit.Stage.RESOLVE, at, need)
                else:
                    resolve_due = None
            elif event.action == Action.REOPEN:
                resolve_due, resolved_at = due(TimeLimit.Stage.RESOLVE, at, need), None
            elif event.action == Action.RESOLVE:
                resolved_at = at
                resolved_late = not by_project and bool(resolve_due and at > resolve_due)
            elif event.action in (Action.CONFIRM, Action.AUTO_CLOSE, Action.REJECT, Action.MERGE,
                                  Action.WITHDRAW):  # fmt: skip
                closed_at = at
                auto_closed = event.action == Action.AUTO_CLOSE
            elif event.action in (Action.ESCALATE, Action.REMIND):
                # The daily run, at 07:00: limits are judged as of the start of its day.
                assert (local(at).hour, local(at).minute) == (7, 0)
                limit = need.accept_due if status == Status.SUBMITTED else resolve_due
                if event.action == Action.ESCALATE:
                    assert limit < day_start(at), need.number
                    escalations += 1
                    if escalations == 1:
                        first_escalation = at
                    else:
                        assert add_working_days(first_escalation, escalate_days) < day_start(at)
                    escalated_at = at
                else:
                    assert is_workday(local(at).date())
                    assert at <= limit <= add_working_days(at, 1), need.number
                    reminded_at = at
            status = event.to_status
        assert status == need.status, need.number
        assert need.accepted_at == accepted_at
        assert need.accepted_late == bool(accepted_at and accepted_at > need.accept_due)
        assert need.resolve_due == resolve_due, need.number
        assert need.resolved_at == resolved_at
        assert need.resolved_late == resolved_late
        assert need.closed_at == closed_at
        assert need.auto_closed == auto_closed
        assert need.escalation == escalations and need.escalated_at == escalated_at
        assert need.reminded_at == reminded_at
        assert need.updated_at >= timeline[-1].created_at or timeline[-1].action == (
            Action.SUPPORT_MOVED
        )
        if status == Status.REJECTED:
            assert need.rejection_reason == timeline[-1].public_note
        if (
            status in (Status.RESOLVED, Status.CLOSED)
            and not auto_closed
            or status == (Status.RESOLVED)
        ):
            resolve = [e for e in timeline if e.action == Action.RESOLVE][-1]
            assert need.resolution == resolve.public_note
        if accepted_at and not need.handler_id:
            # Only a project accepts without making someone the handler.
            assert [e.actor for e in timeline if e.action == Action.ACCEPT] == [Actor.PROJECT]


def test_the_daily_run_has_nothing_left_to_escalate_or_close(district):
    """What escalate_overdue would do at ``now`` was done by that day's 07:00 run already."""
    outcome = escalation.run(now=district.now, dry_run=True)
    assert outcome.count("street") == 0
    assert outcome.count("district") == 0
    assert outcome.count("auto_close") == 0
    assert Need.objects.overdue(district.now).filter(escalation__gte=1).exists()


def test_ratings_supports_and_merges_agree_with_the_timelines(district):
    for rating in Rating.objects.select_related("need"):
        verdicts = NeedEvent.objects.filter(
            need=rating.need, created_at=rating.created_at, action__in=[Action.CONFIRM,
                                                                       Action.REOPEN],
        )  # fmt: skip
        assert verdicts.count() == 1
        satisfied = Rating.is_satisfied(rating.outcome, rating.score)
        assert verdicts.get().action == (Action.CONFIRM if satisfied else Action.REOPEN)
        assert NeedEvent.objects.filter(
            need=rating.need, action=Action.RESOLVE, created_at__lt=rating.created_at
        ).exists()
    assert (
        Rating.objects.count()
        == NeedEvent.objects.filter(action__in=[Action.CONFIRM, Action.REOPEN]).count()
    )
    assert {r.satisfied for r in Rating.objects.all()} == {True, False}

    counts = dict(Support.objects.values("need").annotate(n=models.Count("pk")).values_list(
        "need", "n"))  # fmt: skip
    for need in Need.objects.all():
        assert need.support_count == counts.get(need.pk, 0), need.number
    assert Support.objects.exists()
    for support in Support.objects.select_related("need"):
        assert support.member_id != support.need.submitter_id
        assert (
            support.need.is_public
            or support.need.events.filter(
                action=Action.SUPPORT_MOVED, created_at=support.created_at
            ).exists()
        )
    merged = Need.objects.filter(status=Status.MERGED).select_related("merged_into")
    assert merged.exists()
    for need in merged:
        target = need.merged_into
        assert target.workstation_id == need.workstation_id
        assert target.created_at < need.closed_at
        assert target.status not in (Status.MERGED, Status.REJECTED, Status.WITHDRAWN)
        assert target.events.filter(
            action=Action.SUPPORT_MOVED, internal_note=f"合并自 {need.number}"
        ).exists()
    for referral in Referral.objects.select_related("need"):
        refer = referral.need.events.get(action=Action.REFER)
        assert refer.created_at == referral.created_at and refer.by_id == referral.created_by_id
        done = referral.need.status in (Status.RESOLVED, Status.CLOSED)
        assert (referral.state == Referral.State.DONE) == done


def test_time_stamps_spread_over_two_years_with_more_lately(district):
    now = district.now
    needs = Need.objects.all()
    assert not needs.filter(created_at__lt=now - TWO_YEARS).exists()
    assert not needs.filter(created_at__gt=now).exists()
    assert not NeedEvent.objects.filter(created_at__gt=now).exists()
    assert not ProjectEvent.objects.filter(created_at__gt=now).exists()
    first = needs.filter(created_at__lt=now - TWO_YEARS + dt.timedelta(days=180)).count()
    last = needs.filter(created_at__gte=now - dt.timedelta(days=180)).count()
    assert last > first * 1.3
    old = needs.filter(created_at__lt=now - dt.timedelta(days=180))
    assert old.filter(status__in=FINAL_STATUSES).count() / old.count() > 0.9
    recent = needs.filter(created_at__gte=now - dt.timedelta(days=14))
    assert recent.exclude(status__in=FINAL_STATUSES).count() / recent.count() > 0.5
    assert needs.overdue(now).filter(status=Status.SUBMITTED).exists()
    assert needs.overdue(now).filter(status__in=WORKING).exists()
    # Cadres work in office hours: triage and resolution happen between 08:30 and 17:30.
    cadre_acts = NeedEvent.objects.filter(
        actor=Actor.CADRE, action__in=[Action.ACCEPT, Action.RESOLVE, Action.REJECT]
    )
    in_hours = [dt.time(8, 30) <= local(e.created_at).time() <= dt.time(17, 30) for e in cadre_acts]
    assert sum(in_hours) / len(in_hours) > 0.9


# --- projects --------------------------------------------------------------------------------


def test_projects_follow_their_workflow_with_indicators_reviews_and_rewards(district):
    assert set(ServiceProject.objects.values_list("status", flat=True)) == set(ProjectStatus.values)
    assert set(ServiceProject.objects.values_list("kind", flat=True)) == set(
        ServiceProject.Kind.values
    )
    for project in ServiceProject.objects.select_related("street", "workstation"):
        assert project.number == f"XM{local(project.created_at):%Y}{project.pk:05d}"
        events = list(project.events.order_by("created_at", "pk"))
        assert (events[0].action, events[0].from_status) == (ProjectAction.PROPOSE, "")
        links = project.links.count()
        assert links >= 1 and events[0].note == f"由 {links} 件诉求提出"
        status = events[0].to_status
        for event in events[1:]:
            transition = PROJECT_TRANSITIONS[event.action]
            assert event.from_status == status and status in transition.sources
            assert event.to_status == (transition.target or status)
            status = event.to_status
        assert status == project.status
        assert events[-1].created_at == project.updated_at
        assert project_services._covers(project.lead, project)

        indicators = list(project.indicators.all())
        assert indicators
        assessed = project.status in ASSESSED
        assert all((i.actual is not None) == assessed for i in indicators)
        assert project.assessment_score == project.compute_assessment_score()
        assert (project.actual_end is not None) == assessed
        assert bool(project.result) == assessed
        if project.actual_start and project.actual_end:
            assert project.actual_start <= project.actual_end
        reviews = list(project.reviews.all())
        if project.status in DECIDED:
            assert len(reviews) == project.panel_size
            mean = sum(r.score for r in reviews) / len(reviews)
            assert project.acceptance_score == Decimal(mean).quantize(Decimal("0.1"))
            passes = sum(r.verdict == Review.Verdict.PASS for r in reviews)
            accepted = passes > len(reviews) - passes and project.acceptance_score >= PASS_SCORE
            assert accepted == (project.status != ProjectStatus.FAILED)
            assert project.evidence.filter(kind=Evidence.Kind.ATTENDANCE).exists()
        else:
            assert len(reviews) < project.panel_size or not reviews
            assert project.acceptance_score is None
        assert project.rewards.exists() == (project.status == ProjectStatus.REWARDED)
        for reward in project.rewards.all():
            assert project_services.may_reward(reward.awarded_by, project)
        if project.status not in (ProjectStatus.PROPOSED, ProjectStatus.CANCELLED):
            approve = project.events.get(action=ProjectAction.APPROVE)
            assert project_services.may_approve(approve.by, project)
        if project.actual_start:
            assert ProgressUpdate.objects.filter(project=project).exists() or not assessed


def test_linked_needs_come_from_the_projects_place_and_follow_the_project(district):
    for link in ProjectNeed.objects.select_related("project", "need__workstation"):
        project, need = link.project, link.need
        if project.workstation_id:
            assert need.workstation_id == project.workstation_id
        else:
            assert need.workstation.street_id == project.street_id
        assert need.area_id == project.area_id
        assert need.created_at < project.created_at == link.linked_at
        joined = need.events.filter(actor=Actor.PROJECT, created_at=project.created_at)
        assert joined.exists(), need.number
        if project.status in (ProjectStatus.ACCEPTED, ProjectStatus.REWARDED):
            accepted_at = project.events.get(action=ProjectAction.ACCEPT).created_at
            resolve = need.events.get(action=Action.RESOLVE, actor=Actor.PROJECT)
            assert resolve.created_at == accepted_at
        elif project.status in (ProjectStatus.FAILED, ProjectStatus.CANCELLED):
            assert need.events.filter(actor=Actor.PROJECT, internal_note__contains="退回").exists()
        else:
            assert need.status == Status.IN_PROGRESS and need.resolve_due is None


# --- integrity, reports and what comes after ----------------------------------------------


def test_every_foreign_key_points_at_a_row(district):
    for model in (Member, Employment, MembershipApplication, CadreAssignment, Unit, Workstation,
                  Need, NeedEvent, Support, Rating, Referral, ServiceProject, Indicator,
                  ProgressUpdate, Evidence, Review, Reward, ProjectEvent, ProjectNeed):  # fmt: skip
        for field in model._meta.concrete_fields:
            if not field.is_relation:
                continue
            targets = field.related_model._default_manager.values("pk")
            orphans = model.objects.exclude(**{f"{field.name}__isnull": True}).exclude(
                **{f"{field.name}__in": targets}
            )
            assert not orphans.exists(), f"{model.__name__}.{field.name}"


def test_the_report_builds_over_the_generated_district(district):
    reviewer = district.users["bench-reviewer"]
    today = local(district.now).date()
    params = ReportParams(
        scope=Jurisdiction.for_user(reviewer, role="reviewer"),
        start=today - dt.timedelta(days=365),
        end=today,
    )
    report = build_report(params, now=district.now)
    in_period = Need.objects.filter(
        created_at__gte=params.start_at, created_at__lt=params.end_before
    ).count()
    streets = report.balance[0].table
    assert sum(row["raised"] for row in streets.rows) == in_period
    assert report.ranking.rows


def test_a_need_and_a_project_made_afterwards_get_the_next_numbers(district):
    poster = Member.objects.get(user__username="bench-poster")
    top_need = Need.objects.aggregate(top=models.Max("pk"))["top"]
    need = need_services.need_submit(
        member=poster,
        kind=Need.Kind.HELP,
        area=ServiceArea.objects.get(code="benefits"),
        rights_type=Need.RightsType.OTHER,
        title="性能测试诉求：申请困难帮扶",
        description="生成数据之后通过服务提交的诉求。",
    )
    assert need.pk == top_need + 1
    assert need.number == f"XQ{timezone.localdate():%Y%m%d}{need.pk:06d}"
    assert need.workstation_id == poster.workstation_id

    top_project = ServiceProject.objects.aggregate(top=models.Max("pk"))["top"]
    cadre = district.users["bench-cadre"]
    project = project_services.project_create_from_needs(
        needs=[need],
        by=cadre,
        title="困难职工帮扶",
        summary="生成数据之后立项。",
        kind=ServiceProject.Kind.GOOD_DEED,
        area=need.area,
        beneficiary=ServiceProject.Beneficiary.WORKERS,
        street=poster.workstation.street,
        workstation=poster.workstation,
        planned_start=timezone.localdate(),
        planned_end=timezone.localdate() + dt.timedelta(days=30),
    )
    assert project.pk == top_project + 1
    assert project.number == f"XM{timezone.localdate():%Y}{project.pk:05d}"
    if connection.vendor == "postgresql":
        assert Member.objects.filter(pk=poster.pk).exists()
