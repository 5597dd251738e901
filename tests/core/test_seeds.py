"""The seed files and the commands that load them: load_reference and load_demo."""

import csv
import io
import shutil

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.http import HttpRequest

from apps.core.seeding import DEMO_PASSWORD
from apps.members.models import Employment, Member, MembershipApplication
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

SEEDS = django_settings.BASE_DIR / "seeds"
OWNERSHIP_NAMES = [
    "国有企业",
    "集体企业",
    "私营企业",
    "外商投资企业",
    "港澳台投资企业",
    "股份制/有限责任公司",
    "机关事业单位",
    "社会组织",
    "个体工商户",
]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def load(command, **options):
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def snapshot():
    """Every row of the organisation, member and auth tables (incl. m2m), in pk order."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in {"auth", "members", "workstations"}:
            tables[model._meta.label] = list(model._default_manager.order_by("pk").values_list())
    return tables


def test_reference_load_is_idempotent():
    load("load_reference")
    first = snapshot()
    assert list(OwnershipType.objects.values_list("name", flat=True)) == OWNERSHIP_NAMES
    assert all(code.isascii() for code in OwnershipType.objects.values_list("code", flat=True))
    assert Group.objects.get(name=CADRE_GROUP).permissions.exists()
    assert Group.objects.get(name=REVIEWER_GROUP).permissions.exists()

    load("load_reference")
    assert snapshot() == first


def test_demo_load_meets_the_minimums(debug):
    load("load_demo")

    streets = Street.objects.all()
    assert streets.count() >= 3
    assert streets.filter(kind=Street.Kind.ZONE).exists()
    assert District.objects.count() == 1

    workstations = Workstation.objects.all()
    assert workstations.count() >= 8
    for ws in workstations:
        assert ws.assignments.active().filter(role=CadreAssignment.Role.CADRE).exists(), ws
    for street in streets:
        assert CadreAssignment.objects.filter(street=street).exists(), street

    assert Unit.objects.count() >= 40
    assert set(Unit.objects.values_list("ownership__name", flat=True)) == set(OWNERSHIP_NAMES)
    assert not Unit.objects.filter(has_union=True, union_name="").exists()

    members = Member.objects.all()
    assert members.count() >= 300
    assert members.filter(status=Member.Status.MEMBER).count() >= 100
    assert members.filter(status=Member.Status.PENDING).count() >= 10
    assert members.filter(status=Member.Status.NON_MEMBER).exists()
    assert MembershipApplication.objects.filter(status="rejected").exclude(reason="").exists()
    assert members.filter(unit__isnull=True).exclude(unit_name="").exists()

    # Consistent with the models' rules.
    assert not members.exclude(unit=None).exclude(workstation=F("unit__workstation")).exists()
    assert not members.filter(status="member", member_number=None).exists()
    assert not members.filter(status="member", joined_on=None).exists()
    assert Employment.objects.filter(ended_on=None).count() == members.count()
    pending = MembershipApplication.objects.pending()
    assert pending.count() == members.filter(status=Member.Status.PENDING).count()


def test_demo_accounts_exist_and_log_in(debug, client):
    output = load("load_demo")
    for name in ("worker", "cadre", "reviewer", "admin"):
        assert name in output
        # django-axes checks every authentication against a request.
        assert client.login(request=HttpRequest(), username=name, password=DEMO_PASSWORD), name
        client.logout()

    user_model = get_user_model()
    worker = Member.objects.select_related("unit", "user").get(user__username="worker")
    assert worker.unit is not None
    assert worker.status == Member.Status.MEMBER

    cadre = user_model.objects.get(username="cadre")
    assert cadre.is_staff
    assert cadre.groups.filter(name=CADRE_GROUP).exists()
    assert cadre.assignments.filter(workstation=worker.workstation).exists()

    reviewer = user_model.objects.get(username="reviewer")
    assert reviewer.assignments.filter(role="reviewer", district__isnull=False).exists()
    assert user_model.objects.get(username="admin").is_superuser

    # Nobody else can log in: the seeded workers and cadres have unusable passwords.
    usable = [u.username for u in user_model.objects.all() if u.has_usable_password()]
    assert sorted(usable) == ["admin", "cadre", "reviewer", "worker"]


def test_second_load_changes_nothing(debug):
    load("load_demo")
    first = snapshot()
    output = load("load_demo")
    assert snapshot() == first
    assert "没有改动" in output


def test_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        load("load_demo")
    assert not get_user_model().objects.exists()
    assert not OwnershipType.objects.exists()
    assert not District.objects.exists()


def _edit(path, line, edit):
    """Rewrite one line (1-based) of a CSV file with ``edit(cells) -> cells``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = next(csv.reader([lines[line - 1]]))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(edit(cells))
    lines[line - 1] = buffer.getvalue()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _drop_column(path, name):
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    index = rows[0].index(name)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [cell for i, cell in enumerate(row) if i != index] for row in rows
    )
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _set(column, value, path):
    header = next(csv.reader([path.read_text(encoding="utf-8").splitlines()[0]]))
    index = header.index(column)
    return lambda cells: cells[:index] + [value] + cells[index + 1 :]


BROKEN = {
    "missing column": ("demo/workstations.csv", 1, lambda p: _drop_column(p, "hours")),
    "bad value": ("demo/units.csv", 5, lambda p: _edit(p, 5, _set("headcount", "很多", p))),
    "unknown reference": (
        "demo/units.csv",
        7,
        lambda p: _edit(p, 7, _set("workstation", "ZZ99", p)),
    ),
    "wrong number of fields": ("demo/streets.csv", 3, lambda p: _edit(p, 3, lambda c: [*c, "x"])),
    "bad choice": ("demo/workers.csv", 9, lambda p: _edit(p, 9, _set("membership", "maybe", p))),
    "no employer, after 200 workers were written": (
        "demo/workers.csv",
        202,
        lambda p: _edit(p, 202, _set("unit", "", p)),
    ),
    "bad reference slug": (
        "reference/ownership_types.csv",
        4,
        lambda p: _edit(p, 4, _set("code", "私 营", p)),
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_malformed_file_names_file_and_line_and_loads_nothing(debug, tmp_path, case):
    file, line, breaks = BROKEN[case]
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    breaks(seeds / file)

    with pytest.raises(CommandError) as raised:
        load("load_demo", seeds_dir=str(seeds))

    assert f"{file.split('/')[-1]}:{line}:" in str(raised.value)
    assert not OwnershipType.objects.exists()
    assert not District.objects.exists()
    assert not get_user_model().objects.exists()


def test_load_reference_reports_a_malformed_file(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS / "reference", seeds / "reference")
    _edit(seeds / "reference/ownership_types.csv", 3, lambda c: [*c, "extra"])

    with pytest.raises(CommandError, match=r"ownership_types\.csv:3: "):
        load("load_reference", seeds_dir=str(seeds))
    assert not OwnershipType.objects.exists()
