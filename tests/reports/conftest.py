"""``report_world``: a small district whose report figures are worked out by hand.

Every figure asserted in tests/reports/test_metrics.py is computed from the tables
below, on paper; the period is 2025-03-01 … 2025-04-30 (``world.params()``).

    district 示范区 (330199)
    ├─ 东湖街道 (street A, 街道) ─┬─ ws_a1 东湖第一网格工作站  unit_a1 国有企业
    │                             ├─ ws_a2 东湖第二网格工作站  unit_a2 私营企业
    │                             └─ ws_a3 东湖第三网格工作站  unit_a3 私营企业 (3 needs: small)
    └─ 高新开发区 (street B, 开发区) ─┬─ ws_b1 高新园区网格工作站  unit_b1 外商投资企业
                                      │                         + one worker with no unit
                                      └─ ws_b2 高新科技城网格工作站 unit_b2 国有企业,
                                                                  unit_b3 集体企业
    another district 其他区 (330299): one street, one workstation, one need, one project —
    never inside the reports' scope.

Members (status ``member``): street A 5 (a1, a1x 国有; a2, a2x, a3 私营), street B 5
(b1, b1x 外资; b2, b2x 国有; b3 集体, at ws_b2) → 国有 4, 私营 3, 外资 2, 集体 1 (a group
with members and no needs); 10 in all. Not members: a1p (pending), a2n (non-member),
u (no unit, non-member). The other district's worker z is a member there.

Needs are raised and moved through apps/needs/services.py, then their times are set to
the exact values below (timeline events and ratings included). Days are counted from
``created`` (09:00 local unless noted). Every need has accept_due = created + 3 days
and, once accepted, resolve_due = accepted + 10 days (reopened: reopen + 10 days;
"future": 2099-01-01), so the late flags follow from the times.

 key  ws   who area      rights chan    created      status      acc  res  ratings (outcome score @day)
 N1   a1   a1  rights    L      online  03-03        closed      1    5    yes5@6
 N2   a1   a1  rights    L      online  03-05        closed      2    10   partly3@11
 N3   a1   a1  benefits  D      visit   03-10        closed      1    12   no2@5 (reopened: resolved @4), yes4@13
 N4   a1   a1  rights    L      online  03-12        resolved    4!   9
 N5   a1   a1  skills    L      online  04-02        in_progress 0.5  —    overdue (due 04-12 21:00), 督办1
 N6   a1   a1  rights    L      online  04-08        submitted   —    —    overdue, 督办2
 N7   a1   a1  benefits  L      online  04-15        withdrawn
 N8   a1   a1  rights    L      hotline 03-01 00:00  rejected                   confidential
 M1   a2   a2  rights    L      online  03-04        closed      1    6    yes5@7
 M2   a2   a2  benefits  L      visit   03-06        closed      1    3    yes4@4
 M3   a2   a2  skills    D      online  03-18        closed      2    8    (auto-closed @16, no rating)
 M4   a2   a2  rights    L      online  03-20        in_progress 1    —    no1@6 (reopened: resolved @5), due future
 M5   a2   a2  rights    L      online  04-01        accepted    3.5! —    due future
 M6   a2   a2  rights    L      online  04-10        merged → M5
 M7   a2   a2  culture   D      hotline 04-12        resolved    1    2
 M8   a2   a2  culture   L      online  04-30 23:59  submitted               overdue
 L1   a3   a3  culture   L      online  03-07        closed      1    3    yes5@4
 L2   a3   a3  benefits  D      online  03-25        rejected
 L3   a3   a3  skills    L      online  04-20        accepted    2    —    due future
 B1   b1   b1  rights    L      online  03-03        closed      0.5  4    yes5@5
 B2   b1   b1  rights    L      online  03-05        closed      3    14!  partly3@15
 B3   b1   b1  benefits  D      visit   03-11        closed      1    7    yes4@8
 B4   b1   b1  skills    L      online  03-17        resolved    5!   15   督办1 (while waiting to be accepted)
 B5   b1   u   rights    L      online  03-24        in_progress 2    —    overdue (due 04-05), 督办2 (未登记单位)
 B6   b1   b1  rights    D      online  04-07        withdrawn
 B7   b1   b1  skills    L      online  04-14        submitted               overdue, confidential
 B11  b1   b1  rights    L      online  03-19        closed      2    5    yes5@6
 B12  b1   u   benefits  L      visit   04-16        in_progress 1    —    due future    (未登记单位)
 C1   b2   b2  rights    L      online  03-06        closed      1    4    yes5@5
 C2   b2   b2  skills    L      hotline 03-13        closed      2    7    partly4@8
 C3   b2   b2  benefits  D      online  03-21        closed      1    9    (auto-closed @17, no rating)
 C4   b2   b2  rights    D      online  03-27        in_progress 1    —    partly2@4 (reopened: resolved @3), due future
 C5   b2   b2  skills    L      online  04-03        accepted    4!   —    due future
 C6   b2   b2  skills    L      online  04-05        merged → C5
 C7   b2   b2  rights    L      online  04-11        resolved    1    5
 C8   b2   b2  rights    L      visit   04-22        submitted               overdue
 outside the period (ws_a1, a1):
 X1   a1   a1  rights    L      online  02-28 23:30  closed      1    2    yes5@2.5 (rated 03-03, in the period)
 X2   a1   a1  rights    L      online  05-01 00:00  submitted               overdue, 督办1
 (! = late; L = 劳动经济权益, D = 民主政治权益; visit/hotline are offline channels)

Projects (created directly; span = [planned_start, actual_end or planned_end]):

 key  owner  area        status       budget spent  assess accept planned            actual
 P1   ws_a1  rights      accepted     10000  8000   86.7   95     03-01..05-31       03-05..04-20
 P2   ws_b1  benefits    rewarded     20000  15000  92.0   88     02-01..04-15       02-01..04-10
 P3   ws_a2  skills      failed       5000   5000   50.0   40     03-10..04-10       03-10..04-12
 P4   ws_a2  culture     in_progress  8000   3000   —      —      04-01..06-30       04-01..
 P5   ws_b1  rights      approved     6000   0      —      —      04-15..07-15
 P6   街道A  rights      proposed     3000   0      —      —      04-20..05-20
 P7   ws_a1  benefits    cancelled    0      0      —      —      03-15..04-15
 P8   ws_a1  culture     rewarded     9000   9000   90.0   95     2024-09-01..12-31  2024-09-01..12-20  (outside)
 P9   ws_b1  skills      assessed     7000   6500   80.0   —      03-01..04-30       03-01..04-28
 P10  ws_a1  rights      accepted     5000   5000   75.0   85     01-01..03-15       01-02..03-01 (ends on day 1)
 P11  ws_b1  benefits    accepted     4000   4000   95.0   99     01-01..03-31       01-01..02-20 (outside)
 P12  ws_b2  grassroots  failed       6000   5500   55.0   40     03-05..04-25       03-05..04-18
 P13  ws_b2  rights      approved     3000   0      —      —      05-01..06-30                      (outside)

Rewards: R1 P2 5000.00 on 04-25 · R2 P2 0.00 on 05-05 (after the period) · R3 P8 2000.00
on 03-10 (in the period, for a project whose span lies before it).

Follow-up: sample S1 (2025-03-01…04-30, drawn 05-06), calls on 05-07:
  street A — N1 reached yes5 · M2 reached no2 · L1 not reached · M3 not called yet;
  street B — B1 reached yes4 · B3 reached partly3 · C1 reached no4 · C3 not reached ·
             B2 reached yes5 · B11 reached partly2 · C2 reached yes3.
Sample S0 (February, street A): X1 reached yes5, called 03-05 — its need was raised
before the period, so it never counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from auditlog.context import disable_auditlog
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.members import services as member_services
from apps.members.models import Member
from apps.needs import services as need_services
from apps.needs.models import Channel, Need, NeedEvent, Rating, ServiceArea
from apps.projects.models import Review, Reward, ServiceProject
from apps.projects.workflow import Status as P
from apps.reports.filters import Period, ReportParams
from apps.reports.models import FollowUpCall, FollowUpSample
from apps.reports.scope import report_scope
from apps.workstations.models import (
    CadreAssignment,
    District,
    OwnershipType,
    Street,
    Unit,
    Workstation,
)
from apps.workstations.services import cadre_grant_access

PASSWORD = "Sturdy-pass-2026"
START, END = dt.date(2025, 3, 1), dt.date(2025, 4, 30)
LABOUR, DEMOCRATIC = Need.RightsType.LABOUR_ECONOMIC, Need.RightsType.DEMOCRATIC_POLITICAL
L, D = LABOUR, DEMOCRATIC
S = Need.Status
YES, PARTLY, NO = Rating.Outcome.YES, Rating.Outcome.PARTLY, Rating.Outcome.NO


def local(*args) -> dt.datetime:
    """An aware datetime in the site's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime(*args))


