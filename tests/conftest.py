"""Shared people and places: a small district with two streets and three workstations.

    district 330199 ─┬─ street A (街道) ─┬─ ws_a1  ← cadre_a1 (the "own" workstation)
                     │                   └─ ws_a2  ← cadre_a2 (the "other" workstation)
                     └─ street B (开发区) ── ws_b1
    street_cadre: street A · district_cadre: the district · reviewer: the district

worker (alice) works at unit_a1 (ws_a1); other_worker (bob) at unit_a2 (ws_a2);
carol at unit_b1 (ws_b1).
"""

import pytest

from apps.members import services as member_services
from apps.workstations.models import (
    CadreAssignment,
    District,
    OwnershipType,
    Street,
    Unit,
    Workstation,
)
from apps.workstations.roles import ensure_role_groups
from apps.workstations.services import cadre_grant_access

PASSWORD = "Sturdy-pass-2026"


@pytest.fixture
def ownerships(db):
    return {
        code: OwnershipType.objects.get_or_create(code=code, defaults={"name": name, "order": i})[0]
        for i, (code, name) in enumerate(
            [("state", "国有企业"), ("private", "私营企业"), ("foreign", "外商投资企业")]
        )
    }


@pytest.fixture
def district(db):
    return District.objects.create(code="330199", name="示范区", union_name="示范区总工会")


@pytest.fixture
def street_a(district):
    return Street.objects.create(district=district, code="S-A", name="东湖街道", order=1)


@pytest.fixture
def street_b(district):
    return Street.objects.create(
        district=district, code="S-B", name="高新开发区", kind=Street.Kind.ZONE, order=2
    )


def _workstation(street, code, name):
    return Workstation.objects.create(
        street=street, code=code, name=name, address=f"{name}地址", hours="工作日 9:00–17:00"
    )


@pytest.fixture
def ws_a1(street_a):
    return _workstation(street_a, "W-A1", "东湖第一网格工作站")


@pytest.fixture
def ws_a2(street_a):
    return _workstation(street_a, "W-A2", "东湖第二网格工作站")


@pytest.fixture
def ws_b1(street_b):
    return _workstation(street_b, "W-B1", "高新园区网格工作站")


def _unit(ws, name, ownership):
    return Unit.objects.create(workstation=ws, name=name, ownership=ownership, industry="制造业")


@pytest.fixture
def unit_a1(ws_a1, ownerships):
    return _unit(ws_a1, "东湖机械有限公司", ownerships["state"])


@pytest.fixture
def unit_a2(ws_a2, ownerships):
    return _unit(ws_a2, "东湖纺织有限公司", ownerships["private"])


@pytest.fixture
def unit_b1(ws_b1, ownerships):
    return _unit(ws_b1, "高新电子科技有限公司", ownerships["foreign"])


def _worker(username, name, mobile, unit):
    return member_services.member_register(
        username=username, name=name, mobile=mobile, password=PASSWORD, unit=unit
    )


@pytest.fixture
def worker(unit_a1):
    """Alice: the owner of the records under test."""
    return _worker("alice", "张丽", "13800000001", unit_a1)


@pytest.fixture
def other_worker(unit_a2):
    """Bob: another worker, at another workstation."""
    return _worker("bob", "王强", "13800000002", unit_a2)


@pytest.fixture
def zone_worker(unit_b1):
    return _worker("carol", "陈静", "13800000003", unit_b1)


@pytest.fixture
def make_staff(db, django_user_model):
    ensure_role_groups()

    def make(username, name, role=CadreAssignment.Role.CADRE, **node):
        user = django_user_model.objects.create_user(
            username=username, password=PASSWORD, name=name
        )
        CadreAssignment.objects.create(user=user, role=role, title="干部", **node)
        cadre_grant_access(user)
        return user

    return make


@pytest.fixture
def cadre(make_staff, ws_a1):
    """A cadre of the worker's own workstation."""
    return make_staff("cadre_a1", "李站长", workstation=ws_a1)


@pytest.fixture
def other_cadre(make_staff, ws_a2):
    """A cadre of another workstation in the same street."""
    return make_staff("cadre_a2", "赵网格员", workstation=ws_a2)


@pytest.fixture
def street_cadre(make_staff, street_a):
    return make_staff("street_a", "孙主席", street=street_a)


@pytest.fixture
def district_cadre(make_staff, district):
    return make_staff("district", "周主席", district=district)


@pytest.fixture
def reviewer(make_staff, district):
    return make_staff("reviewer", "吴考核", role=CadreAssignment.Role.REVIEWER, district=district)


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(
        username="root", password=PASSWORD, name="系统管理员"
    )


@pytest.fixture
def reference(db):
    """Reference data from seeds/reference (service areas, channels, time limits, …)."""
    from apps.core.seeding import run_reference

    run_reference()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, so rate limits counted there never carry over."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
