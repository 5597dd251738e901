"""Seed data of the projects app: the demo district's service projects.

Demo only (``load_demo``, step order 200, after the needs): about 25 projects of
明湖区 in every stage, kind, beneficiary and service area, each *replayed*
through ``apps.projects.services`` — proposed from demo needs, approved, started,
progress posted with photos, assessed, reviewed, rewarded or cancelled — and
then moved to the days its line gives, like the needs step does. See
``load_projects`` and seeds/README.md.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.core.seeding import (
    Column,
    HistoryClock,
    Row,
    SeedContext,
    choice,
    day,
    demo_step,
    integer,
    mobile,
    ref,
    username,
)
from apps.core.workdays import add_working_days
from apps.needs import deadlines
from apps.needs import services as need_services
from apps.needs.models import Need, NeedEvent, ServiceArea, TimeLimit
from apps.needs.workflow import OPEN_STATUSES
from apps.needs.workflow import Status as NeedStatus
from apps.needs.workflow import TransitionNotAllowed as NeedTransitionNotAllowed
from apps.notifications.models import Notification
from apps.workstations.models import CadreAssignment, Street, Workstation

from . import services
from .models import (
    Evidence,
    Indicator,
    ProgressUpdate,
    ProjectEvent,
    ProjectNeed,
    Review,
    Reward,
    ServiceProject,
)
from .workflow import Status, TransitionNotAllowed

# --- value parsers ----------------------------------------------------------------------


def when(value: str) -> dt.date:
    """A date: 2025-03-14, ``today``, ``today-N`` or ``today+N`` (planned dates lie ahead)."""
    if value.startswith("today+"):
        try:
            return timezone.localdate() + dt.timedelta(days=int(value.removeprefix("today+")))
        except ValueError:
            pass
    else:
        try:
            return day(value)
        except ValueError:
            pass
    raise ValueError(f"“{value}”不是日期（应为 2025-03-14、today-30 或 today+30 这样的写法）")


def amount(value: str) -> Decimal:
    """A number not below zero: money in yuan, an indicator's target, weight or actual."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"“{value}”不是数字") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"“{value}”应为不小于 0 的数字")
    return number


def need_refs(value: str) -> tuple[tuple[str, str], ...]:
    """Demo needs as ``手机号码 诉求标题``, separated by ； (or ; or a line break)."""
    refs = []
    for part in (p.strip() for p in re.split(r"[；;\n]", value)):
        if not part:
            continue
        number, _, title = part.partition(" ")
        if not title.strip():
            raise ValueError(f"“{part}”应写成“提出人手机号码 诉求标题”")
        refs.append((mobile(number), title.strip()))
    if not refs:
        raise ValueError("至少填写一件诉求（服务项目由诉求提出）")
    return tuple(refs)


PROJECT_COLUMNS = (
    Column("title"),
    Column("kind", choice(ServiceProject.Kind)),
    Column("area", ref(ServiceArea)),
    Column("beneficiary", choice(ServiceProject.Beneficiary)),
    Column("street", ref(Street), required=False, default=None),
    Column("workstation", ref(Workstation), required=False, default=None),
    Column("lead", username),
    Column("approver", username, required=False),
    Column("state", choice(Status)),
    Column("proposed_on", when),
    Column("approved_on", when, required=False, default=None),
    Column("started_on", when, required=False, default=None),
    Column("assessed_on", when, required=False, default=None),
    Column("decided_on", when, required=False, default=None),
    Column("rewarded_on", when, required=False, default=None),
    Column("planned_start", when),
    Column("planned_end", when),
    Column("budget", amount),
    Column("spent", amount, required=False, default=None),
    Column("overspend_reason", required=False),
    Column("attendance", integer, required=False, default=None),
    Column("needs", need_refs),
    Column("summary"),
    Column("standard"),
    Column("result", required=False),
    Column("cancel_reason", required=False),
)
INDICATOR_COLUMNS = (
    Column("project"),
    Column("name"),
    Column("target", amount),
    Column("unit"),
    Column("weight", amount),
    Column("actual", amount, required=False, default=None),
)
UPDATE_COLUMNS = (
    Column("project"),
    Column("on", when),
    Column("percent", integer),
    Column("photos", integer),
    Column("text"),
)
REVIEW_COLUMNS = (
    Column("project"),
    Column("reviewer", username),
    Column("verdict", choice(Review.Verdict)),
    Column("score", amount),
    Column("comments"),
)
REWARD_COLUMNS = (
    Column("project"),
    Column("kind", choice(Reward.Kind)),
    Column("workstation", ref(Workstation), required=False, default=None),
    Column("cadre", username, required=False),
    Column("amount", amount, required=False, default=Decimal("0")),
    Column("reason"),
)