def _future() -> dt.datetime:
    return local(2099, 1, 1, 9, 0)


def day(month: int, d: int, hour: int = 9, minute: int = 0, year: int = 2025) -> dt.datetime:
    return local(year, month, d, hour, minute)


@dataclass(frozen=True)
class Plan:
    key: str
    ws: str
    who: str
    area: str
    rights: str
    channel: str
    created: dt.datetime
    status: str
    accept: float | None = None  # days from created to accepted_at
    resolve: float | None = None  # days from created to (the last) resolved_at
    ratings: tuple = ()  # ((outcome, score, day), ...) in order
    reopened_at: float | None = None  # a first resolution, rated unsatisfied and reopened
    future_due: bool = False  # resolve_due far in the future (not overdue while open)
    escalations: tuple = ()  # ((level, day), ...)
    confidential: bool = False
    auto_close: float | None = None  # day of the automatic close (no rating)
    into: str | None = None  # merged into


# fmt: off
NEEDS = [
    # ws_a1 — 东湖第一网格工作站 (国有)
    Plan("N1", "a1", "a1", "rights", L, "online", day(3, 3), S.CLOSED, 1, 5, ((YES, 5, 6),)),
    Plan("N2", "a1", "a1", "rights", L, "online", day(3, 5), S.CLOSED, 2, 10, ((PARTLY, 3, 11),)),
    Plan("N3", "a1", "a1", "benefits", D, "visit", day(3, 10), S.CLOSED, 1, 12,
         ((NO, 2, 5), (YES, 4, 13)), reopened_at=4),
    Plan("N4", "a1", "a1", "rights", L, "online", day(3, 12), S.RESOLVED, 4, 9),
    Plan("N5", "a1", "a1", "skills", L, "online", day(4, 2), S.IN_PROGRESS, 0.5,
         escalations=((1, 11),)),
    Plan("N6", "a1", "a1", "rights", L, "online", day(4, 8), S.SUBMITTED,
         escalations=((1, 3.5), (2, 6))),
    Plan("N7", "a1", "a1", "benefits", L, "online", day(4, 15), S.WITHDRAWN),
    Plan("N8", "a1", "a1", "rights", L, "hotline", day(3, 1, 0), S.REJECTED, confidential=True),
    # ws_a2 — 东湖第二网格工作站 (私营)
    Plan("M1", "a2", "a2", "rights", L, "online", day(3, 4), S.CLOSED, 1, 6, ((YES, 5, 7),)),
    Plan("M2", "a2", "a2", "benefits", L, "visit", day(3, 6), S.CLOSED, 1, 3, ((YES, 4, 4),)),
    Plan("M3", "a2", "a2", "skills", D, "online", day(3, 18), S.CLOSED, 2, 8, auto_close=16),
    Plan("M4", "a2", "a2", "rights", L, "online", day(3, 20), S.IN_PROGRESS, 1,
         ratings=((NO, 1, 6),), reopened_at=5, future_due=True),
    Plan("M5", "a2", "a2", "rights", L, "online", day(4, 1), S.ACCEPTED, 3.5, future_due=True),
    Plan("M6", "a2", "a2", "rights", L, "online", day(4, 10), S.MERGED, into="M5"),
    Plan("M7", "a2", "a2", "culture", D, "hotline", day(4, 12), S.RESOLVED, 1, 2),
    Plan("M8", "a2", "a2", "culture", L, "online", day(4, 30, 23, 59), S.SUBMITTED),
    # ws_a3 — 东湖第三网格工作站 (私营): only 3 needs
    Plan("L1", "a3", "a3", "culture", L, "online", day(3, 7), S.CLOSED, 1, 3, ((YES, 5, 4),)),
    Plan("L2", "a3", "a3", "benefits", D, "online", day(3, 25), S.REJECTED),
    Plan("L3", "a3", "a3", "skills", L, "online", day(4, 20), S.ACCEPTED, 2, future_due=True),
    # ws_b1 — 高新园区网格工作站 (外资; B5/B12 by a worker with no unit)
    Plan("B1", "b1", "b1", "rights", L, "online", day(3, 3), S.CLOSED, 0.5, 4, ((YES, 5, 5),)),
    Plan("B2", "b1", "b1", "rights", L, "online", day(3, 5), S.CLOSED, 3, 14, ((PARTLY, 3, 15),)),
    Plan("B3", "b1", "b1", "benefits", D, "visit", day(3, 11), S.CLOSED, 1, 7, ((YES, 4, 8),)),
    Plan("B4", "b1", "b1", "skills", L, "online", day(3, 17), S.RESOLVED, 5, 15,
         escalations=((1, 3.5),)),
    Plan("B5", "b1", "u", "rights", L, "online", day(3, 24), S.IN_PROGRESS, 2,
         escalations=((1, 12.5), (2, 15))),
    Plan("B6", "b1", "b1", "rights", D, "online", day(4, 7), S.WITHDRAWN),
    Plan("B7", "b1", "b1", "skills", L, "online", day(4, 14), S.SUBMITTED, confidential=True),
    Plan("B11", "b1", "b1", "rights", L, "online", day(3, 19), S.CLOSED, 2, 5, ((YES, 5, 6),)),
    Plan("B12", "b1", "u", "benefits", L, "visit", day(4, 16), S.IN_PROGRESS, 1, future_due=True),
    # ws_b2 — 高新科技城网格工作站 (国有)
    Plan("C1", "b2", "b2", "rights", L, "online", day(3, 6), S.CLOSED, 1, 4, ((YES, 5, 5),)),
    Plan("C2", "b2", "b2", "skills", L, "hotline", day(3, 13), S.CLOSED, 2, 7, ((PARTLY, 4, 8),)),
    Plan("C3", "b2", "b2", "benefits", D, "online", day(3, 21), S.CLOSED, 1, 9, auto_close=17),
    Plan("C4", "b2", "b2", "rights", D, "online", day(3, 27), S.IN_PROGRESS, 1,
         ratings=((PARTLY, 2, 4),), reopened_at=3, future_due=True),
    Plan("C5", "b2", "b2", "skills", L, "online", day(4, 3), S.ACCEPTED, 4, future_due=True),
    Plan("C6", "b2", "b2", "skills", L, "online", day(4, 5), S.MERGED, into="C5"),
    Plan("C7", "b2", "b2", "rights", L, "online", day(4, 11), S.RESOLVED, 1, 5),
    Plan("C8", "b2", "b2", "rights", L, "visit", day(4, 22), S.SUBMITTED),
    # Outside the period: before its first and after its last day.
    Plan("X1", "a1", "a1", "rights", L, "online", day(2, 28, 23, 30), S.CLOSED, 1, 2,
         ((YES, 5, 2.5),)),
    Plan("X2", "a1", "a1", "rights", L, "online", day(5, 1, 0), S.SUBMITTED,
         escalations=((1, 4),)),
]
# fmt: on

