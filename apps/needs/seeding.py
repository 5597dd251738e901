"""Seed data of the needs app: reference files, and the demo district's needs.

Reference (any environment): service areas, channels, time limits and the
district's reply templates. Demo (DEBUG only, ``load_demo``): a history of
needs in every state, replayed through ``apps.needs.services`` so each need has
the timeline, notifications, supports, referrals and ratings a real one would
have; see ``load_needs``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Max
from django.utils import timezone

from apps.core.seeding import (
    Column,
    HistoryClock,
    Row,
    SeedContext,
    TableSpec,
    boolean,
    choice,
    day,
    demo_step,
    integer,
    mobile,
    ref,
    register_reference,
    username,
)
from apps.core.workdays import add_working_days
from apps.members.models import Member
from apps.notifications.models import Notification
from apps.workstations.jurisdiction import Jurisdiction

from . import deadlines, services
from .models import (
    Channel,
    Need,
    NeedEvent,
    Rating,
    Referral,
    ReplyTemplate,
    ServiceArea,
    Support,
    TimeLimit,
)
from .workflow import Action, Status

# --- reference data --------------------------------------------------------------------

register_reference(
    TableSpec(
        "reference/service_areas.csv",
        ServiceArea,
        key=("code",),
        columns=(
            Column("code"),
            Column("name"),
            Column("description", required=False),
            Column("order", integer),
        ),
    )
)

register_reference(
    TableSpec(
        "reference/channels.csv",
        Channel,
        key=("code",),
        columns=(
            Column("code"),
            Column("name"),
            Column("is_online", boolean),
            Column("order", integer),
        ),
    )
)


register_reference(
    TableSpec(
        "reference/time_limits.csv",
        TimeLimit,
        key=("stage", "kind", "urgency"),
        columns=(
            Column("stage", choice(TimeLimit.Stage)),
            Column("kind", choice(Need.Kind), required=False),
            Column("urgency", choice(Need.Urgency), required=False),
            Column("working_days", integer),
        ),
    )
)


class TemplateAction(models.TextChoices):
    """The actions a reply template can be written for (as on ``ReplyTemplate.action``)."""

    ACCEPT = Action.ACCEPT.value, Action.ACCEPT.label
    REJECT = Action.REJECT.value, Action.REJECT.label
    REPLY = Action.REPLY.value, Action.REPLY.label
    REFER = Action.REFER.value, Action.REFER.label
    RESOLVE = Action.RESOLVE.value, Action.RESOLVE.label


# ``is_active`` is not in the file: a template the district switched off stays off.
register_reference(
    TableSpec(
        "reference/reply_templates.csv",
        ReplyTemplate,
        key=("action", "kind", "title"),
        columns=(
            Column("action", choice(TemplateAction)),
            Column("kind", choice(Need.Kind), required=False),
            Column("title"),
            Column("body"),
        ),
    )
)


# --- the demo district: needs ----------------------------------------------------------


class DemoState(models.TextChoices):
    """Where a demo need's history ends (more precise than ``Need.status``)."""

    SUBMITTED = "submitted", "待受理"
    ACCEPTED = "accepted", "已受理"
    IN_PROGRESS = "in_progress", "办理中"
    REFERRED = "referred", "转介后跟进中"
    RESOLVED = "resolved", "已办结待评价"
    CLOSED = "closed", "评价满意，已完结"
    AUTO_CLOSED = "auto_closed", "逾期未评价，自动完结"
    REOPENED = "reopened", "评价不满意，重新办理"
    REJECTED = "rejected", "不予受理"
    MERGED = "merged", "已合并"
    WITHDRAWN = "withdrawn", "已撤回"


