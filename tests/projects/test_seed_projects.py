"""The demo district's service projects (seeds/demo/projects.csv and project_*.csv).

Every stage, kind, beneficiary and service area shows up, with indicators,
progress photos on disk, acceptances and rewards; the linked demo needs follow
their projects; the reports have their story (职工文化阵地 has no accepted
project, the development zone fewer projects than the streets); a second load
changes nothing and a bad line stops the load with its file and line.

The demo is loaded once for the module (about 8 s) inside a transaction that is
rolled back afterwards, with MEDIA_ROOT in a temporary directory.
"""

import csv
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count, F, Sum
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from apps.core.seeding import SeedError, run_demo
from apps.needs.models import Need, NeedEvent, ServiceArea
from apps.needs.workflow import Status as NeedStatus
from apps.notifications.models import Notification
from apps.projects.models import (
    Evidence,
    Indicator,
    ProgressPhoto,
    ProgressUpdate,
    ProjectEvent,
    ProjectNeed,
    Review,
    Reward,
    ServiceProject,
)
from apps.projects.workflow import Action, Status
from apps.workstations.models import CadreAssignment, Street

pytestmark = pytest.mark.django_db

SEEDS = django_settings.BASE_DIR / "seeds"
ASSESSED = [Status.ASSESSED, Status.ACCEPTED, Status.FAILED, Status.REWARDED]
ACCEPTED = [Status.ACCEPTED, Status.REWARDED]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, media):
    """The whole demo district, loaded once through the seed runner."""
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        ctx = run_demo()
        yield ctx
        transaction.set_rollback(True)


def test_every_stage_kind_beneficiary_and_area_is_present(demo):
    projects = ServiceProject.objects.all()
    assert 24 <= projects.count() <= 30
    assert set(projects.values_list("status", flat=True)) == set(Status.values)
    assert set(projects.values_list("kind", flat=True)) == set(ServiceProject.Kind.values)
    assert set(projects.values_list("beneficiary", flat=True)) == set(
        ServiceProject.Beneficiary.values
    )
    assert set(projects.values_list("area__code", flat=True)) == set(
        ServiceArea.objects.values_list("code", flat=True)
    )
    # Owned by workstations and by streets; every street has projects.
    assert projects.filter(workstation__isnull=True).exists()
    assert projects.order_by().values("street").distinct().count() == Street.objects.count()


def test_every_project_has_a_standard_indicators_and_needs(demo):
    for project in ServiceProject.objects.annotate(
        n_indicators=Count("indicators", distinct=True), n_needs=Count("links", distinct=True)
    ):
        assert project.standard.strip(), project
        assert 2 <= project.n_indicators <= 4, project
        assert project.n_needs >= 1, project
    # Measured exactly when assessed; the score follows the formula.
    for project in ServiceProject.objects.filter(status__in=ASSESSED):
        assert not project.indicators.filter(actual__isnull=True).exists(), project
        assert project.assessment_score == project.compute_assessment_score()
        assert project.actual_end is not None and project.result
        assert project.evidence.filter(kind=Evidence.Kind.BUDGET).exists()
    assert not Indicator.objects.exclude(project__status__in=ASSESSED).filter(actual__isnull=False)
    # Budgets in yuan, one project overspent with its reason.
    overspent = ServiceProject.objects.filter(spent__gt=F("budget"))
    assert overspent.count() == 1
    assert overspent.get().overspend_reason


def test_progress_updates_have_generated_photos_on_disk(demo, media):
    running = ServiceProject.objects.filter(status__in=[Status.IN_PROGRESS, *ASSESSED]).annotate(
        n=Count("updates")
    )
    assert running.exists()
    for project in running:
        assert 1 <= project.n <= 3, project
    assert not ProgressUpdate.objects.filter(
        project__status__in=[Status.PROPOSED, Status.APPROVED, Status.CANCELLED]
    ).exists()
    photos = ProgressPhoto.objects.all()
    assert photos.count() >= 20
    for item in photos:
        path = Path(item.image.path)
        assert path.is_file() and media in path.parents
        with Image.open(path) as image:
            assert image.size == (320, 200)
    for update in ProgressUpdate.objects.order_by("project", "created_at"):
        later = update.project.updates.filter(created_at__gt=update.created_at)
        assert not later.filter(percent__lt=update.percent).exists()