# (key, ws or street, area, status, budget, spent, assessment, acceptance,
#  planned_start, planned_end, actual_start, actual_end, verdict at)
PROJECTS = [
    ("P1", "a1", "rights", P.ACCEPTED, 10000, 8000, "86.7", "95", (3, 1), (5, 31), (3, 5), (4, 20), (4, 22)),
    ("P2", "b1", "benefits", P.REWARDED, 20000, 15000, "92.0", "88", (2, 1), (4, 15), (2, 1), (4, 10), (4, 12)),
    ("P3", "a2", "skills", P.FAILED, 5000, 5000, "50.0", "40", (3, 10), (4, 10), (3, 10), (4, 12), (4, 15)),
    ("P4", "a2", "culture", P.IN_PROGRESS, 8000, 3000, None, None, (4, 1), (6, 30), (4, 1), None, None),
    ("P5", "b1", "rights", P.APPROVED, 6000, 0, None, None, (4, 15), (7, 15), None, None, None),
    ("P6", "A", "rights", P.PROPOSED, 3000, 0, None, None, (4, 20), (5, 20), None, None, None),
    ("P7", "a1", "benefits", P.CANCELLED, 0, 0, None, None, (3, 15), (4, 15), None, None, None),
    ("P8", "a1", "culture", P.REWARDED, 9000, 9000, "90.0", "95",
     (2024, 9, 1), (2024, 12, 31), (2024, 9, 1), (2024, 12, 20), (2025, 1, 10)),
    ("P9", "b1", "skills", P.ASSESSED, 7000, 6500, "80.0", None, (3, 1), (4, 30), (3, 1), (4, 28), None),
    ("P10", "a1", "rights", P.ACCEPTED, 5000, 5000, "75.0", "85", (1, 1), (3, 15), (1, 2), (3, 1), (3, 5)),
    ("P11", "b1", "benefits", P.ACCEPTED, 4000, 4000, "95.0", "99", (1, 1), (3, 31), (1, 1), (2, 20), (2, 25)),
    ("P12", "b2", "grassroots", P.FAILED, 6000, 5500, "55.0", "40", (3, 5), (4, 25), (3, 5), (4, 18), (4, 20)),
    ("P13", "b2", "rights", P.APPROVED, 3000, 0, None, None, (5, 1), (6, 30), None, None, None),
]  # fmt: skip


