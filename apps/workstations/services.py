"""Writes that span models in the organisation."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from .jurisdiction import Jurisdiction
from .models import CadreAssignment

# Group names double as the role names users see in the admin.
CADRE_GROUP = "工会干部"
REVIEWER_GROUP = "考核人员"


@transaction.atomic
def cadre_grant_access(user) -> None:
    """Give a user the staff flag and groups that match their active posts."""
    roles = set(CadreAssignment.objects.active().filter(user=user).values_list("role", flat=True))
    groups = {
        CADRE_GROUP: CadreAssignment.Role.CADRE in roles,
        REVIEWER_GROUP: CadreAssignment.Role.REVIEWER in roles,
    }
    for name, wanted in groups.items():
        group, _ = Group.objects.get_or_create(name=name)
        if wanted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    if CadreAssignment.Role.CADRE in roles and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    Jurisdiction.forget(user)


@transaction.atomic
def unit_sync_members(*, unit) -> int:
    """After a unit moves to another workstation, its workers move with it.

    Returns how many workers moved. Their current employment follows too;
    past employments keep the workstation they had.
    """
    from apps.members.models import Employment, Member

    moved = (
        Member.objects.filter(unit=unit)
        .exclude(workstation=unit.workstation_id)
        .update(workstation=unit.workstation_id, updated_at=timezone.now())
    )
    Employment.objects.filter(unit=unit, ended_on__isnull=True).update(
        workstation=unit.workstation_id
    )
    return moved