# How far along each state is: which dates, files and service calls it needs.
STAGE = {
    Status.PROPOSED: 0,
    Status.APPROVED: 1,
    Status.IN_PROGRESS: 2,
    Status.ASSESSED: 3,
    Status.ACCEPTED: 4,
    Status.FAILED: 4,
    Status.REWARDED: 5,
}
RESOLVING = {Status.ACCEPTED, Status.REWARDED}  # the linked needs are resolved
DAYS = ("proposed_on", "approved_on", "started_on", "assessed_on", "decided_on", "rewarded_on")
MAX_PHOTOS = 3
# The daily escalate_overdue run (auto-closing unrated needs), as in the needs step.
DAILY_RUN = dt.time(7, 0)
READ_AFTER = dt.timedelta(days=3)


# --- one project's plan -----------------------------------------------------------------


@dataclass
class _Step:
    at: dt.datetime
    name: str
    run: Callable[[], None]
    row: Row


@dataclass
class _Plan:
    row: Row
    indicators: list[Row] = field(default_factory=list)
    updates: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    rewards: list[Row] = field(default_factory=list)
    steps: list[_Step] = field(default_factory=list)
    times: dict[str, dt.datetime] = field(default_factory=dict)
    project: ServiceProject | None = None

    @property
    def title(self) -> str:
        return self.row["title"]


def _require(row: Row, state: str, columns: dict[str, bool | None]) -> None:
    for column, wanted in columns.items():
        if wanted is None:
            continue  # optional in this state
        given = row[column] not in ("", None)
        if given != wanted:
            verb = "必须填写" if wanted else "应留空"
            raise row.error(f"state 为 {state} 时，{column} {verb}")