def _date(parts):
    if parts is None:
        return None
    return dt.date(*parts) if len(parts) == 3 else dt.date(2025, *parts)


# --- people and places ------------------------------------------------------------------


def _staff(username, name, role=CadreAssignment.Role.CADRE, **node):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, name=name)
    CadreAssignment.objects.create(user=user, role=role, title="干部", **node)
    cadre_grant_access(user)
    return user


def _workstation(street, code, name):
    return Workstation.objects.create(
        street=street, code=code, name=name, address=f"{name}地址", hours="工作日 9:00–17:00"
    )


def _unit(ws, name, ownership):
    return Unit.objects.create(workstation=ws, name=name, ownership=ownership, industry="制造业")


def _worker(username, name, mobile, unit, status=Member.Status.MEMBER, workstation=None):
    member = member_services.member_register(
        username=username,
        name=name,
        mobile=mobile,
        password=PASSWORD,
        unit=unit,
        unit_name="" if unit else "个体经营",
        workstation=workstation,
    )
    if status != Member.Status.NON_MEMBER:
        member.status = status
        if status == Member.Status.MEMBER:
            member.member_number = f"330199{member.pk:08d}"
            member.joined_on = dt.date(2024, 6, 1)
        member.save(update_fields=["status", "member_number", "joined_on"])
    return member