S = DemoState
ACCEPTED_STATES = {
    S.ACCEPTED,
    S.IN_PROGRESS,
    S.REFERRED,
    S.RESOLVED,
    S.CLOSED,
    S.AUTO_CLOSED,
    S.REOPENED,
}
STARTED_STATES = ACCEPTED_STATES - {S.ACCEPTED}
RESOLVED_STATES = {S.RESOLVED, S.CLOSED, S.AUTO_CLOSED, S.REOPENED}
RATED_STATES = {S.CLOSED, S.REOPENED}
FINAL_STATUS = {
    S.SUBMITTED: Status.SUBMITTED,
    S.ACCEPTED: Status.ACCEPTED,
    S.IN_PROGRESS: Status.IN_PROGRESS,
    S.REFERRED: Status.IN_PROGRESS,
    S.RESOLVED: Status.RESOLVED,
    S.CLOSED: Status.CLOSED,
    S.AUTO_CLOSED: Status.CLOSED,
    S.REOPENED: Status.IN_PROGRESS,
    S.REJECTED: Status.REJECTED,
    S.MERGED: Status.MERGED,
    S.WITHDRAWN: Status.WITHDRAWN,
}


def mobiles(value: str) -> tuple[str, ...]:
    """Mobile numbers separated by spaces (or 、 / ; )."""
    for separator in "、;；,，":
        value = value.replace(separator, " ")
    return tuple(mobile(part) for part in value.split())


NEED_COLUMNS = (
    Column("ref"),  # the line's name inside the file, for merge_into; never stored
    Column("submitter", mobile),
    Column("title"),
    Column("kind", choice(Need.Kind)),
    Column("area", ref(ServiceArea)),
    Column("rights_type", choice(Need.RightsType)),
    Column("urgency", choice(Need.Urgency)),
    Column("confidential", boolean),
    Column("follow_up_consent", boolean, required=False, default=True),
    Column("channel", ref(Channel)),
    Column("recorded_by", username, required=False),
    Column("description"),
    Column("state", choice(DemoState)),
    Column("submitted_on", day),
    Column("accepted_on", day, required=False, default=None),
    Column("resolved_on", day, required=False, default=None),
    Column("closed_on", day, required=False, default=None),
    Column("handler", username, required=False),
    Column("reply", required=False),
    Column("refer_to", choice(Referral.Target), required=False),
    Column("refer_detail", required=False),
    Column("result", required=False),
    Column("merge_into", required=False),
    Column("public_title", required=False),
    Column("public_summary", required=False),
    Column("supporters", mobiles, required=False, default=()),
    Column("outcome", choice(Rating.Outcome), required=False),
    Column("score", integer, required=False, default=None),
    Column("comment", required=False),
)

# The replay assumes cron runs escalate_overdue every morning at this hour.
DAILY_RUN = dt.time(7, 0)
# Notifications older than this were read by their recipients.
READ_AFTER = dt.timedelta(days=3)

REFER_NOTES = {
    Referral.Target.ARBITRATION: (
        "您反映的问题属于劳动争议，需通过劳动人事争议仲裁解决。工作站已协助您整理证据材料、"
        "填写仲裁申请书，并转介至{detail}；工会法律顾问可陪同出庭，办理进展我们会持续跟进。"
    ),
    Referral.Target.INSPECTION: (
        "您反映的情况涉嫌违反劳动保障法律法规，工作站已将线索移送{detail}，"
        "请保持电话畅通配合调查，核查结果我们会及时告诉您。"
    ),
    Referral.Target.LEGAL_AID: (
        "您的情况符合法律援助条件，已转介至{detail}，由援助律师为您免费代理，工作站会跟进案件进展。"
    ),
    Referral.Target.COURT: (
        "该纠纷需通过诉讼解决，工作站已转介至{detail}诉调对接工作室，"
        "工会法律顾问将协助您准备起诉材料。"
    ),
    Referral.Target.OTHER: (
        "您反映的问题需由{detail}依职责处理，工作站已将材料转交并约定反馈时限，会持续跟进。"
    ),
}
REFER_FOLLOW_UP = {
    Referral.Target.ARBITRATION: (
        "仲裁委已立案，开庭前组织调解，企业同意调解。",
        "仲裁委已立案，待开庭。",
    ),
    Referral.Target.INSPECTION: (
        "监察大队已上门检查并下达整改指令书，企业已整改。",
        "监察大队已受理线索，排期检查。",
    ),
    Referral.Target.LEGAL_AID: ("援助律师已代理，案件调解结案。", "援助律师已接案，正在收集证据。"),
    Referral.Target.COURT: ("法院诉前调解成功，已出具调解书。", "已提交起诉材料，法院诉前调解中。"),
    Referral.Target.OTHER: ("相关部门已书面答复处理结果。", "已电话催办，相关部门答复正在核实。"),
}
DEFAULT_WITHDRAW = "问题已经解决，撤回诉求。"