def _check(plan: _Plan) -> None:
    """The rules a project's lines must follow whatever day it is loaded (else: file and line)."""
    row = plan.row
    state = row["state"]
    cancelled = state == Status.CANCELLED
    stage = -1 if cancelled else STAGE[state]
    _require(
        row,
        state,
        {
            "approved_on": None if cancelled else stage >= 1,
            "started_on": stage >= 2,
            "assessed_on": stage >= 3,
            "spent": stage >= 3,
            "result": stage >= 3,
            "decided_on": stage >= 4 or cancelled,
            "rewarded_on": stage >= 5,
            "cancel_reason": cancelled,
        },
    )
    if row["attendance"] is not None and stage < 3:
        raise row.error("attendance（验收材料中的参与人数）只用于已考核的项目")
    if (row["street"] is None) == (row["workstation"] is None):
        raise row.error("street、workstation 两列必须且只能填写一列（承办的街道或工作站）")
    spent = row["spent"] or Decimal("0")
    if spent > row["budget"] and not row["overspend_reason"]:
        raise row.error("spent 超过 budget，须填写 overspend_reason（超支说明）")
    if spent <= row["budget"] and row["overspend_reason"]:
        raise row.error("没有超支时 overspend_reason 应留空")
    if row["planned_end"] < row["planned_start"]:
        raise row.error("planned_end 不能早于 planned_start")
    days = [row[c] for c in DAYS if row[c] is not None]
    if days != sorted(days):
        raise row.error("日期顺序应为 " + " ≤ ".join(DAYS))
    if days[-1] > timezone.localdate():
        raise row.error(
            f"{'、'.join(DAYS)} 不能晚于今天（计划日期写在 planned_start / planned_end）"
        )

    if not plan.indicators:
        raise row.error("没有考核指标：在 project_indicators.csv 中至少为它写一行")
    for indicator in plan.indicators:
        if (indicator["actual"] is not None) != (stage >= 3):
            verb = "必须填写" if stage >= 3 else "应留空"
            raise indicator.error(f"项目 state 为 {state}，actual（实际值）{verb}")
    last = None
    for update in plan.updates:
        if row["started_on"] is None:
            raise update.error(f"项目 state 为 {state}，尚未开始实施，不能有进展")
        end = row["assessed_on"] or timezone.localdate()
        if not row["started_on"] <= update["on"] <= end:
            raise update.error("进展日期应在项目 started_on 与 assessed_on（或今天）之间")
        if not 0 <= update["percent"] <= 100:
            raise update.error("percent 应为 0–100")
        if not 0 <= update["photos"] <= MAX_PHOTOS:
            raise update.error(f"photos 应为 0–{MAX_PHOTOS}（生成的示意照片张数）")
        if last is not None and (update["on"], update["percent"]) < (last["on"], last["percent"]):
            raise update.error("同一项目的进展应按日期先后排列，进度不能回退")
        last = update
    if stage >= 2 and not plan.updates:
        raise row.error("实施中及以后的项目至少要有一条进展（project_updates.csv）")
    if (stage >= 4) != bool(plan.reviews):
        if plan.reviews:
            raise plan.reviews[0].error(f"项目 state 为 {state}，还不能验收")
        raise row.error("验收过的项目须在 project_reviews.csv 中写明验收意见")
    reviewers = [r["reviewer"] for r in plan.reviews]
    if len(set(reviewers)) != len(reviewers):
        raise plan.reviews[-1].error("同一考核人员对同一项目只能验收一次")
    if (stage >= 5) != bool(plan.rewards):
        if plan.rewards:
            raise plan.rewards[0].error(f"项目 state 为 {state}，未获奖励")
        raise row.error("state 为 rewarded 时须在 project_rewards.csv 中写明奖励")
    for reward in plan.rewards:
        if (reward["workstation"] is None) == (not reward["cadre"]):
            raise reward.error("workstation、cadre 两列必须且只能填写一列（获奖的工作站或干部）")


# --- moments of the demo's history ------------------------------------------------------


class _Backdate:
    """Give the rows a service call just wrote the moment it happened in the demo's history.

    Every moment of the history lies before ``now`` (when the load started), and a
    service stamps what it writes with the real clock, so the timestamps at or
    after ``now`` are exactly those of the call just run: one UPDATE per column.
    """

    COLUMNS = (
        (ServiceProject, "created_at"),
        (ServiceProject, "updated_at"),
        (ProjectEvent, "created_at"),
        (ProjectNeed, "linked_at"),
        (ProgressUpdate, "created_at"),
        (Evidence, "uploaded_at"),
        (Review, "created_at"),
        (Reward, "awarded_at"),
        (NeedEvent, "created_at"),
        (Need, "updated_at"),
        (Need, "accepted_at"),
        (Need, "resolved_at"),
        (Notification, "created_at"),
    )

    def __init__(self, now: dt.datetime):
        self.now = now

    def stamp(self, moment: dt.datetime) -> None:
        for model, column in self.COLUMNS:
            values = {column: moment}
            if model is Notification and moment < self.now - READ_AFTER:
                values["read_at"] = moment + dt.timedelta(hours=2)
            model.objects.filter(**{f"{column}__gte": self.now}).update(**values)