# --- needs ------------------------------------------------------------------------------


def _timed(at, call, **kwargs):
    """Run a service call, then move the timeline events it wrote to ``at``."""
    before = timezone.now()
    result = call(**kwargs)
    NeedEvent.objects.filter(created_at__gte=before).update(created_at=at)
    return result


def _raise_need(plan: Plan, w, needs) -> Need:
    member = w.workers[plan.who]
    cadre = w.district_cadre
    offline = plan.channel != "online"
    created = plan.created
    after = lambda days: created + dt.timedelta(days=days)  # noqa: E731
    need = need_services.need_submit(
        member=member,
        kind=Need.Kind.HELP,
        area=w.areas[plan.area],
        rights_type=plan.rights,
        title=f"诉求{plan.key}",
        description="车间职工反映的问题，请工作站协调解决。",
        confidential=plan.confidential,
        channel=w.channels[plan.channel],
        recorded_by=cadre if offline else None,
        at=created,
    )
    accept_due = after(3)
    assert need.workstation == w.ws[plan.ws], plan.key
    fields = {
        "accept_due": accept_due,
        "accepted_at": None,
        "accepted_late": False,
        "resolve_due": None,
        "resolved_at": None,
        "resolved_late": False,
        "closed_at": None,
    }
    escalations = list(plan.escalations)

    def escalate_until(limit):
        while escalations and (limit is None or escalations[0][1] < limit):
            level, days = escalations.pop(0)
            need_services.need_escalate(need=need, level=level, at=after(days))
            fields["escalated_at"] = after(days)

    if plan.status in (S.WITHDRAWN, S.REJECTED, S.MERGED):
        at = after(1)
        if plan.status == S.WITHDRAWN:
            _timed(at, need_services.need_withdraw, need=need, by=member.user, reason="已自行解决")
        elif plan.status == S.REJECTED:
            _timed(at, need_services.need_reject, need=need, by=cadre, reason="不属于工会受理范围")
        else:
            _timed(at, need_services.need_merge, need=need, into=needs[plan.into], by=cadre)
        fields["closed_at"] = at
    escalate_until(plan.accept)
    if plan.accept is not None:
        accepted_at = after(plan.accept)
        _timed(accepted_at, need_services.need_accept, need=need, by=cadre)
        fields.update(
            accepted_at=accepted_at,
            accepted_late=accepted_at > accept_due,
            resolve_due=accepted_at + dt.timedelta(days=10),
        )
        if plan.status != S.ACCEPTED:
            _timed(accepted_at, need_services.need_start, need=need, by=cadre)
    escalate_until(plan.resolve)
    ratings = list(plan.ratings)
    if plan.reopened_at is not None:
        _timed(
            after(plan.reopened_at),
            need_services.need_resolve,
            need=need,
            by=cadre,
            resolution="已协调单位处理。",
        )
        outcome, score, days = ratings.pop(0)
        rating = _timed(
            after(days),
            need_services.need_rate,
            need=need,
            by=member.user,
            outcome=outcome,
            score=score,
        )
        Rating.objects.filter(pk=rating.pk).update(created_at=after(days))
        fields["resolve_due"] = after(days) + dt.timedelta(days=10)
    if plan.future_due:
        fields["resolve_due"] = _future()
    if plan.resolve is not None:
        resolved_at = after(plan.resolve)
        _timed(
            resolved_at,
            need_services.need_resolve,
            need=need,
            by=cadre,
            resolution="已协调单位解决。",
        )
        fields.update(resolved_at=resolved_at, resolved_late=resolved_at > fields["resolve_due"])
    for outcome, score, days in ratings:
        rating = _timed(
            after(days),
            need_services.need_rate,
            need=need,
            by=member.user,
            outcome=outcome,
            score=score,
        )
        Rating.objects.filter(pk=rating.pk).update(created_at=after(days))
        fields["closed_at"] = after(days)
    if plan.auto_close is not None:
        need_services.need_auto_close(need=need, at=after(plan.auto_close))
        fields["closed_at"] = after(plan.auto_close)
    escalate_until(None)
    Need.objects.filter(pk=need.pk).update(**fields)
    need.refresh_from_db()
    assert need.status == plan.status, (plan.key, need.status)
    return need