def _local(when: dt.date, at: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(when, at))


def _spread(text: str) -> int:
    """A stable pseudo-random number for a line: spreads times over the day."""
    return zlib.crc32(text.encode())


@dataclass
class _Step:
    """One service call of the replay, and the models whose new rows it dates."""

    at: dt.datetime
    rank: int  # keeps same-moment steps in the order of the need's life
    name: str
    run: Callable[[], None]
    touches: tuple = ()


@dataclass
class _Plan:
    """What happens to one need, when, and the fields only known after the replay."""

    row: Row
    member: Member
    handler: object
    steps: list[_Step] = field(default_factory=list)
    need: Need | None = None
    times: dict = field(default_factory=dict)  # moment of each action
    fields: dict = field(default_factory=dict)  # set on the need after the replay


class _Backdate:
    """Give the rows a service call created the moment it happened in the demo's history.

    Every moment of the history lies before ``now`` (when the load started), and a
    row a service creates is stamped with the real clock, so the rows of a model
    created since the load began that still carry a time after ``now`` are exactly
    those of the step just run: one UPDATE per model and step finds and moves them.
    """

    def __init__(self, now: dt.datetime, models_touched):
        self.now = now
        self.marks = {m: m.objects.aggregate(top=Max("id"))["top"] or 0 for m in models_touched}

    def stamp(self, moment: dt.datetime, models_touched) -> None:
        for model in models_touched:
            values = {"created_at": moment}
            if model is Notification and moment < self.now - READ_AFTER:
                values["read_at"] = moment + dt.timedelta(hours=2)
            model.objects.filter(id__gt=self.marks[model], created_at__gte=self.now).update(
                **values
            )


class _People:
    """Workers by mobile and cadres by username, with the checks the file needs."""

    def __init__(self):
        self.members = {
            m.mobile: m for m in Member.objects.select_related("user", "workstation__street")
        }
        self.users: dict[str, object] = {}
        self.first_cadre: dict[int, object] = {}

    def member(self, row: Row, value: str, column: str) -> Member:
        try:
            return self.members[value]
        except KeyError:
            raise row.error(
                f"{column}：找不到手机号码为“{value}”的职工（见 workers.csv）"
            ) from None

    def cadre(self, row: Row, login: str, column: str, workstation):
        if login not in self.users:
            self.users[login] = get_user_model().objects.filter(username=login).first()
        user = self.users[login]
        if user is None or not Jurisdiction.for_user(user).covers_workstation(workstation):
            raise row.error(
                f"{column}：“{login}”不是管辖“{workstation.name}”的工会干部（见 cadres.csv）"
            )
        return user

    def default_cadre(self, row: Row, workstation):
        from apps.workstations.models import CadreAssignment

        if workstation.pk not in self.first_cadre:
            post = (
                CadreAssignment.objects.active()
                .filter(role=CadreAssignment.Role.CADRE, workstation=workstation)
                .order_by("id")
                .select_related("user")
                .first()
            )
            self.first_cadre[workstation.pk] = post.user if post else None
        user = self.first_cadre[workstation.pk]
        if user is None:
            raise row.error(f"工作站“{workstation.name}”没有工会干部，请填写 handler")
        return self.users.setdefault(user.username, user)


def _require(row: Row, state: str, columns: dict[str, bool]) -> None:
    for column, wanted in columns.items():
        given = row[column] not in ("", None, ())
        if given != wanted:
            verb = "必须填写" if wanted else "应留空"
            raise row.error(f"state 为 {state} 时，{column} {verb}")