def _first_run_after(moment: dt.datetime) -> dt.datetime:
    """The first daily escalate_overdue run (07:00) after ``moment``."""
    local = timezone.localtime(moment)
    run = timezone.make_aware(dt.datetime.combine(local.date(), DAILY_RUN))
    return run if run > moment else run + dt.timedelta(days=1)


# --- generated progress photos ----------------------------------------------------------

SKIES = ((176, 212, 238), (199, 222, 240), (222, 230, 236), (250, 214, 165), (186, 220, 206))
GROUNDS = ((120, 120, 118), (160, 150, 130), (96, 140, 86), (182, 176, 160))
BUILDINGS = ((214, 206, 190), (170, 178, 190), (232, 226, 214), (150, 120, 100), (198, 96, 70))
CLOTHES = ((200, 40, 40), (30, 90, 170), (240, 170, 30), (40, 130, 90), (90, 90, 100))
SKIN = (236, 196, 160)
WINDOW = (90, 120, 150)
BANNER = (200, 30, 36)


def photo(seed: int) -> ContentFile:
    """A small made-up scene (buildings, a red banner, people), 320×200 JPEG; no text."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 200), rng.choice(SKIES))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(112, 140)
    draw.rectangle((0, horizon, 320, 200), fill=rng.choice(GROUNDS))
    x = rng.randint(-20, 6)
    while x < 320:
        width, height = rng.randint(34, 72), rng.randint(36, 96)
        top = horizon - height
        draw.rectangle((x, top, x + width, horizon), fill=rng.choice(BUILDINGS))
        for wy in range(top + 8, horizon - 10, 14):
            for wx in range(x + 6, x + width - 8, 12):
                draw.rectangle((wx, wy, wx + 5, wy + 7), fill=WINDOW)
        x += width + rng.randint(4, 18)
    left = rng.randint(30, 170)
    draw.rectangle((left, horizon - 30, left + rng.randint(90, 130), horizon - 14), fill=BANNER)
    for _ in range(rng.randint(4, 10)):
        px, py = rng.randint(12, 308), rng.randint(horizon + 16, 186)
        draw.rounded_rectangle(
            (px - 7, py - 12, px + 7, py + 12), radius=4, fill=rng.choice(CLOTHES)
        )
        draw.ellipse((px - 5, py - 24, px + 5, py - 14), fill=SKIN)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return ContentFile(buffer.getvalue(), name=f"demo-{seed & 0xFFFFFFFF:08x}.jpg")


# --- the replay -------------------------------------------------------------------------


class _People:
    """Accounts by username and the cadres a project falls back on."""

    def __init__(self):
        self.users: dict[str, object] = {}
        self.posts: dict[tuple[str, int], object] = {}

    def user(self, row: Row, login: str, column: str):
        if login not in self.users:
            self.users[login] = get_user_model().objects.filter(username=login).first()
        if self.users[login] is None:
            raise row.error(f"{column}：找不到账号“{login}”（见 cadres.csv）")
        return self.users[login]

    def first_cadre(self, row: Row, **node):
        key = next(iter(node.items()))
        if key not in self.posts:
            post = (
                CadreAssignment.objects.active()
                .filter(role=CadreAssignment.Role.CADRE, **node)
                .order_by("id")
                .select_related("user")
                .first()
            )
            self.posts[key] = post.user if post else None
        if self.posts[key] is None:
            raise row.error(
                f"找不到{'街道' if 'street_id' in node else '县区'}工会干部（见 cadres.csv）"
            )
        return self.posts[key]


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "；".join(
                f"{k}：{'，'.join(v)}" if k != "__all__" else "，".join(v)
                for k, v in error.message_dict.items()
            )
        return "；".join(error.messages)
    return str(error)


def _local_day(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}"


class _ProjectLoader:
    """Plans each project's history, then replays it through the services."""

    def __init__(self, ctx: SeedContext):
        self.now = ctx.now
        self.people = _People()
        self.backdate = _Backdate(ctx.now)
        self.rate_days = deadlines.working_days_for(TimeLimit.Stage.RATE)
        self.photos = 0

    # --- planning --------------------------------------------------------------------

    def plan(self, plan: _Plan) -> None:
        row = plan.row
        state = row["state"]
        street = row["workstation"].street if row["workstation"] else row["street"]
        lead = self.people.user(row, row["lead"], "lead")
        approver = (
            self.people.user(row, row["approver"], "approver")
            if row["approver"]
            else self.people.first_cadre(row, street_id=street.pk)
        )
        clock = HistoryClock(self.now, zlib.crc32(plan.title.encode()))
        t = plan.times
        t["propose"] = clock.on(row["proposed_on"], dt.time(9, 0), 150)
        if row["approved_on"]:
            t["approve"] = clock.on(row["approved_on"], dt.time(10, 0), 360, bits=3)
        if row["started_on"]:
            t["start"] = clock.on(row["started_on"], dt.time(8, 30), 60, bits=5)
        for i, update in enumerate(plan.updates):
            t[f"update{i}"] = clock.on(update["on"], dt.time(15, 0), 150, bits=7 + i)
        if row["assessed_on"]:
            t["assess"] = clock.on(row["assessed_on"], dt.time(10, 0), 300, bits=9)
        for i, _review in enumerate(plan.reviews):  # a panel sits one after another
            t[f"review{i}"] = (
                clock.on(row["decided_on"], dt.time(9, 30), 45, bits=11)
                if i == 0
                else clock.take(clock.last + dt.timedelta(minutes=40 + 13 * i))
            )
        if state == Status.CANCELLED:
            t["cancel"] = clock.on(row["decided_on"], dt.time(16, 0), 60, bits=11)
        for i, _reward in enumerate(plan.rewards):
            t[f"reward{i}"] = clock.on(row["rewarded_on"], dt.time(10, 30), 60, bits=13 + i)
        if plan.reviews:
            t["decide"] = t[f"review{len(plan.reviews) - 1}"]

        def add(name: str, run: Callable[[], None], at: dt.datetime | None = None, on=row):
            plan.steps.append(_Step(t[name] if at is None else at, name, run, on))

        add("propose", lambda: self.propose(plan, lead))
        if "approve" in t:
            add("approve", lambda: services.project_approve(project=plan.project, by=approver))
        if "start" in t:
            add(
                "start",
                lambda: services.project_start(project=plan.project, by=lead, on=row["started_on"]),
            )
        for i, update in enumerate(plan.updates):
            add(f"update{i}", lambda i=i, u=update: self.progress(plan, lead, i, u), on=update)
        if "assess" in t:
            add("assess", lambda: self.assess(plan, lead))
        for i, review in enumerate(plan.reviews):
            add(f"review{i}", lambda r=review, i=i: self.review(plan, r, i), on=review)
        if state in RESOLVING:
            closing = _first_run_after(add_working_days(t["decide"], self.rate_days))
            if closing < self.now:
                add("auto_close", lambda at=closing: self.auto_close(plan, at), at=closing)
        if "cancel" in t:
            add("cancel", lambda: self.cancel(plan, lead))
        if plan.rewards:
            district_cadre = self.people.first_cadre(row, district_id=street.district_id)
            for i, reward in enumerate(plan.rewards):
                add(
                    f"reward{i}",
                    lambda r=reward: self.reward(plan, r, district_cadre),
                    on=reward,
                )
        plan.steps.sort(key=lambda step: step.at)

    # --- the service calls ------------------------------------------------------------

    def _needs(self, plan: _Plan, project_street, workstation) -> list[Need]:
        """The demo needs on the line, checked to fit the project and its history."""
        row, t = plan.row, plan.times
        needs = []
        for number, title in row["needs"]:
            need = (
                Need.objects.filter(submitter__mobile=number, title=title)
                .select_related("workstation", "area")
                .order_by("created_at", "id")
                .first()
            )
            what = f"诉求“{title}”（{number}）"
            if need is None:
                raise row.error(f"needs：找不到{what}（见 needs.csv）")
            if need.area_id != row["area"].pk:
                raise row.error(f"needs：{what}的服务领域是“{need.area.name}”，与项目不同")
            inside = (
                need.workstation_id == workstation.pk
                if workstation
                else need.workstation.street_id == project_street.pk
            )
            if not inside:
                raise row.error(f"needs：{what}属于{need.workstation.name}，不在项目承办范围内")
            if need.status not in OPEN_STATUSES:
                raise row.error(f"needs：{what}当前为“{need.get_status_display()}”，不能纳入项目")
            if ProjectNeed.objects.filter(need=need).exists():
                raise row.error(f"needs：{what}已属于其他服务项目")
            events = list(need.events.values_list("created_at", "from_status", "to_status"))
            last_any = max(e[0] for e in events)
            last_change = max(e[0] for e in events if e[1] != e[2])
            # An open need joins as it stands: its timeline must not change status later.
            limit = last_change if need.status == NeedStatus.IN_PROGRESS else last_any
            if limit >= t["propose"]:
                raise row.error(
                    f"needs：{what}在 {_local_day(limit)} 还有状态变化，晚于项目立项"
                    f"（{_local_day(t['propose'])}），请把 proposed_on 放在其后"
                )
            if row["state"] in RESOLVING and last_any >= t["decide"]:
                raise row.error(
                    f"needs：{what}在 {_local_day(last_any)} 还有办理记录（如督办），"
                    f"晚于项目验收（{_local_day(t['decide'])}），请把 decided_on 放在其后"
                )
            needs.append(need)
        return needs

    def propose(self, plan: _Plan, lead) -> None:
        row, moment = plan.row, plan.times["propose"]
        street = row["workstation"].street if row["workstation"] else row["street"]
        needs = self._needs(plan, street, row["workstation"])
        waiting = [n for n in needs if n.status == NeedStatus.SUBMITTED]
        project = services.project_create_from_needs(
            needs=needs,
            by=lead,
            title=row["title"],
            summary=row["summary"],
            kind=row["kind"],
            area=row["area"],
            beneficiary=row["beneficiary"],
            street=street,
            workstation=row["workstation"],
            lead=lead,
            planned_start=row["planned_start"],
            planned_end=row["planned_end"],
            budget=row["budget"],
        )
        plan.project = project
        # What the cadre then writes on the project's page: the standard, the panel size
        # and the indicators (approval refuses a project without them).
        project.standard = row["standard"]
        project.panel_size = max(1, len(plan.reviews))
        project.full_clean(exclude=["number"])
        project.save(update_fields=["standard", "panel_size", "updated_at"])
        for order, line in enumerate(plan.indicators, start=1):
            indicator = Indicator(
                project=project,
                name=line["name"],
                target=line["target"],
                unit=line["unit"],
                weight=line["weight"],
                order=order,
            )
            try:
                indicator.full_clean()
            except ValidationError as error:
                raise line.error(_message(error)) from None
            indicator.save()
        for need in waiting:  # accepted by the project at this moment
            Need.objects.filter(pk=need.pk).update(accepted_late=moment > need.accept_due)

    def progress(self, plan: _Plan, lead, index: int, line: Row) -> None:
        seeds = (zlib.crc32(f"{plan.title}|{index}|{k}".encode()) for k in range(line["photos"]))
        photos = [photo(seed) for seed in seeds]
        services.project_post_progress(
            project=plan.project, by=lead, text=line["text"], percent=line["percent"], photos=photos
        )
        self.photos += len(photos)

    def assess(self, plan: _Plan, lead) -> None:
        row, project = plan.row, plan.project
        actuals = {
            indicator.pk: line["actual"]
            for indicator, line in zip(
                project.indicators.order_by("order"), plan.indicators, strict=True
            )
        }
        project = services.project_assess(
            project=project,
            by=lead,
            actuals=actuals,
            result=row["result"],
            spent=row["spent"],
            overspend_reason=row["overspend_reason"],
            finished_on=row["assessed_on"],
        )
        plan.project = project
        # The evidence pack the reviewers see (验收材料).
        evidence = []
        if row["attendance"] is not None:
            evidence += [
                Evidence(
                    kind=Evidence.Kind.ATTENDANCE,
                    attendance=row["attendance"],
                    note="活动签到表（原件存档）",
                ),
                Evidence(
                    kind=Evidence.Kind.SIGNOFF,
                    note=f"受益职工签字确认表，共 {row['attendance']} 人次",
                ),
            ]
        spent_note = f"预算 {project.budget} 元，实际支出 {project.spent} 元"
        if project.overspend_reason:
            spent_note += "，超支说明见项目"
        evidence.append(Evidence(kind=Evidence.Kind.BUDGET, note=spent_note))
        evidence.append(
            Evidence(
                kind=Evidence.Kind.PHOTO,
                file=photo(zlib.crc32(f"{plan.title}|evidence".encode())),
                note="验收现场照片",
            )
        )
        for item in evidence:
            item.project, item.uploaded_by = project, lead
            item.full_clean()
            item.save()

    def _return_needs(self, plan: _Plan, moment: dt.datetime) -> None:
        """Needs handed back to the cadres get a new resolution limit from that moment."""
        returned = Need.objects.filter(project_link__project=plan.project, status__in=OPEN_STATUSES)
        for need in returned:
            due = deadlines.due(
                TimeLimit.Stage.RESOLVE, moment, kind=need.kind, urgency=need.urgency
            )
            Need.objects.filter(pk=need.pk).update(resolve_due=due)

    def review(self, plan: _Plan, line: Row, index: int) -> None:
        reviewer = self.people.user(line, line["reviewer"], "reviewer")
        services.project_review(
            project=plan.project,
            reviewer=reviewer,
            verdict=line["verdict"],
            score=line["score"],
            comments=line["comments"],
        )
        if index == len(plan.reviews) - 1:
            plan.project.refresh_from_db()
            if plan.project.status == Status.FAILED:
                self._return_needs(plan, plan.times[f"review{index}"])

    def auto_close(self, plan: _Plan, at: dt.datetime) -> None:
        """Resolved by the project and never rated: the daily run closes them."""
        for need in Need.objects.filter(
            project_link__project=plan.project, status=NeedStatus.RESOLVED
        ):
            need_services.need_auto_close(need=need, at=at)

    def cancel(self, plan: _Plan, lead) -> None:
        services.project_cancel(project=plan.project, by=lead, reason=plan.row["cancel_reason"])
        self._return_needs(plan, plan.times["cancel"])

    def reward(self, plan: _Plan, line: Row, by) -> None:
        cadre = self.people.user(line, line["cadre"], "cadre") if line["cadre"] else None
        services.project_reward(
            project=plan.project,
            by=by,
            kind=line["kind"],
            reason=line["reason"],
            amount=line["amount"],
            workstation=line["workstation"],
            cadre=cadre,
        )

    # --- replaying -------------------------------------------------------------------

    def replay(self, plan: _Plan) -> None:
        for step in plan.steps:
            try:
                step.run()
            except (
                ValidationError,
                PermissionDenied,
                TransitionNotAllowed,
                NeedTransitionNotAllowed,
            ) as error:
                raise step.row.error(f"无法执行“{step.name}”：{_message(error)}") from None
            self.backdate.stamp(step.at)
        status = ServiceProject.objects.values_list("status", flat=True).get(pk=plan.project.pk)
        if status != plan.row["state"]:
            raise plan.row.error(
                f"重放后的状态为 {status}，与 state {plan.row['state']} 不符"
                "（验收结论和评分决定通过与否：多数通过且平均分不低于 60）"
            )