# --- the world --------------------------------------------------------------------------


def build_world() -> SimpleNamespace:
    from apps.core.seeding import run_reference

    run_reference()
    w = SimpleNamespace()
    w.areas = {a.code: a for a in ServiceArea.objects.all()}
    w.channels = {c.code: c for c in Channel.objects.all()}
    # seeds/reference: 国有企业 (state), 集体企业 (collective), 私营企业 (private),
    # 外商投资企业 (foreign) and five more types nobody here works for.
    w.ownerships = {o.code: o for o in OwnershipType.objects.all()}
    w.district = District.objects.create(code="330199", name="示范区", union_name="示范区总工会")
    w.street_a = Street.objects.create(district=w.district, code="S-A", name="东湖街道", order=1)
    w.street_b = Street.objects.create(
        district=w.district, code="S-B", name="高新开发区", kind=Street.Kind.ZONE, order=2
    )
    w.ws = {
        "a1": _workstation(w.street_a, "W-A1", "东湖第一网格工作站"),
        "a2": _workstation(w.street_a, "W-A2", "东湖第二网格工作站"),
        "a3": _workstation(w.street_a, "W-A3", "东湖第三网格工作站"),
        "b1": _workstation(w.street_b, "W-B1", "高新园区网格工作站"),
        "b2": _workstation(w.street_b, "W-B2", "高新科技城网格工作站"),
    }
    own = w.ownerships
    w.units = {
        "a1": _unit(w.ws["a1"], "东湖机械有限公司", own["state"]),
        "a2": _unit(w.ws["a2"], "东湖纺织有限公司", own["private"]),
        "a3": _unit(w.ws["a3"], "东湖食品有限公司", own["private"]),
        "b1": _unit(w.ws["b1"], "高新电子科技有限公司", own["foreign"]),
        "b2": _unit(w.ws["b2"], "高新能源集团有限公司", own["state"]),
        # 集体企业: one member, no needs at all.
        "b3": _unit(w.ws["b2"], "高新建材合作社", own["collective"]),
    }
    pending, non_member = Member.Status.PENDING, Member.Status.NON_MEMBER
    people = [
        # key, name, mobile, unit, status
        ("a1", "张丽", "13800000001", "a1", Member.Status.MEMBER),
        ("a1x", "李明", "13800000011", "a1", Member.Status.MEMBER),
        ("a1p", "周平", "13800000012", "a1", pending),
        ("a2", "王强", "13800000002", "a2", Member.Status.MEMBER),
        ("a2x", "赵敏", "13800000021", "a2", Member.Status.MEMBER),
        ("a2n", "钱进", "13800000022", "a2", non_member),
        ("a3", "孙悦", "13800000003", "a3", Member.Status.MEMBER),
        ("b1", "陈静", "13800000004", "b1", Member.Status.MEMBER),
        ("b1x", "刘洋", "13800000041", "b1", Member.Status.MEMBER),
        ("b2", "黄磊", "13800000005", "b2", Member.Status.MEMBER),
        ("b2x", "吴芳", "13800000051", "b2", Member.Status.MEMBER),
        ("b3", "何伟", "13800000052", "b3", Member.Status.MEMBER),
    ]
    w.workers = {
        key: _worker(f"w_{key}", name, mobile, w.units[unit], status)
        for key, name, mobile, unit, status in people
    }
    w.workers["u"] = _worker("w_u", "郑凯", "13800000006", None, non_member, workstation=w.ws["b1"])
    w.district_cadre = _staff("district", "周主席", district=w.district)
    w.reviewer = _staff(
        "reviewer", "吴考核", role=CadreAssignment.Role.REVIEWER, district=w.district
    )
    w.street_cadre = _staff("street_a", "孙主席", street=w.street_a)
    w.ws_cadre = _staff("cadre_a1", "李站长", workstation=w.ws["a1"])

    w.needs = {}
    for plan in NEEDS:
        w.needs[plan.key] = _raise_need(plan, w, w.needs)

    w.projects = {}
    for number, row in enumerate(PROJECTS, start=1):
        (key, owner, area, status, budget, spent, assess, accept, ps, pe, as_, ae, verdict) = row
        if owner == "A":
            street, workstation = w.street_a, None
        else:
            workstation = w.ws[owner]
            street = workstation.street
        project = ServiceProject.objects.create(
            number=f"XM2025{number:05d}",
            title=f"服务项目{key}",
            summary="为辖区职工开展服务",
            kind=ServiceProject.Kind.PRACTICAL,
            area=w.areas[area],
            beneficiary=ServiceProject.Beneficiary.WORKERS,
            street=street,
            workstation=workstation,
            lead=w.district_cadre,
            standard="服务标准",
            budget=Decimal(budget),
            spent=Decimal(spent),
            planned_start=_date(ps),
            planned_end=_date(pe),
            actual_start=_date(as_),
            actual_end=_date(ae),
            status=status,
            assessment_score=Decimal(assess) if assess else None,
            acceptance_score=Decimal(accept) if accept else None,
            result="已完成" if assess else "",
            created_by=w.district_cadre,
            created_at=local(*(_date(ps).timetuple()[:3]), 9, 0),
        )
        if verdict is not None:
            passed = status != P.FAILED
            Review.objects.create(
                project=project,
                reviewer=w.reviewer,
                verdict=Review.Verdict.PASS if passed else Review.Verdict.FAIL,
                score=Decimal(accept),
                comments="资料齐全" if passed else "签到表不全",
                created_at=local(*(_date(verdict).timetuple()[:3]), 10, 0),
            )
        w.projects[key] = project
    w.rewards = [
        Reward.objects.create(
            project=w.projects[key],
            kind=kind,
            workstation=w.projects[key].workstation,
            amount=Decimal(amount),
            reason="服务职工成效明显",
            awarded_by=w.district_cadre,
            awarded_at=at,
        )
        for key, kind, amount, at in [
            ("P2", Reward.Kind.AWARD, "5000", day(4, 25, 10)),
            ("P2", Reward.Kind.COMMENDATION, "0", day(5, 5, 10)),
            ("P8", Reward.Kind.AWARD, "2000", day(3, 10, 10)),
        ]
    ]

    # 回访抽查
    s1 = FollowUpSample.objects.create(
        district=w.district,
        period_start=START,
        period_end=END,
        per_street=8,
        drawn_by=w.reviewer,
        drawn_at=day(5, 6, 10),
    )
    s0 = FollowUpSample.objects.create(
        district=w.district,
        street=w.street_a,
        period_start=dt.date(2025, 2, 1),
        period_end=dt.date(2025, 2, 28),
        per_street=1,
        drawn_by=w.reviewer,
        drawn_at=day(3, 4, 10),
    )
    w.follow_up_sample = s1
    called = day(5, 7, 10)
    calls = [
        # sample, need, reached, outcome, score, called at
        (s1, "N1", True, YES, 5, called),
        (s1, "M2", True, NO, 2, called),
        (s1, "L1", False, "", None, called),
        (s1, "M3", None, "", None, None),
        (s1, "B1", True, YES, 4, called),
        (s1, "B3", True, PARTLY, 3, called),
        (s1, "C1", True, NO, 4, called),
        (s1, "C3", False, "", None, called),
        (s1, "B2", True, YES, 5, called),
        (s1, "B11", True, PARTLY, 2, called),
        (s1, "C2", True, YES, 3, called),
        (s0, "X1", True, YES, 5, day(3, 5, 10)),
    ]
    FollowUpCall.objects.bulk_create(
        FollowUpCall(
            sample=sample,
            need=w.needs[key],
            street=w.needs[key].workstation.street,
            reached=reached,
            outcome=outcome,
            score=score,
            called_at=at,
            called_by=w.reviewer if at else None,
        )
        for sample, key, reached, outcome, score, at in calls
    )

    # Another district: never inside the scope of this district's reports.
    other = District.objects.create(code="330299", name="其他区", union_name="其他区总工会")
    street_z = Street.objects.create(district=other, code="S-Z", name="西山街道", order=1)
    ws_z = _workstation(street_z, "W-Z1", "西山网格工作站")
    unit_z = _unit(ws_z, "西山钢铁有限公司", own["state"])
    worker_z = _worker("w_z", "冯涛", "13800000009", unit_z)
    cadre_z = _staff("cadre_z", "冯主席", district=other)
    need_z = need_services.need_submit(
        member=worker_z,
        kind=Need.Kind.HELP,
        area=w.areas["rights"],
        rights_type=LABOUR,
        title="其他区的诉求",
        description="其他区职工反映的问题。",
        at=day(3, 15),
    )
    need_services.need_accept(need=need_z, by=cadre_z)
    Need.objects.filter(pk=need_z.pk).update(accepted_at=day(3, 16), accepted_late=False)
    ServiceProject.objects.create(
        number="XM202599999",
        title="其他区的项目",
        summary="其他区",
        kind=ServiceProject.Kind.PRACTICAL,
        area=w.areas["skills"],
        beneficiary=ServiceProject.Beneficiary.WORKERS,
        street=street_z,
        workstation=ws_z,
        lead=cadre_z,
        budget=Decimal("99999"),
        spent=Decimal("99999"),
        planned_start=START,
        planned_end=END,
        status=P.ACCEPTED,
        assessment_score=Decimal("100"),
        acceptance_score=Decimal("100"),
        created_by=cadre_z,
    )
    w.other_district = other
    return w


@pytest.fixture(scope="module")
def _report_world_data(django_db_setup, django_db_blocker):
    """Built once per test module inside a transaction that is rolled back at its end;
    each test runs in a savepoint inside it (pytest-django's ``db``)."""
    with django_db_blocker.unblock(), transaction.atomic():
        with disable_auditlog():  # the audit trail is not what these tests are about
            world = build_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def report_world(_report_world_data, db):
    """The district above; ``report_world.params(**narrowing)`` is the report's input."""
    w = _report_world_data

    def params(user=None, **narrowing):
        scope = report_scope(user or w.reviewer)
        return ReportParams(scope=scope, start=START, end=END, period=Period.CUSTOM, **narrowing)

    w.params = params
    return w
