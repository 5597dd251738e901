"""Who may open the reports, and over which part of the district.

Reviewers (考核人员) and district cadres see the whole district; street cadres see
their street. Workstation cadres, workers and visitors get no report page. The scope
is a ``Jurisdiction`` so every report query narrows through ``Jurisdiction.q_for``,
the one rule used everywhere else.
"""

from __future__ import annotations

from apps.workstations.jurisdiction import Jurisdiction


def report_scope(user) -> Jurisdiction:
    """The user's reviewer posts plus their district and street cadre posts."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Jurisdiction()
    if user.is_superuser:
        return Jurisdiction(everything=True)
    reviewer = Jurisdiction.for_user(user, role="reviewer")
    cadre = Jurisdiction.for_user(user, role="cadre")
    return Jurisdiction(
        district_ids=reviewer.district_ids | cadre.district_ids,
        street_ids=reviewer.street_ids | cadre.street_ids,
    )


def may_draw_follow_up(user) -> bool:
    """回访抽查 is the reviewers' independent check, not the checked cadres' own."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or not Jurisdiction.for_user(user, role="reviewer").is_empty