# --- the step ---------------------------------------------------------------------------


def _read(ctx: SeedContext) -> list[_Plan]:
    """Every line of the project files, grouped by project and checked."""
    plans: dict[str, _Plan] = {}
    claimed: dict[tuple[str, str], int] = {}
    for row in ctx.read("demo/projects.csv", PROJECT_COLUMNS):
        if row["title"] in plans:
            raise row.error(f"项目名称与第 {plans[row['title']].row.line} 行重复")
        for ref_ in row["needs"]:
            if ref_ in claimed:
                raise row.error(
                    f"needs：诉求“{ref_[1]}”（{ref_[0]}）已由第 {claimed[ref_]} 行的项目关联"
                )
            claimed[ref_] = row.line
        plans[row["title"]] = _Plan(row)
    for file, columns, attr in (
        ("demo/project_indicators.csv", INDICATOR_COLUMNS, "indicators"),
        ("demo/project_updates.csv", UPDATE_COLUMNS, "updates"),
        ("demo/project_reviews.csv", REVIEW_COLUMNS, "reviews"),
        ("demo/project_rewards.csv", REWARD_COLUMNS, "rewards"),
    ):
        for row in ctx.read(file, columns):
            plan = plans.get(row["project"])
            if plan is None:
                raise row.error(f"project：projects.csv 中没有名为“{row['project']}”的项目")
            getattr(plan, attr).append(row)
    for plan in plans.values():
        _check(plan)
    return list(plans.values())