def test_accepted_projects_are_reviewed_and_resolve_their_needs(demo):
    for project in ServiceProject.objects.filter(status__in=ACCEPTED):
        reviews = list(project.reviews.all())
        assert len(reviews) == project.panel_size
        assert all(r.verdict == Review.Verdict.PASS for r in reviews)
        mean = sum(r.score for r in reviews) / len(reviews)
        assert project.acceptance_score == mean.quantize(Decimal("0.1"))
        accepted_at = project.events.get(action=Action.ACCEPT).created_at
        for need in Need.objects.filter(project_link__project=project):
            assert need.status in (NeedStatus.RESOLVED, NeedStatus.CLOSED), need
            assert project.title in need.resolution
            assert need.resolved_at == accepted_at
    # A panel of two reviewers, combined.
    assert ServiceProject.objects.filter(panel_size=2, status__in=ACCEPTED).exists()
    # Failed: a reason, and the needs are back with the cadres, with a new limit.
    failed = ServiceProject.objects.filter(status=Status.FAILED)
    assert failed.exists()
    for project in failed:
        assert project.reviews.filter(verdict=Review.Verdict.FAIL).exclude(comments="").exists()
        for need in Need.objects.filter(project_link__project=project):
            assert need.status == NeedStatus.IN_PROGRESS and need.resolve_due is not None
    # Only reviewers of the district accept, never a project's own lead.
    reviewers = CadreAssignment.objects.filter(role=CadreAssignment.Role.REVIEWER)
    assert set(Review.objects.values_list("reviewer", flat=True)) <= set(
        reviewers.values_list("user", flat=True)
    )
    assert not Review.objects.filter(reviewer=F("project__lead")).exists()


def test_rewards_are_decided_by_the_district_after_acceptance(demo):
    rewards = Reward.objects.select_related("project")
    assert set(rewards.values_list("kind", flat=True)) == set(Reward.Kind.values)
    assert rewards.filter(workstation__isnull=False).exists()
    assert rewards.filter(cadre__isnull=False).exists()
    district_cadres = CadreAssignment.objects.filter(
        role=CadreAssignment.Role.CADRE, district__isnull=False
    ).values_list("user", flat=True)
    for reward in rewards:
        assert reward.project.status == Status.REWARDED
        assert reward.awarded_by_id in set(district_cadres)
        assert reward.awarded_at > reward.project.events.get(action=Action.ACCEPT).created_at
    assert not ServiceProject.objects.filter(status=Status.REWARDED, rewards__isnull=True)


def test_the_reports_have_a_story(demo):
    projects = ServiceProject.objects.all()
    # 职工文化阵地: demand, but no accepted project and the least spending.
    culture = projects.filter(area__code="culture")
    assert culture.exists()
    assert not culture.filter(status__in=ACCEPTED).exists()
    spending = dict(
        projects.values_list("area__code").annotate(total=Sum("spent")).order_by("area__code")
    )
    assert min(spending, key=spending.get) == "culture"
    # The development zone runs fewer projects than the average street, none accepted.
    counts = list(
        Street.objects.annotate(n=Count("projects")).values_list("kind", "n").order_by("order")
    )
    average = sum(n for _, n in counts) / len(counts)
    zone = [n for kind, n in counts if kind == Street.Kind.ZONE]
    assert zone and all(n < average for n in zone), counts
    assert not projects.filter(street__kind=Street.Kind.ZONE, status__in=ACCEPTED).exists()


