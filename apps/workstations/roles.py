"""What each role may do in the admin; jurisdiction then limits the rows."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .services import CADRE_GROUP, REVIEWER_GROUP

# app_label.codename — kept in one list per role so a new model gets a decision.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    CADRE_GROUP: [
        "workstations.view_district",
        "workstations.view_street",
        "workstations.view_workstation",
        "workstations.change_workstation",
        "workstations.view_unit",
        "workstations.add_unit",
        "workstations.change_unit",
        "workstations.view_ownershiptype",
        "members.view_member",
        "members.add_member",
        "members.change_member",
        "members.view_membershipapplication",
        "members.change_membershipapplication",
        "needs.view_need",
        "needs.add_need",
        "needs.change_need",
        "needs.view_needevent",
        "needs.view_referral",
        "needs.change_referral",
        "needs.view_replytemplate",
        "needs.view_timelimit",
        "needs.view_servicearea",
        "needs.view_channel",
        "core.view_workdayoverride",
        "projects.view_serviceproject",
        "projects.add_serviceproject",
        "projects.change_serviceproject",
        "projects.view_indicator",
        "projects.add_indicator",
        "projects.change_indicator",
        "projects.delete_indicator",
        "projects.view_progressupdate",
        "projects.add_progressupdate",
        "projects.view_evidence",
        "projects.add_evidence",
        "projects.view_review",
        "projects.view_reward",
        "projects.add_reward",
        "projects.view_projectevent",
        # District cadres only: the admin hides the weights from street and workstation posts.
        "reports.view_rankingweights",
        "reports.add_rankingweights",
        "reports.change_rankingweights",
    ],
    REVIEWER_GROUP: [
        "workstations.view_district",
        "workstations.view_street",
        "workstations.view_workstation",
        # 回访抽查 audit in the admin (drawing and calling happen on the report pages).
        "reports.view_followupsample",
        "reports.view_followupcall",
    ],
}


@transaction.atomic
def ensure_role_groups() -> None:
    """Create the role groups and set exactly their permissions (idempotent)."""
    for group_name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