def _check(row: Row, member: Member, refs: dict[str, Row]) -> None:
    """The rules a line must follow whatever day it is loaded (else: file and line)."""
    state = row["state"]
    accepted = state in ACCEPTED_STATES or state in {S.REJECTED, S.MERGED}
    resolved = state in RESOLVED_STATES
    _require(
        row,
        state,
        {
            "accepted_on": accepted if state != S.WITHDRAWN else row["accepted_on"] is not None,
            "resolved_on": resolved,
            "closed_on": state in RATED_STATES or state == S.WITHDRAWN,
            "merge_into": state == S.MERGED,
            "outcome": state in RATED_STATES,
            "score": state in RATED_STATES,
        },
    )
    if state in {S.REJECTED} | RESOLVED_STATES and not row["result"]:
        what = "不予受理的理由" if state == S.REJECTED else "办理结果"
        raise row.error(f"state 为 {state} 时，result（{what}）必须填写")
    if state == S.REFERRED and not row["refer_to"]:
        raise row.error("state 为 referred 时，refer_to 必须填写")
    if row["refer_to"] and state not in STARTED_STATES:
        raise row.error("只有办理中或已办结的诉求才能有转介（refer_to）")
    if row["comment"] and state not in RATED_STATES:
        raise row.error("只有已评价的诉求（closed / reopened）才能有 comment")
    if state in RATED_STATES:
        rating = Rating(outcome=row["outcome"], score=row["score"])
        if not 1 <= row["score"] <= 5:
            raise row.error("score 应为 1–5")
        if rating.satisfied != (state == S.CLOSED):
            raise row.error(
                "closed 需要满意的评价（已解决或部分解决且不低于 3 分），reopened 需要不满意的评价"
            )

    dates = [row[c] for c in ("submitted_on", "accepted_on", "resolved_on", "closed_on")]
    dates = [d for d in dates if d is not None]
    if dates != sorted(dates):
        raise row.error("日期顺序应为 submitted_on ≤ accepted_on ≤ resolved_on ≤ closed_on")
    if dates[-1] > timezone.localdate():
        raise row.error("日期不能晚于今天")
    registered = timezone.localtime(member.created_at).date()
    if row["submitted_on"] < registered:
        raise row.error(f"提交日期早于该职工在门户登记的日期（{registered}）")

    channel = row["channel"]
    if channel.is_online and row["recorded_by"]:
        raise row.error(f"{channel.name}的诉求由职工本人提交，recorded_by 应留空")
    if not channel.is_online and not row["recorded_by"]:
        raise row.error(f"线下渠道（{channel.name}）的诉求须填写代为登记的干部 recorded_by")

    for column, limit in (("title", 60), ("public_title", 60), ("description", 3000)):
        if len(row[column]) > limit:
            raise row.error(f"{column} 不能超过 {limit} 个字")
    if row["public_title"] or row["supporters"]:
        if row["confidential"]:
            raise row.error("保密诉求不能公开征集“我也有此需求”")
        if state in {S.REJECTED, S.MERGED, S.WITHDRAWN}:
            raise row.error(f"state 为 {state} 的诉求不能公开征集")
        if not row["public_title"]:
            raise row.error("有 supporters 时须填写 public_title")
    if row["submitter"] in row["supporters"]:
        raise row.error("supporters 不能包含提出人自己")
    if len(set(row["supporters"])) != len(row["supporters"]):
        raise row.error("supporters 中有重复的手机号码")

    if state == S.MERGED:
        target = refs.get(row["merge_into"])
        if target is None:
            raise row.error(f"merge_into：文件中没有 ref 为“{row['merge_into']}”的诉求")
        if target is row or target["state"] in {S.MERGED, S.REJECTED, S.WITHDRAWN}:
            raise row.error(f"merge_into：不能合并到 {target['ref']}（{target['state']}）")
        if target["submitted_on"] > row["accepted_on"]:
            raise row.error("merge_into：合并日期早于目标诉求的提交日期")


def _phases(t: dict[str, dt.datetime], now: dt.datetime) -> list[tuple]:
    """The need's open stretches as (start, end, due): overdue once ``due`` has passed."""
    phases = []
    end = t.get("end", now)
    triage = t.get("accept") or t.get("reject") or t.get("merge")
    phases.append((t["submit"], triage or end, t["accept_due"]))
    if t.get("accept"):
        phases.append((t["accept"], t.get("resolve") or end, t["resolve_due"]))
    if t.get("reopen"):
        phases.append((t["reopen"], end, t["resolve_due_2"]))
    return phases


