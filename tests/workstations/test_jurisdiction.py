from apps.members.models import Member
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import Street, Unit, Workstation


def names(qs):
    return sorted(str(obj) for obj in qs)


def test_workstation_cadre_sees_only_own_workstation(cadre, worker, other_worker, zone_worker):
    assert list(Member.objects.within_jurisdiction_of(cadre)) == [worker]
    assert names(Workstation.objects.within_jurisdiction_of(cadre)) == ["东湖第一网格工作站"]


def test_street_cadre_sees_every_workstation_of_the_street(
    street_cadre, worker, other_worker, zone_worker
):
    assert set(Member.objects.within_jurisdiction_of(street_cadre)) == {worker, other_worker}


def test_district_cadre_sees_everything_in_the_district(
    district_cadre, worker, other_worker, zone_worker
):
    members = Member.objects.within_jurisdiction_of(district_cadre)
    assert set(members) == {worker, other_worker, zone_worker}


def test_superuser_sees_everything(superuser, worker, zone_worker):
    assert Member.objects.within_jurisdiction_of(superuser).count() == 2


def test_worker_and_anonymous_have_no_jurisdiction(worker, zone_worker):
    from django.contrib.auth.models import AnonymousUser

    assert Jurisdiction.for_user(worker.user).is_empty
    assert not Member.objects.within_jurisdiction_of(worker.user).exists()
    assert not Unit.objects.within_jurisdiction_of(AnonymousUser()).exists()


def test_reviewer_has_no_cadre_jurisdiction(reviewer, worker):
    assert not Member.objects.within_jurisdiction_of(reviewer).exists()
    reviewer_scope = Jurisdiction.for_user(reviewer, role="reviewer")
    assert Member.objects.within(reviewer_scope).count() == 1


def test_workstation_cadre_sees_own_street_once(cadre, ws_a2, street_b):
    assert names(Street.objects.within_jurisdiction_of(cadre)) == ["东湖街道"]


def test_inactive_post_grants_nothing(cadre, worker):
    cadre.assignments.update(is_active=False)
    Jurisdiction.forget(cadre)
    assert not Member.objects.within_jurisdiction_of(cadre).exists()


def test_covers_workstation(street_cadre, ws_a1, ws_a2, ws_b1):
    scope = Jurisdiction.for_user(street_cadre)
    assert scope.covers_workstation(ws_a1)
    assert scope.covers_workstation(ws_a2)
    assert not scope.covers_workstation(ws_b1)