def _summary(titles: list[str], loader: _ProjectLoader) -> str:
    projects = ServiceProject.objects.filter(title__in=titles)
    by_status = Counter(projects.values_list("status", flat=True))
    statuses = "，".join(f"{Status(s).label} {by_status[s]}" for s in Status.values if by_status[s])
    links = ProjectNeed.objects.filter(project__in=projects)
    resolved = links.filter(need__events__action="resolve", need__events__actor="project").count()
    return (
        f"服务项目 {sum(by_status.values())} 个：{statuses}；关联诉求 {links.count()} 件"
        f"（随项目验收办结 {resolved} 件）；进展 "
        f"{ProgressUpdate.objects.filter(project__in=projects).count()} 条、"
        f"照片 {loader.photos} 张（本次生成）；验收评审 "
        f"{Review.objects.filter(project__in=projects).count()} 次；奖励 "
        f"{Reward.objects.filter(project__in=projects).count()} 项"
    )


@demo_step(order=200, name="projects")
def load_projects(ctx: SeedContext) -> None:
    """Demo service projects (seeds/demo/projects.csv and project_*.csv), replayed.

    A project is matched by its title: one already in the database is left
    exactly as it is (cadres and reviewers may have moved it on), so a second
    load changes nothing. A new one is proposed from the demo needs on its line,
    given its standard and indicators, approved, started, posted progress with
    generated photos, assessed, reviewed, rewarded or cancelled through
    ``apps.projects.services`` on the days the line gives; its linked needs
    follow it (resolved when it is accepted — and auto-closed by the daily run
    when their workers never rated —, handed back when it fails or is cancelled).
    """
    plans = _read(ctx)
    existing = set(
        ServiceProject.objects.filter(title__in=[p.title for p in plans]).values_list(
            "title", flat=True
        )
    )
    loader = _ProjectLoader(ctx)
    new = []
    for plan in plans:
        if plan.title in existing:
            ctx.count("服务项目", "unchanged")
            continue
        loader.plan(plan)
        new.append(plan)
        ctx.count("服务项目", "created")
    # Oldest first, so project numbers follow the order the projects were proposed.
    for plan in sorted(new, key=lambda p: p.times["propose"]):
        loader.replay(plan)
    ctx.notes.append(_summary([p.title for p in plans], loader))
    by_street = Counter(
        ServiceProject.objects.filter(title__in=[p.title for p in plans])
        .order_by("street__order")
        .values_list("street__name", flat=True)
    )
    ctx.notes.append("其中" + "，".join(f"{name} {n} 个" for name, n in by_street.items()))