def _runs(start: dt.datetime, end: dt.datetime):
    """The daily escalate_overdue runs strictly between ``start`` and ``end``."""
    when = timezone.localtime(start).date()
    while True:
        moment = timezone.make_aware(dt.datetime.combine(when, DAILY_RUN))
        if moment >= end:
            return
        if moment > start:
            yield moment
        when += dt.timedelta(days=1)


def _escalations(phases, now: dt.datetime, escalate_days: int) -> list[tuple[int, dt.datetime]]:
    """What the daily run would have done: street once overdue, district if still overdue."""
    found = []
    street = district_from = None
    for start, end, due in phases:
        for run in _runs(max(start, due), min(end, now)):
            if street is None:
                street = run
                district_from = add_working_days(street, escalate_days)
                found.append((Need.Escalation.STREET, run))
            elif district_from < run:
                found.append((Need.Escalation.DISTRICT, run))
                return found
    return found


class _NeedLoader:
    """Plans each line's history, then replays all of them in one timeline."""

    def __init__(self, ctx: SeedContext):
        self.ctx = ctx
        self.now = ctx.now
        self.people = _People()
        self.accept_notes = {
            (t.kind, t.title): t.body
            for t in ReplyTemplate.objects.filter(action=Action.ACCEPT, is_active=True)
        }
        self.escalate_days = deadlines.working_days_for(TimeLimit.Stage.ESCALATE)
        self.rate_days = deadlines.working_days_for(TimeLimit.Stage.RATE)
        self.created: dict[str, Need] = {}
        self.skipped_auto_close = 0

    def accept_note(self, kind: str) -> str:
        """The district's acceptance template for the kind (else the general one)."""
        for wanted in (kind, ""):
            for (template_kind, _title), body in sorted(self.accept_notes.items()):
                if template_kind == wanted:
                    return body
        return ""

    # --- planning --------------------------------------------------------------------

    def plan(self, row: Row, refs: dict[str, Row]) -> _Plan:
        member = self.people.member(row, row["submitter"], "submitter")
        _check(row, member, refs)
        workstation = member.workstation
        handler = (
            self.people.cadre(row, row["handler"], "handler", workstation)
            if row["handler"]
            else self.people.default_cadre(row, workstation)
        )
        recorder = (
            self.people.cadre(row, row["recorded_by"], "recorded_by", workstation)
            if row["recorded_by"]
            else None
        )
        supporters = [self.people.member(row, m, "supporters") for m in row["supporters"]]
        return self._schedule(_Plan(row, member, handler), recorder, supporters)

    def _schedule(self, plan: _Plan, recorder, supporters) -> _Plan:
        """The moment of every action, from the days on the line and the calendar."""
        row, now = plan.row, self.now
        state, kind, urgency = row["state"], row["kind"], row["urgency"]
        spread = _spread(f"{row['submitter']}{row['title']}")
        clock = HistoryClock(now, spread)
        online = row["channel"].is_online
        t: dict[str, dt.datetime] = {}

        # Workers write online at any hour; cadres record offline needs at work.
        if online:
            t["submit"] = clock.on(row["submitted_on"], dt.time(7, 30), 15 * 60)
        else:
            t["submit"] = clock.on(row["submitted_on"], dt.time(8, 45), 8 * 60)
        t["accept_due"] = deadlines.due(
            TimeLimit.Stage.ACCEPT, t["submit"], kind=kind, urgency=urgency
        )

        if row["accepted_on"] is not None:
            if row["accepted_on"] != row["submitted_on"]:
                triage = clock.on(row["accepted_on"], dt.time(8, 40), 470, bits=3)
            elif online:
                triage = clock.after(40 + spread % 200)
            else:
                triage = clock.after(10 + spread % 25)  # recorded and accepted at once
            action = {S.REJECTED: "reject", S.MERGED: "merge"}.get(state, "accept")
            t[action] = triage
        if "accept" in t:
            t["resolve_due"] = deadlines.due(
                TimeLimit.Stage.RESOLVE, t["accept"], kind=kind, urgency=urgency
            )
        if row["public_title"]:
            t["publish"] = clock.after(60 + spread % 120)
        if state in STARTED_STATES:
            t["start"] = clock.after(30 + (spread >> 4) % 120)

        # The handling stretch, up to resolution (or withdrawal, or now): replies and
        # referrals fall inside it, supporters join during it.
        if state in RESOLVED_STATES:
            stretch_end = _local(row["resolved_on"], dt.time(9, 0)) + dt.timedelta(
                minutes=(spread >> 5) % 480
            )
        elif state == S.WITHDRAWN:
            stretch_end = _local(row["closed_on"], dt.time(19, 0))
        else:
            stretch_end = now
        stretch_end = min(stretch_end, now)
        if "start" in t and row["refer_to"]:
            t["refer"] = clock.take(clock.last + (stretch_end - clock.last) / 3)
            t["referral_follow_up"] = clock.take(clock.last + (stretch_end - clock.last) / 2)
        if row["reply"] and state in ACCEPTED_STATES:
            t["reply"] = clock.take(clock.last + (stretch_end - clock.last) / 2)
        if state in RESOLVED_STATES:
            t["resolve"] = clock.take(max(stretch_end, clock.last + dt.timedelta(minutes=30)))
        if state in RATED_STATES:
            t["rate"] = clock.on(row["closed_on"], dt.time(19, 0), 200, bits=7)
            if state == S.REOPENED:
                t["reopen"] = t["rate"]
                t["resolve_due_2"] = deadlines.due(
                    TimeLimit.Stage.RESOLVE, t["rate"], kind=kind, urgency=urgency
                )
        if state == S.WITHDRAWN:
            t["withdraw"] = t["end"] = clock.on(row["closed_on"], dt.time(19, 0), 200, bits=7)
        if state == S.MERGED:
            t["end"] = t["merge"]
        if state == S.AUTO_CLOSED:
            limit = add_working_days(t["resolve"], self.rate_days)
            run = next(_runs(limit, now), None)
            if run is None:
                # Too recent on today's calendar: the next morning's run will close it.
                self.skipped_auto_close += 1
            else:
                t["auto_close"] = run

        plan.times = t
        self._steps(plan, t, recorder, supporters, stretch_end)
        return plan

    def _steps(self, plan: _Plan, t: dict, recorder, supporters, stretch_end) -> None:
        """The service calls of one need, each at its moment."""
        row, member, handler = plan.row, plan.member, plan.handler
        state = row["state"]
        E, N, SUP, REF, RAT = NeedEvent, Notification, Support, Referral, Rating

        def add(name, rank, run, touches, at=None):
            plan.steps.append(_Step(t[name] if at is None else at, rank, name, run, touches))

        def need():
            return plan.need

        def submit():
            plan.need = services.need_submit(
                member=member,
                kind=row["kind"],
                area=row["area"],
                rights_type=row["rights_type"],
                title=row["title"],
                description=row["description"],
                urgency=row["urgency"],
                confidential=row["confidential"],
                follow_up_consent=row["follow_up_consent"],
                channel=row["channel"],
                recorded_by=recorder,
                at=t["submit"],
            )
            self.created[row["ref"]] = plan.need

        add("submit", 0, submit, (E, N))
        if "reject" in t:
            reason = row["result"]
            add(
                "reject",
                1,
                lambda: services.need_reject(need=need(), by=handler, reason=reason),
                (E, N),
            )
        if "merge" in t:
            into = row["merge_into"]
            add(
                "merge",
                1,
                lambda: services.need_merge(need=need(), into=self.created[into], by=handler),
                (E, N, SUP),
            )
        if "accept" in t:
            note = self.accept_note(row["kind"])
            add(
                "accept",
                1,
                lambda: services.need_accept(need=need(), by=handler, public_note=note),
                (E, N),
            )
        if "publish" in t:
            title, summary = row["public_title"], row["public_summary"]
            add(
                "publish",
                2,
                lambda: services.need_publish(
                    need=need(), by=handler, public_title=title, public_summary=summary
                ),
                (E,),
            )
            # Supporters join one after another while the need is being handled.
            last = max(stretch_end, t["publish"] + dt.timedelta(hours=1))
            for i, supporter in enumerate(supporters, start=1):
                moment = t["publish"] + (last - t["publish"]) * i / (len(supporters) + 1)
                add(
                    "support",
                    3,
                    lambda s=supporter: services.need_support(need=need(), member=s),
                    (SUP,),
                    at=min(moment, self.now - dt.timedelta(minutes=1)),
                )
        if "start" in t:
            add("start", 4, lambda: services.need_start(need=need(), by=handler), (E, N))
        if "refer" in t:
            target = Referral.Target(row["refer_to"])
            detail = row["refer_detail"] or target.label
            if state == S.REFERRED and row["result"]:
                note = row["result"]
            else:
                note = REFER_NOTES[target].format(detail=detail)
            done = state in RESOLVED_STATES
            follow_up = REFER_FOLLOW_UP[target][0 if done else 1]
            add(
                "refer",
                5,
                lambda: services.need_refer(
                    need=need(),
                    by=handler,
                    target=target,
                    target_detail=row["refer_detail"],
                    public_note=note,
                ),
                (E, N, REF),
            )
            add(
                "referral_follow_up",
                6,
                lambda: services.referral_update(
                    referral=need().referrals.order_by("-id").first(),
                    by=handler,
                    follow_up=follow_up,
                    done=done,
                ),
                (E,),
            )
        if "reply" in t:
            reply = row["reply"]
            add(
                "reply",
                7,
                lambda: services.need_reply(need=need(), by=handler, public_note=reply),
                (E, N),
            )
        if "resolve" in t:
            resolution = row["result"]
            add(
                "resolve",
                8,
                lambda: services.need_resolve(need=need(), by=handler, resolution=resolution),
                (E, N),
            )
        if "rate" in t:
            add(
                "rate",
                9,
                lambda: services.need_rate(
                    need=need(),
                    by=member.user,
                    outcome=row["outcome"],
                    score=row["score"],
                    comment=row["comment"],
                ),
                (E, N, RAT),
            )
        if "auto_close" in t:
            closing = t["auto_close"]
            add("auto_close", 9, lambda: services.need_auto_close(need=need(), at=closing), (E, N))
        if "withdraw" in t:
            why = row["result"] or DEFAULT_WITHDRAW
            add(
                "withdraw",
                9,
                lambda: services.need_withdraw(need=need(), by=member.user, reason=why),
                (E, N),
            )
        for level, moment in _escalations(_phases(t, self.now), self.now, self.escalate_days):
            add(
                "escalate",
                level,
                lambda level=level, moment=moment: services.need_escalate(
                    need=need(), level=level, at=moment
                ),
                (E, N),
                at=moment,
            )
        plan.steps.sort(key=lambda step: (step.at, step.rank))

        # Fields the services set from the real clock, as of the demo's history.
        f = plan.fields
        f["accepted_at"] = t.get("accept")
        f["accepted_late"] = bool(t.get("accept") and t["accept"] > t["accept_due"])
        f["resolve_due"] = t.get("resolve_due_2") or t.get("resolve_due")
        f["resolved_at"] = t.get("resolve") if state in RESOLVED_STATES - {S.REOPENED} else None
        f["resolved_late"] = bool(t.get("resolve") and t["resolve"] > t["resolve_due"])
        f["closed_at"] = {
            S.CLOSED: t.get("rate"),
            S.AUTO_CLOSED: t.get("auto_close"),
            S.REJECTED: t.get("reject"),
            S.MERGED: t.get("merge"),
            S.WITHDRAWN: t.get("withdraw"),
        }.get(state)
        f["updated_at"] = max(step.at for step in plan.steps)

    # --- replaying -------------------------------------------------------------------

    def link_merges(self, plans: list[_Plan]) -> None:
        """A duplicate is merged after its target was raised; the target shows the merge."""
        by_ref = {plan.row["ref"]: plan for plan in plans}
        for plan in plans:
            merge = plan.times.get("merge")
            target = by_ref.get(plan.row["merge_into"]) if merge else None
            if target is None:
                continue  # no merge, or into a need an earlier load created
            if target.times["submit"] >= merge:
                raise plan.row.error("merge_into：合并时目标诉求尚未提交（请把合并日期放在其后）")
            target.fields["updated_at"] = max(target.fields["updated_at"], merge)

    def replay(self, plans: list[_Plan], backdate: _Backdate) -> None:
        """Run every step of every new need in the order of the demo's history.

        One timeline for all needs, so a merge or a support finds the other need
        in the state it had at that moment.
        """
        steps = sorted(
            ((step, plan) for plan in plans for step in plan.steps),
            key=lambda pair: (pair[0].at, pair[0].rank),
        )
        for step, plan in steps:
            try:
                step.run()
            except (ValidationError, PermissionDenied) as error:
                message = "；".join(getattr(error, "messages", [str(error)]))
                raise plan.row.error(f"无法执行“{step.name}”：{message}") from None
            backdate.stamp(step.at, step.touches)
        for plan in plans:
            Need.objects.filter(pk=plan.need.pk).update(**plan.fields)
        statuses = dict(
            Need.objects.filter(pk__in=[p.need.pk for p in plans]).values_list("pk", "status")
        )
        for plan in plans:
            row, expected = plan.row, FINAL_STATUS[plan.row["state"]]
            if row["state"] == S.AUTO_CLOSED and "auto_close" not in plan.times:
                expected = Status.RESOLVED
            if statuses[plan.need.pk] != expected:
                raise row.error(
                    f"重放后的状态为 {statuses[plan.need.pk]}，与 state {row['state']} 不符"
                )