def test_the_history_spreads_over_months_in_order(demo):
    now = timezone.now()
    projects = ServiceProject.objects.order_by("created_at")
    assert projects.first().created_at < now - dt.timedelta(days=120)
    for model, column in (
        (ServiceProject, "created_at"),
        (ServiceProject, "updated_at"),
        (ProjectEvent, "created_at"),
        (ProjectNeed, "linked_at"),
        (ProgressUpdate, "created_at"),
        (Evidence, "uploaded_at"),
        (Review, "created_at"),
        (Reward, "awarded_at"),
        (NeedEvent, "created_at"),
        (Notification, "created_at"),
    ):
        assert not model.objects.filter(**{f"{column}__gt": now}).exists(), (model, column)
    # Numbers follow the order the projects were proposed.
    numbers = list(projects.values_list("number", flat=True))
    assert numbers == sorted(numbers)
    for project in projects.prefetch_related("events"):
        events = list(project.events.all())
        assert events[0].action == Action.PROPOSE
        assert events[0].created_at == project.created_at
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status == before.to_status, (project.title, after.action)
        assert events[-1].to_status == project.status
        if project.actual_start:
            start = project.events.get(action=Action.START).created_at
            assert timezone.localtime(start).date() == project.actual_start
    # Linked needs: joined on the project's day, their timelines still in order.
    for link in ProjectNeed.objects.select_related("project", "need"):
        assert link.linked_at == link.project.created_at
        events = list(link.need.events.all())
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status == before.to_status, (link.need.number, after.action)
        assert events[-1].to_status == link.need.status
    # Old messages have been read.
    about = Notification.objects.filter(url__contains="/projects/")
    assert about.exists()
    assert not about.unread().filter(created_at__lt=now - dt.timedelta(days=4)).exists()


def test_the_demo_worker_follows_a_project(demo):
    mine = Need.objects.filter(submitter__user__username="worker", project_link__isnull=False)
    assert mine.exists()
    project = mine.first().project_link.project
    assert project.status in (Status.IN_PROGRESS, *ASSESSED)
    assert Notification.objects.filter(
        user__username="worker", url__contains=f"/projects/{project.pk}/"
    ).exists()
    # The demo cadre leads a project, and reviewer has projects waiting for them.
    assert ServiceProject.objects.filter(lead__username="cadre").exists()
    assert ServiceProject.objects.filter(status=Status.ASSESSED).exists()


COUNTED = (
    ServiceProject,
    ProjectEvent,
    ProjectNeed,
    Indicator,
    ProgressUpdate,
    ProgressPhoto,
    Evidence,
    Review,
    Reward,
    Notification,
    Need,
    NeedEvent,
)


def counts():
    return {model: model.objects.count() for model in COUNTED}


def test_a_second_load_changes_nothing(demo, media):
    before = counts()
    files = sorted(media.rglob("*"))
    projects_before = list(ServiceProject.objects.order_by("pk").values_list())
    with override_settings(DEBUG=True, MEDIA_ROOT=media):
        ctx = run_demo()
    assert counts() == before
    assert sorted(media.rglob("*")) == files
    assert list(ServiceProject.objects.order_by("pk").values_list()) == projects_before
    assert ctx.tally["服务项目"] == {
        "created": 0,
        "updated": 0,
        "unchanged": before[ServiceProject],
    }
    assert not ctx.changed


def csv_line(file: str, **values) -> str:
    """One line of a seed file: the header's columns, empty unless given."""
    header = (SEEDS / "demo" / file).read_text(encoding="utf-8").split("\n", 1)[0]
    row = dict.fromkeys(header.split(","), "")
    row.update(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row.values())
    return out.getvalue()


def project_line(**values) -> str:
    """A plain proposed project of the development zone, changed by ``values``."""
    fields = {
        "title": "科创港新建企业工会指导",
        "kind": "实事",
        "area": "grassroots",
        "beneficiary": "服务基层",
        "workstation": "KF02",
        "lead": "song.jiahui",
        "state": "proposed",
        "proposed_on": "today",
        "planned_start": "today+10",
        "planned_end": "today+40",
        "budget": "2000",
        "needs": "15507181510 工会主席由行政领导兼任",
        "summary": "简介。",
        "standard": "标准。",
    }
    fields.update(values)
    return csv_line("projects.csv", **fields)


