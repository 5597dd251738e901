"""The world the permission matrix runs in: one object of each kind in each place.

    district d ──┬── street sA ──┬── ws a1   worker A (alice), cadre_a1; project "draft" (proposed)
                 │               └── ws a2   worker B (bob), cadre_a2
                 └── street sB ───── ws b1   carol
    district dZ ──── street sZ ───── ws z1   zed, cadre_z (posted at dZ)

    street cadre: sA · district cadre and reviewer: d · superuser: root

At each of a1, a2, b1 and z1 there is a worker with a pending membership application
and a published need with a photo attached, a unit, and a public service project with
a progress photo and an evidence file (a1, a2 in progress; b1, z1 assessed and waiting
for the reviewers). Each district has a follow-up sample with one call and its ranking
weights. Every name a list could show carries a marker (``matrix.mark``), so a page can
be searched for what it must and must not show.

The world is built once per module inside a transaction rolled back at its end; every
test runs in a savepoint inside it, and every request of a test in one more.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from auditlog.context import disable_auditlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from apps.core.models import WorkdayOverride
from apps.members import services as member_services
from apps.needs import services as need_services
from apps.needs.models import Channel, Need, ReplyTemplate, ServiceArea, TimeLimit
from apps.projects.models import Evidence, ProgressPhoto, ProgressUpdate, ServiceProject
from apps.projects.workflow import Status as ProjectStatus
from apps.reports.models import FollowUpCall, FollowUpSample, RankingWeights
from apps.workstations.models import (
    CadreAssignment,
    District,
    OwnershipType,
    Street,
    Unit,
    Workstation,
)
from apps.workstations.roles import ensure_role_groups
from apps.workstations.services import CADRE_GROUP, cadre_grant_access

from . import matrix
from .matrix import mark

PLACES = ("a1", "a2", "b1", "z1")
PROJECT_STATUS = {
    "a1": ProjectStatus.IN_PROGRESS,
    "a2": ProjectStatus.IN_PROGRESS,
    "b1": ProjectStatus.ASSESSED,
    "z1": ProjectStatus.ASSESSED,
    "draft": ProjectStatus.PROPOSED,
}


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name: str = "signoff.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


def _staff(username, role=CadreAssignment.Role.CADRE, **node):
    user = get_user_model().objects.create_user(username=username, password=None, name=username)
    CadreAssignment.objects.create(user=user, role=role, title="干部", **node)
    cadre_grant_access(user)
    return user


def _organisation(w):
    state = OwnershipType.objects.get(code="state")
    w.districts = {
        "d": District.objects.create(
            code="339901", name="示范区", union_name=mark("district", "d")
        ),
        "dZ": District.objects.create(
            code="339902", name="远山区", union_name=mark("district", "dZ")
        ),
    }
    w.streets = {
        "sA": Street.objects.create(
            district=w.districts["d"], code="P-SA", name=mark("street", "sA"), order=1
        ),
        "sB": Street.objects.create(
            district=w.districts["d"],
            code="P-SB",
            name=mark("street", "sB"),
            kind=Street.Kind.ZONE,
            order=2,
        ),
        "sZ": Street.objects.create(
            district=w.districts["dZ"], code="P-SZ", name=mark("street", "sZ"), order=1
        ),
    }
    street_of = {"a1": "sA", "a2": "sA", "b1": "sB", "z1": "sZ"}
    w.workstations = {
        place: Workstation.objects.create(
            street=w.streets[street_of[place]],
            code=f"P-{place}",
            name=mark("ws", place),
            address="地址",
            hours="工作日 9:00–17:00",
        )
        for place in PLACES
    }
    w.units = {
        place: Unit.objects.create(
            workstation=w.workstations[place],
            name=mark("unit", place),
            ownership=state,
            industry="制造业",
        )
        for place in PLACES
    }


def _people(w):
    ensure_role_groups()
    usernames = {"a1": "alice", "a2": "bob", "b1": "carol", "z1": "zed"}
    w.members = {
        place: member_services.member_register(
            username=usernames[place],
            name=mark("member", place),
            mobile=f"1390000000{index}",
            password=None,
            unit=w.units[place],
        )
        for index, place in enumerate(PLACES)
    }
    w.applications = {
        place: member_services.membership_apply(member=member, statement="申请入会")
        for place, member in w.members.items()
    }
    w.cadre_z = _staff("cadre_z", district=w.districts["dZ"])
    w.users = {
        matrix.ANON: None,
        matrix.WORKER_A: w.members["a1"].user,
        matrix.WORKER_B: w.members["a2"].user,
        matrix.CADRE_A1: _staff("cadre_a1", workstation=w.workstations["a1"]),
        matrix.CADRE_A2: _staff("cadre_a2", workstation=w.workstations["a2"]),
        matrix.STREET: _staff("street_a", street=w.streets["sA"]),
        matrix.DISTRICT: _staff("district", district=w.districts["d"]),
        matrix.REVIEWER: _staff(
            "reviewer", role=CadreAssignment.Role.REVIEWER, district=w.districts["d"]
        ),
        matrix.ROOT: get_user_model().objects.create_superuser(
            username="root", password=None, name="系统管理员"
        ),
    }


def _needs(w):
    rights = ServiceArea.objects.get(code="rights")
    w.needs = {}
    for place in PLACES:
        need = need_services.need_submit(
            member=w.members[place],
            kind=Need.Kind.COMPLAINT,
            area=rights,
            rights_type=Need.RightsType.LABOUR_ECONOMIC,
            title=mark("need", place),
            description="车间职工的工资从八月起一直没有发放。",
            attachments=[png(f"{place}.png")],
        )
        # Published for "me too" support, under the public wording a cadre wrote.
        Need.objects.filter(pk=need.pk).update(is_public=True, public_title=mark("public", place))
        need.refresh_from_db()
        w.needs[place] = need
    w.attachments = {place: need.attachments.get() for place, need in w.needs.items()}


def _projects(w):
    rights = ServiceArea.objects.get(code="rights")
    today = timezone.localdate()
    leads = {
        "a1": w.users[matrix.CADRE_A1],
        "a2": w.users[matrix.CADRE_A2],
        "b1": w.users[matrix.DISTRICT],
        "z1": w.cadre_z,
        "draft": w.users[matrix.CADRE_A1],
    }
    w.projects, w.photos, w.evidence = {}, {}, {}
    for number, (key, status) in enumerate(PROJECT_STATUS.items(), start=1):
        workstation = w.workstations["a1" if key == "draft" else key]
        assessed = status == ProjectStatus.ASSESSED
        project = ServiceProject.objects.create(
            number=f"XMP{number:05d}",
            title=mark("project", key),
            summary="为辖区职工开设劳动法律讲座",
            kind=ServiceProject.Kind.PRACTICAL,
            area=rights,
            beneficiary=ServiceProject.Beneficiary.WORKERS,
            street=workstation.street,
            workstation=workstation,
            lead=leads[key],
            standard="每月一次讲座",
            budget=Decimal("10000"),
            spent=Decimal("8000") if assessed else Decimal("0"),
            planned_start=today - dt.timedelta(days=30),
            planned_end=today + dt.timedelta(days=60),
            actual_start=None if key == "draft" else today - dt.timedelta(days=20),
            actual_end=today - dt.timedelta(days=1) if assessed else None,
            status=status,
            assessment_score=Decimal("86.7") if assessed else None,
            result="讲座已办 12 场" if assessed else "",
            created_by=leads[key],
        )
        update = ProgressUpdate.objects.create(
            project=project, text="已开展第一场讲座", percent=40, created_by=leads[key]
        )
        w.photos[key] = ProgressPhoto.objects.create(update=update, image=png(f"{key}.png"))
        w.evidence[key] = Evidence.objects.create(
            project=project,
            kind=Evidence.Kind.SIGNOFF,
            file=pdf(f"{key}.pdf"),
            uploaded_by=leads[key],
        )
        w.projects[key] = project


def _follow_up(w):
    today = timezone.localdate()
    drawers = {"d": w.users[matrix.REVIEWER], "dZ": w.cadre_z}
    called = {"d": "a1", "dZ": "z1"}
    w.samples, w.calls, w.weights = {}, {}, {}
    for key, district in w.districts.items():
        sample = FollowUpSample.objects.create(
            district=district,
            period_start=today - dt.timedelta(days=30),
            period_end=today,
            per_street=5,
            drawn_by=drawers[key],
        )
        need = w.needs[called[key]]
        w.samples[key] = sample
        w.calls[key] = FollowUpCall.objects.create(
            sample=sample, need=need, street=need.workstation.street
        )
        w.weights[key] = RankingWeights.objects.create(district=district)


def _singletons(w):
    """One object of each model the admin shows unscoped, keyed by its label."""
    from auditlog.models import LogEntry
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    attempt = {
        "user_agent": "pytest",
        "ip_address": "10.0.0.9",
        "username": "someone",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    unit = w.units["a1"]
    w.single = {
        "auth.group": Group.objects.get(name=CADRE_GROUP),
        "axes.accessattempt": AccessAttempt.objects.create(
            **attempt, get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(**attempt),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**attempt, locked_out=False),
        "auditlog.logentry": LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(Unit),
            object_pk=str(unit.pk),
            object_id=unit.pk,
            object_repr=str(unit),
            action=LogEntry.Action.UPDATE,
            changes={"industry": ["纺织业", "制造业"]},
        ),
        "core.workdayoverride": WorkdayOverride.objects.create(
            date=dt.date(2099, 10, 8), is_workday=True, note="调休"
        ),
        "members.user": w.members["a1"].user,
        "workstations.ownershiptype": OwnershipType.objects.get(code="state"),
        "workstations.cadreassignment": CadreAssignment.objects.get(user=w.users[matrix.CADRE_A1]),
        "needs.replytemplate": ReplyTemplate.objects.create(
            title="受理答复", action="accept", body="您的诉求已受理。"
        ),
        "needs.timelimit": TimeLimit.objects.order_by("pk").first(),
        "needs.servicearea": ServiceArea.objects.get(code="rights"),
        "needs.channel": Channel.objects.get(code=Channel.ONLINE),
    }


def build_world() -> SimpleNamespace:
    from apps.core.seeding import run_reference

    run_reference()
    w = SimpleNamespace()
    _organisation(w)
    _people(w)
    _needs(w)
    _projects(w)
    _follow_up(w)
    _singletons(w)
    return w


def sessions(users) -> dict[str, str]:
    """A session for each role, logged in once for the module (force_login, not login:
    django-axes' lockouts have no say here)."""
    keys = {}
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            keys[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


@pytest.fixture(scope="module")
def _matrix_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once per module, rolled back at its end; uploads go to a temporary MEDIA_ROOT."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(MEDIA_ROOT=str(media)),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        with disable_auditlog():  # the audit trail is not what these tests are about
            world = build_world()
        world.sessions = sessions(world.users)
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def world(_matrix_world, db):
    return _matrix_world