def _summary(loader: _NeedLoader, keys: set[tuple[str, str]]) -> str:
    needs = Need.objects.filter(submitter__mobile__in={m for m, _ in keys})
    by_status = Counter(needs.values_list("status", flat=True))
    statuses = "，".join(f"{Status(s).label} {by_status[s]}" for s in Status.values if by_status[s])
    escalated = Counter(needs.exclude(escalation=0).values_list("escalation", flat=True))
    return (
        f"诉求 {sum(by_status.values())} 件：{statuses}；"
        f"当前逾期 {needs.overdue(loader.now).count()} 件，"
        f"督办 {sum(escalated.values())} 件（街道 {escalated[1]}，县区 {escalated[2]}）"
    )


@demo_step(order=100, name="needs")
def load_needs(ctx: SeedContext) -> None:
    """Demo needs (seeds/demo/needs.csv), each replayed through the services.

    A need is matched by (submitter, title): one already in the database is left
    exactly as it is — cadres and workers may have moved it on since — so a
    second load changes nothing. A new one is submitted, triaged, handled,
    published, supported, referred, resolved, rated or withdrawn as its line
    says, on the days the line gives; 督办 and auto-close happen where the daily
    ``escalate_overdue`` run would have done them. Timestamps of the need, its
    timeline, notifications, supports, referrals and ratings are then moved to
    those days, so the reports see six months of history.
    """
    rows = ctx.read("demo/needs.csv", NEED_COLUMNS)
    refs: dict[str, Row] = {}
    keys: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["ref"] in refs:
            raise row.error(f"ref“{row['ref']}”与第 {refs[row['ref']].line} 行重复")
        refs[row["ref"]] = row
        key = (row["submitter"], row["title"])
        if key in keys:
            raise row.error(f"同一职工的同名诉求与第 {keys[key]} 行重复")
        keys[key] = row.line

    existing = {
        (m, title): need
        for need, m, title in (
            (n, n.submitter.mobile, n.title)
            for n in Need.objects.filter(submitter__mobile__in={m for m, _ in keys}).select_related(
                "submitter"
            )
        )
    }
    loader = _NeedLoader(ctx)
    backdate = _Backdate(ctx.now, (NeedEvent, Notification, Support, Referral, Rating))
    plans = []
    for row in rows:
        need = existing.get((row["submitter"], row["title"]))
        if need is not None:
            loader.created[row["ref"]] = need
            ctx.count("诉求", "unchanged")
            continue
        plans.append(loader.plan(row, refs))
        ctx.count("诉求", "created")
    loader.link_merges(plans)
    loader.replay(plans, backdate)
    ctx.notes.append(_summary(loader, set(keys)))
    if loader.skipped_auto_close:
        ctx.notes.append(
            f"{loader.skipped_auto_close} 件 auto_closed 的诉求办结不足 {loader.rate_days} 个工作日，"
            "暂为“已办结待评价”，下次运行 escalate_overdue 时自动完结。"
        )