def indicator_line(**values) -> str:
    fields = {"project": "科创港新建企业工会指导", "name": "指导企业", "target": "3"}
    fields.update(unit="家", weight="1", **values)
    return csv_line("project_indicators.csv", **fields)


def copy_seeds(tmp_path, **extra_lines) -> tuple[Path, dict[str, int]]:
    """The seeds folder with lines appended; returns it and each file's new line number."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    numbers = {}
    for file, lines in extra_lines.items():
        path = seeds / "demo" / file
        text = path.read_text(encoding="utf-8").rstrip("\n")
        numbers[file] = text.count("\n") + 2  # physical lines: cells may span lines
        path.write_text("\n".join([text, *lines]) + "\n", encoding="utf-8")
    return seeds, numbers


def test_a_project_added_later_is_loaded_and_accepts_its_waiting_need(
    demo, settings, tmp_path, media
):
    settings.DEBUG, settings.MEDIA_ROOT = True, media
    need = Need.objects.get(submitter__mobile="15507181510", title="工会主席由行政领导兼任")
    assert need.status == NeedStatus.SUBMITTED
    seeds, _ = copy_seeds(
        tmp_path,
        **{"projects.csv": [project_line()], "project_indicators.csv": [indicator_line()]},
    )

    ctx = run_demo(seeds)

    assert ctx.tally["服务项目"]["created"] == 1
    project = ServiceProject.objects.get(title="科创港新建企业工会指导")
    need.refresh_from_db()
    assert need.status == NeedStatus.IN_PROGRESS
    assert need.accepted_at == project.created_at
    assert need.accepted_late == (need.accepted_at > need.accept_due)
    events = list(need.events.all())
    for before, after in zip(events, events[1:], strict=False):
        assert after.from_status == before.to_status


BROKEN = [
    ({"projects.csv": [project_line(state="lost")]}, "state：“lost”不是有效的取值"),
    ({"projects.csv": [project_line(proposed_on="today+3")]}, "不能晚于今天"),
    (
        {"projects.csv": [project_line(workstation="")]},
        "street、workstation 两列必须且只能填写一列",
    ),
    ({"projects.csv": [project_line(budget="-5")]}, "budget：“-5”应为不小于 0 的数字"),
    ({"projects.csv": [project_line(needs="15507181510")]}, "应写成“提出人手机号码 诉求标题”"),
    ({"projects.csv": [project_line()]}, "没有考核指标"),
    (
        {"projects.csv": [project_line(state="accepted")]},
        "state 为 accepted 时，approved_on 必须填写",
    ),
    ({"projects.csv": [project_line(title="工业园低压电工取证培训")]}, "项目名称与第"),
    (
        {
            "projects.csv": [project_line(area="rights")],
            "project_indicators.csv": [indicator_line()],
        },
        "服务领域是“基层基础建设”，与项目不同",
    ),
    (
        {
            "project_updates.csv": [
                csv_line(
                    "project_updates.csv",
                    project="工业园低压电工取证培训",
                    on="today-81",
                    percent="120",
                    photos="1",
                    text="进展。",
                )
            ]
        },
        "percent 应为 0–100",
    ),
]


@pytest.mark.parametrize(("lines", "message"), BROKEN)
def test_a_bad_line_stops_the_load_with_its_file_and_line(
    demo, settings, tmp_path, media, lines, message
):
    settings.DEBUG, settings.MEDIA_ROOT = True, media
    seeds, numbers = copy_seeds(tmp_path, **lines)
    # The line that is wrong: the project's own line unless only another file changed.
    file = "projects.csv" if "projects.csv" in lines else next(iter(lines))
    before = counts()

    with pytest.raises(SeedError) as error:
        run_demo(seeds)

    assert f"{file}:{numbers[file]}:" in str(error.value)
    assert message in str(error.value)
    assert counts() == before
