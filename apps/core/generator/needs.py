"""Needs and their whole history, generated day by day in the order they were raised.

Each need lives its life forward from the moment it is raised: triage (accept,
reject, merge into an earlier need of its workstation), handling (start, replies,
referrals, resolution), the worker's rating (satisfied closes it, dissatisfied
reopens it) or the daily run's auto-close, withdrawal, and the daily run's
reminders and escalations (督办) where its limits ran out — all of it by the rules
of ``apps.needs.workflow`` and ``apps.needs.services``, with the limits computed as
``apps.needs.deadlines`` computes them. A need that joins a service project follows
the project from its proposal on. Whatever lies after ``now`` has not happened yet:
that is what leaves recent needs open, and some of them overdue.
"""

from __future__ import annotations

import bisect
import collections
import math
import time

from apps.needs import deadlines
from apps.needs.models import (
    Channel,
    Need,
    NeedEvent,
    Rating,
    Referral,
    ReplyTemplate,
    Support,
    TimeLimit,
    need_number,
)
from apps.needs.seeding import REFER_FOLLOW_UP, REFER_NOTES
from apps.needs.workflow import TRANSITIONS, Action, Actor, Status
from apps.projects.workflow import Status as ProjectStatus

from . import words
from .calendar import DAILY_RUN_S, DAY, END_OF_DAY_S, HOUR, MINUTE, WORK_START_S
from .common import BENCH_NEEDS, Picker, allocate, recency
from .projects import Projects
from .writer import GeneratorError

# Plain strings: the rows carry them as they are.
SUBMITTED, ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED, REJECTED, MERGED, WITHDRAWN = (
    s.value for s in Status
)
SUBMIT, ACCEPT, REJECT, MERGE, START, REPLY, NOTE, REFER, RESOLVE = (
    Action.SUBMIT.value, Action.ACCEPT.value, Action.REJECT.value, Action.MERGE.value,
    Action.START.value, Action.REPLY.value, Action.NOTE.value, Action.REFER.value,
    Action.RESOLVE.value,
)  # fmt: skip
CONFIRM, REOPEN, AUTO_CLOSE, WITHDRAW, ESCALATE, REMIND, PUBLISH, SUPPORT_MOVED = (
    Action.CONFIRM.value, Action.REOPEN.value, Action.AUTO_CLOSE.value, Action.WITHDRAW.value,
    Action.ESCALATE.value, Action.REMIND.value, Action.PUBLISH.value, Action.SUPPORT_MOVED.value,
)  # fmt: skip
WORKER, CADRE, SYSTEM, PROJECT = (a.value for a in Actor)
# The state machine as plain data: action → (sources, target, public, allowed actors).
MACHINE = {
    action.value: (
        frozenset(s.value for s in t.sources),
        t.target.value if t.target is not None else None,
        t.public,
        frozenset({t.actor.value} | ({PROJECT} if t.by_project else set())),
    )
    for action, t in TRANSITIONS.items()
}
NOT_MERGEABLE = frozenset({MERGED, REJECTED, WITHDRAWN})
# Order of same-moment events in a need's life.
RANK = {
    SUBMIT: 0, REJECT: 1, MERGE: 1, ACCEPT: 1, PUBLISH: 3, START: 4, REFER: 5, NOTE: 6,
    REPLY: 7, RESOLVE: 8, CONFIRM: 9, REOPEN: 9, AUTO_CLOSE: 9, WITHDRAW: 9, REMIND: 10,
    ESCALATE: 11,
}  # fmt: skip
RIGHTS = {"L": "labour_economic", "D": "democratic_political", "O": "other"}
URGENCY = (("normal", 85), ("urgent", 12), ("special", 3))
OFFLINE = (("visit", 40), ("hotline", 35), ("forum", 15), ("letter", 10))
REFER_DETAIL = {
    Referral.Target.ARBITRATION: f"{words.DISTRICT_NAME}劳动人事争议仲裁院",
    Referral.Target.INSPECTION: f"{words.DISTRICT_NAME}劳动保障监察大队",
    Referral.Target.LEGAL_AID: f"{words.DISTRICT_NAME}法律援助中心",
    Referral.Target.COURT: f"{words.DISTRICT_NAME}人民法院",
    Referral.Target.OTHER: f"{words.DISTRICT_NAME}人力资源和社会保障局",
}
AMOUNTS = ("3,600", "5,800", "8,200", "12,500", "16,000", "24,000", "31,000")
# The hours a worker is online, by weight (local time).
ONLINE_HOURS = Picker(range(24), (0, 0, 0, 0, 0, 0, 1, 3, 6, 9, 10, 9, 6, 7, 8, 8, 7, 6, 6, 8,
                                  9, 7, 4, 1))  # fmt: skip
NEED_COLUMNS = (
    "id", "number", "submitter_id", "workstation_id", "unit_id", "kind", "area_id",
    "rights_type", "channel_id", "title", "description", "urgency", "confidential",
    "follow_up_consent", "status", "handler_id", "merged_into_id", "resolution",
    "rejection_reason", "recorded_by_id", "is_public", "public_title", "public_summary",
    "support_count", "created_at", "accepted_at", "resolved_at", "closed_at", "auto_closed",
    "accept_due", "resolve_due", "accepted_late", "resolved_late", "escalation", "escalated_at",
    "reminded_at", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "need_id", "action", "actor", "by_id", "from_status", "to_status", "public_note",
    "internal_note", "is_public", "created_at",
)  # fmt: skip
# Progress lines while the needs are generated.
PROGRESS_STEPS = 10
ESCALATION_NOTES = {
    1: "诉求已超过办理时限，已提请街道工会督办。",
    2: "诉求已超过办理时限，已提请县区工会督办。",
}
AUTO_CLOSE_NOTE = "办结后在规定时间内未收到评价，诉求已自动完结。如问题仍未解决，可重新提出诉求。"


class Life:
    """What is known about one need while its history is generated."""

    __slots__ = (
        "id", "number", "t0", "kind", "urgency", "resolve_days", "member", "user", "cadre",
        "events", "phases", "handler", "accepted_at", "accepted_late",
        "resolve_due", "resolved_at", "resolved_late", "closed_at", "auto_closed", "resolution",
        "rejection_reason", "merged_into", "is_public", "public_title", "public_summary",
        "topic", "values", "wsi", "supporters", "escalation", "escalated_at", "reminded_at",
    )  # fmt: skip

    def __init__(self):
        self.events = []
        self.phases = []
        self.handler = None
        self.accepted_at = None
        self.accepted_late = False
        self.resolve_due = None
        self.resolved_at = None
        self.resolved_late = False
        self.closed_at = None
        self.auto_closed = False
        self.resolution = ""
        self.rejection_reason = ""
        self.merged_into = None
        self.is_public = False
        self.public_title = ""
        self.public_summary = ""
        self.supporters = set()
        self.escalation = 0
        self.escalated_at = None
        self.reminded_at = None


class Recent:
    """A need kept for a while as a merge target: its status over time and its supporters."""

    __slots__ = ("id", "number", "area", "submitter", "times", "statuses", "supporters")

    def status_at(self, t: int) -> str:
        return self.statuses[bisect.bisect_right(self.times, t) - 1]


class Needs:
    def __init__(self, gen):
        self.gen = gen
        self.rng = gen.rng("needs")
        self.cal, self.now, self.stamp = gen.cal, gen.now, gen.stamp
        w = gen.writer
        self.t_need = w.table(Need, NEED_COLUMNS)
        self.t_event = w.table(NeedEvent, EVENT_COLUMNS)
        self.t_support = w.table(Support, ("id", "need_id", "member_id", "created_at"))
        self.t_rating = w.table(
            Rating, ("id", "need_id", "outcome", "score", "comment", "created_at")
        )
        self.t_referral = w.table(
            Referral,
            ("id", "need_id", "target", "target_detail", "state", "follow_up", "created_at",
             "created_by_id"),
        )  # fmt: skip
        self.projects = Projects(gen)
        self.by_status: collections.Counter = collections.Counter()
        # The district's limits, looked up once per kind and urgency (deadlines' rules).
        rules = {stage: deadlines.stage_rules(stage) for stage in TimeLimit.Stage.values}
        self.accept_days, self.resolve_days = {}, {}
        for kind in Need.Kind.values:
            for urgency, _ in URGENCY:
                self.accept_days[kind, urgency] = deadlines.working_days_for(
                    TimeLimit.Stage.ACCEPT, kind, urgency, rules=rules[TimeLimit.Stage.ACCEPT]
                )
                self.resolve_days[kind, urgency] = deadlines.working_days_for(
                    TimeLimit.Stage.RESOLVE, kind, urgency, rules=rules[TimeLimit.Stage.RESOLVE]
                )
        self.rate_days = deadlines.working_days_for(
            TimeLimit.Stage.RATE, rules=rules[TimeLimit.Stage.RATE]
        )
        self.escalate_days = deadlines.working_days_for(
            TimeLimit.Stage.ESCALATE, rules=rules[TimeLimit.Stage.ESCALATE]
        )
        channels = {c.code: c for c in Channel.objects.all()}
        self.online = channels[Channel.ONLINE]
        offline = [(channels[code], weight) for code, weight in OFFLINE if code in channels]
        offline += [
            (c, 5) for c in channels.values() if not c.is_online and c.code not in dict(OFFLINE)
        ]
        self.offline = Picker([c for c, _ in offline], [w for _, w in offline])
        self.urgency = Picker([u for u, _ in URGENCY], [w for _, w in URGENCY])
        accept_notes = {}
        for template in ReplyTemplate.objects.filter(action=Action.ACCEPT, is_active=True).order_by(
            "kind", "title"
        ):
            accept_notes.setdefault(template.kind, template.body)
        self.accept_note = {
            kind: accept_notes.get(kind)
            or accept_notes.get("")
            or "您的诉求已受理，我们会尽快办理。"
            for kind in Need.Kind.values
        }
        self.recent = [collections.deque(maxlen=40) for _ in gen.workstations]

    # --- the stream ----------------------------------------------------------------

    def run(self) -> None:
        gen, rng, cal, now = self.gen, self.rng, self.cal, self.now
        total = gen.sizes.needs
        first_day = cal.day(gen.window_start)
        last_day = cal.day(now)
        days = range(first_day, last_day + 1)
        span = last_day - first_day + 1
        weights = []
        for i, day in enumerate(days):
            weight = math.exp(1.1 * i / span) * (1.0 if cal.is_working_day(day) else 0.45)
            if day == last_day:
                weight *= (now - cal.midnight[day]) / DAY
            weights.append(weight)
        counts = allocate(total - BENCH_NEEDS, weights)
        bench = [0] * span
        bench_rng = gen.rng("bench-worker")
        for k in range(BENCH_NEEDS):
            # A fifth raised in the last three weeks: some of them are still open.
            x = 1 - bench_rng.random() * 21 / span if k % 5 == 0 else recency(bench_rng, 1.2)
            bench[min(int(x * span), span - 1)] += 1
        # Seeds of service projects: needs raised at least five days ago (a project is
        # proposed two days to six weeks after its seed, and before now).
        cutoff = cal.day(now - 5 * DAY)
        eligible = sum(counts[i] + bench[i] for i, day in enumerate(days) if day < cutoff)
        wanted = gen.sizes.projects
        if wanted > eligible:
            raise GeneratorError(f"--projects {wanted} 超过可提出项目的诉求数（{eligible}）")
        plan_rng = gen.rng("project-seeds")
        seeds = sorted(plan_rng.sample(range(eligible), wanted))
        self.seed_set = set(seeds)
        self.forced = {}
        if wanted >= 8:
            # Every stage occurs: the latest seeds stay early in their life, old ones end.
            for status, position in (
                (ProjectStatus.PROPOSED, -1),
                (ProjectStatus.APPROVED, -2),
                (ProjectStatus.IN_PROGRESS, wanted * 85 // 100),
                (ProjectStatus.ASSESSED, wanted * 75 // 100),
                (ProjectStatus.ACCEPTED, 0),
                (ProjectStatus.FAILED, 1),
                (ProjectStatus.REWARDED, 2),
                (ProjectStatus.CANCELLED, 3),
            ):
                self.forced[seeds[position]] = status.value
        ws_picker = Picker(
            range(len(gen.workstations)),
            [gen.ws_members[i] * ws.activity for i, ws in enumerate(gen.workstations)],
        )
        index = 0
        step = max(total // PROGRESS_STEPS, 1)
        started = time.monotonic()
        for i, day in enumerate(days):
            self.projects.finish_before(cal.midnight[day])
            slots = []
            working = cal.is_working_day(day)
            midnight = cal.midnight[day]
            latest = now - 5 * MINUTE if day == last_day else midnight + DAY
            for n in range(counts[i] + bench[i]):
                is_bench = n < bench[i]
                wsi = gen.bench_ws if is_bench else ws_picker.pick(rng)
                online = not working or rng.random() < 0.62
                if online:
                    t = midnight + ONLINE_HOURS.pick(rng) * HOUR + rng.randrange(HOUR)
                else:
                    t = midnight + WORK_START_S + rng.randrange(9 * HOUR - 10 * MINUTE)
                if t >= latest:
                    t = midnight + int((latest - midnight) * rng.random())
                t += t % 60 == 0
                slots.append((t, n, wsi, online, is_bench))
            slots.sort()
            for t, _n, wsi, online, is_bench in slots:
                self.make(index, t, wsi, online, is_bench)
                index += 1
                if index % step == 0:
                    gen.report_progress("诉求", index, total, time.monotonic() - started)
        self.projects.finish()

    # --- one need ------------------------------------------------------------------

    def _submitter(self, wsi: int, t: int):
        """A worker of the workstation registered before ``t`` (None when there is none)."""
        ws = self.gen.workstations[wsi]
        bound = bisect.bisect_left(ws.pool_created, t - HOUR)
        if not bound:
            return None
        return ws.pool[int(self.rng.random() * bound)]

    def make(self, index: int, t0: int, wsi: int, online: bool, is_bench: bool) -> None:
        gen, rng, cal = self.gen, self.rng, self.cal
        if is_bench:
            mi = gen.bench_worker
        else:
            mi = self._submitter(wsi, t0)
            tries = 0
            while mi is None:
                tries += 1
                wsi = rng.randrange(len(gen.workstations))
                # In the end, the earliest registered worker (years before the window).
                mi = self._submitter(wsi, t0) if tries < 200 else 2
        wsi = gen.m_ws[mi]
        ws = gen.workstations[wsi]
        street = gen.streets[ws.street]
        life = Life()
        life.id = need_id = self.t_need.take_id()
        life.t0 = t0
        life.wsi = wsi
        life.number = need_number(cal.compact[cal.day(t0)], need_id)
        life.member = gen.member_base + mi
        life.user = gen.user_base + mi
        ui = gen.m_unit[mi]

        # What it is about.
        area = street.area_picker.pick(rng)
        topic = rng.choice(words.TOPICS[area])
        kind = rng.choice(topic[3])
        urgency = self.urgency.pick(rng)
        if kind in ("complaint", "legal_aid") and rng.random() < 0.15:
            urgency = "urgent"
        life.kind, life.urgency = kind, urgency
        confidential = rng.random() < (0.16 if kind in ("complaint", "legal_aid") else 0.04)
        industry = gen.unit_industry[ui] if ui >= 0 else "居民服务、修理和其他服务业"
        unit_name = gen.unit_names[ui] if ui >= 0 else gen.unlisted_names[mi]
        values = {
            "n": rng.randint(2, 6),
            "m": rng.randint(2, 4),
            "amount": rng.choice(AMOUNTS),
            "years": rng.randint(1, 15),
            "job": rng.choice(words.JOBS.get(industry, ("职工",))),
            "hours": rng.randint(3, 8) * 10,
            "people": rng.randint(2, 9) * 10,
            "books": rng.randint(2, 9) * 100,
            "unit": unit_name,
        }
        life.values, life.topic = values, topic
        title = rng.choice(topic[0]).format(**values)
        intro = rng.choice(words.INTROS_CONFIDENTIAL if confidential else words.INTROS)
        situation = rng.choice(topic[1])
        description = (intro + situation + rng.choice(words.ASKS)).format(**values)
        if online:
            channel, recorder = self.online, None
        else:
            channel = self.offline.pick(rng)
            if channel.code == "hotline" and rng.random() < 0.5:
                recorder = rng.choice(gen.district_cadres)  # 12351 rings at the district
            else:
                recorder = rng.choice(ws.cadres)
        life.cadre = rng.choice(ws.cadres)
        life.resolve_days = self.resolve_days[kind, urgency]
        accept_due = cal.add_working_days(t0, self.accept_days[kind, urgency])

        ev = life.events
        note = f"由工会干部代为登记（{channel.name}）" if recorder else "职工在线提交"
        ev.append((t0, SUBMIT, CADRE if recorder else WORKER, recorder or life.user, note, ""))

        plan = None
        if index in self.seed_set:
            plan = self.projects.create(
                need_t0=t0,
                wsi=wsi,
                area_code=area,
                topic=topic[0][0].format(**values),
                forced=self.forced.get(index, ""),
            )
        elif self.gen.sizes.projects:
            plan = self.projects.offer(wsi, ws.street, area, t0)
        if plan is not None:
            plan.links.append(need_id)
            self._with_project(life, plan, accept_due, ws)
        else:
            self._alone(life, accept_due, ws, recorder is not None, area, confidential)
        self._system(life)
        self._write(life, ws, ui, kind, area, topic, urgency, confidential, channel, recorder,
                    title, description, accept_due)  # fmt: skip

    # --- a need's stages ------------------------------------------------------------

    def _alone(self, life: Life, accept_due: int, ws, recorded: bool, area: str, confidential):
        """Triage and handling by the workstation's cadres."""
        rng, now = self.rng, self.now
        t0, ev, cadre = life.t0, life.events, life.cadre
        late_p = min(0.06 * ws.lateness, 0.5)
        if recorded and rng.random() < 0.7:
            triage = t0 + rng.randrange(10 * MINUTE, 35 * MINUTE)  # recorded and accepted at once
        else:
            triage = self._act(t0, self.accept_days[life.kind, life.urgency], late_p)
        if rng.random() < 0.003 * ws.lateness:
            triage = now + DAY  # forgotten: nobody has looked at it
        roll = rng.random()
        if roll < 0.012:  # the worker withdraws before anyone looked at it
            withdraw = t0 + rng.randrange(HOUR, 3 * DAY)
            if withdraw < triage:
                life.phases.append((t0, min(withdraw, now), accept_due, t0))
                if withdraw < now:
                    self._withdraw(life, withdraw)
                return
        if triage >= now:
            life.phases.append((t0, now, accept_due, t0))
            return
        life.phases.append((t0, triage, accept_due, t0))
        if roll < 0.045 and not recorded:
            reason = rng.choice(words.REJECT_REASONS)
            ev.append((triage, REJECT, CADRE, cadre, reason, ""))
            life.rejection_reason = reason
            life.closed_at = triage
            return
        if roll < 0.075 and self._merge(life, triage, area):
            return
        self._accept(life, triage, cadre, accept_due, ev, CADRE)
        life.handler = cadre
        resolve = self._act(triage, life.resolve_days, min(0.08 * ws.lateness, 0.6))
        if rng.random() < 0.004 * ws.lateness:
            resolve = now + DAY  # stuck: nobody moves it on
        start = triage
        if rng.random() < 0.75:
            started = triage + rng.randrange(20 * MINUTE, 3 * HOUR)
            if started >= now:
                start = None  # accepted just now: nothing more yet
            elif started < resolve:  # a quick answer goes straight from accepted to resolved
                ev.append((started, START, CADRE, cadre, rng.choice(words.START_NOTES), ""))
                start = started
        withdraw = None
        if rng.random() < 0.01:
            withdraw = triage + int((resolve - triage) * rng.uniform(0.2, 0.9))
            if start is not None and withdraw <= start:
                withdraw = None
        end = min(resolve, withdraw or resolve, now)
        life.phases.append((triage, end, life.resolve_due, triage))
        if start is not None:
            resolves = resolve < now and withdraw is None
            self._handling(life, start, end, area, confidential, start != triage, resolves)
        if withdraw is not None and withdraw < min(resolve, now):
            self._withdraw(life, withdraw)
            return
        if resolve < now:
            self._resolve(
                life, resolve, cadre, CADRE, rng.choice(life.topic[2]).format(**life.values)
            )
            self._after_resolution(life, resolve, first=True)

    def _with_project(self, life: Life, plan, accept_due: int, ws) -> None:
        """Raised before a project is proposed from it (or joins it): it follows the project."""
        rng, now = self.rng, self.now
        t0, ev, cadre = life.t0, life.events, life.cadre
        joined = plan.proposed_at
        triage = self._act(
            t0, self.accept_days[life.kind, life.urgency], min(0.06 * ws.lateness, 0.5)
        )
        note = (
            f"您的诉求已纳入服务项目“{plan.title}”（{plan.number}）统一办理，可随时查看项目进展。"
        )
        accepted_at = joined
        if triage < joined:
            life.phases.append((t0, triage, accept_due, t0))
            self._accept(life, triage, cadre, accept_due, ev, CADRE)
            life.handler = cadre
            accepted_at = triage
            life.phases.append((triage, joined, life.resolve_due, triage))
            started = triage + rng.randrange(20 * MINUTE, 3 * HOUR)
            if started < joined and rng.random() < 0.6:
                ev.append((started, START, CADRE, cadre, rng.choice(words.START_NOTES), ""))
                ev.append((joined, NOTE, PROJECT, plan.creator, "", note))
            else:
                ev.append((joined, START, PROJECT, plan.creator, note, ""))
        else:
            life.phases.append((t0, joined, accept_due, t0))
            self._accept(life, joined, plan.creator, accept_due, ev, PROJECT, note)
            ev.append((joined, START, PROJECT, plan.creator, note, ""))
        life.resolve_due = None  # the project's plan sets the pace now
        if plan.outcome == "accepted":
            decided = plan.outcome_at
            text = f"服务项目“{plan.title}”已通过验收。项目成果：{plan.result}"
            self._resolve(life, decided, plan.outcome_by, PROJECT, text)
            life.resolved_late = False
            self._after_resolution(life, decided, first=True)
        elif plan.outcome in ("failed", "cancelled"):
            back = plan.outcome_at
            ev.append(
                (back, NOTE, PROJECT, plan.outcome_by, "",
                 f"服务项目“{plan.title}”验收未通过，诉求退回工作站继续办理。理由：{plan.return_reason}"),
            )  # fmt: skip
            life.resolve_due = due = self.cal.add_working_days(back, life.resolve_days)
            resolve = self._act(back, life.resolve_days, min(0.08 * ws.lateness, 0.6))
            life.phases.append((back, min(resolve, now), due, accepted_at))
            if resolve < now:
                life.handler = life.handler or cadre
                text = rng.choice(life.topic[2]).format(**life.values)
                self._resolve(life, resolve, cadre, CADRE, text)
                self._after_resolution(life, resolve, first=True)

    def _accept(self, life, t, by, accept_due, ev, actor, note=None) -> None:
        ev.append((t, ACCEPT, actor, by, note or self.accept_note[life.kind], ""))
        life.accepted_at = t
        life.accepted_late = t > accept_due
        life.resolve_due = self.cal.add_working_days(t, life.resolve_days)

    def _resolve(self, life: Life, t: int, by, actor: str, text: str) -> None:
        life.events.append((t, RESOLVE, actor, by, text, ""))
        life.resolution = text
        life.resolved_at = t
        life.resolved_late = bool(life.resolve_due and t > life.resolve_due)

    def _withdraw(self, life: Life, t: int) -> None:
        reason = self.rng.choice(words.WITHDRAW_REASONS)
        life.events.append((t, WITHDRAW, WORKER, life.user, reason or "职工撤回", ""))
        life.closed_at = t

    def _handling(self, life: Life, start, end, area, confidential, started, resolves) -> None:
        """Replies, notes, referrals and publication while the cadres work on it."""
        rng, ev, cadre = self.rng, life.events, life.cadre
        span = end - start
        if span < 2 * HOUR:
            return
        share = 0.08 if area in ("benefits", "culture", "skills") else 0.03
        if not confidential and span > 3 * HOUR and rng.random() < share:
            published = start + rng.randrange(HOUR, min(3 * HOUR, span // 2))
            short = life.topic[0][0].format(**life.values)
            life.is_public = True
            life.public_title = words.PUBLIC_TITLE.format(topic=short)[:60]
            life.public_summary = words.PUBLIC_SUMMARY.format(topic=short)
            ev.append((published, PUBLISH, CADRE, cadre, "", f"公开标题：{life.public_title}"))
            self._supports(life, published, end)
        if started and life.kind in ("complaint", "legal_aid") and rng.random() < 0.15:
            referred = start + int(span * rng.uniform(0.1, 0.4))
            target = rng.choice(Referral.Target.values)
            detail = REFER_DETAIL[target]
            ev.append(
                (referred, REFER, CADRE, cadre, REFER_NOTES[target].format(detail=detail), "")
            )
            follow_up = REFER_FOLLOW_UP[target][0 if resolves else 1]
            followed = referred + int((end - referred) * rng.uniform(0.3, 0.8))
            label = Referral.Target(target).label
            ev.append((followed, NOTE, CADRE, cadre, "", f"转介跟进（{label}）：{follow_up}"))
            self.gen.writer.add(
                self.t_referral,
                (self.t_referral.take_id(), life.id, target, detail, "done" if resolves else "open",
                 follow_up, self.stamp(referred), cadre),
            )  # fmt: skip
        if rng.random() < 0.3:
            ev.append((start + int(span * rng.uniform(0.3, 0.9)), REPLY, CADRE, cadre,
                       rng.choice(words.REPLIES), ""))  # fmt: skip
        if rng.random() < 0.12:
            ev.append((start + int(span * rng.uniform(0.1, 0.9)), NOTE, CADRE, cadre, "",
                       rng.choice(words.NOTES)))  # fmt: skip

    def _supports(self, life: Life, published: int, end: int) -> None:
        """我也有此需求: workers of the same workstation join while it is handled."""
        rng, gen = self.rng, self.gen
        ws = gen.workstations[life.wsi]
        wanted = min(1 + int(rng.expovariate(0.25)), 40)
        seen = {life.member}
        for k in range(wanted):
            t = published + int((end - published) * (k + 1) / (wanted + 1))
            bound = bisect.bisect_left(ws.pool_created, t - HOUR)
            if not bound:
                continue
            member = gen.member_base + ws.pool[int(rng.random() * bound)]
            if member in seen:
                continue
            seen.add(member)
            gen.writer.add(
                self.t_support, (self.t_support.take_id(), life.id, member, self.stamp(t))
            )
        seen.discard(life.member)
        life.supporters = seen

    def _merge(self, life: Life, t: int, area: str) -> bool:
        """A duplicate of an earlier need of the workstation: merged into it at triage."""
        candidates = [
            r
            for r in self.recent[life.wsi]
            if r.statuses[-1] not in NOT_MERGEABLE and r.times[0] < t
        ]
        if not candidates:
            return False
        same_area = [r for r in candidates if r.area == area]
        target = self.rng.choice(same_area or candidates)
        note = f"您反映的问题与诉求 {target.number} 相同，已合并办理，办理进度请看该诉求。"
        life.events.append((t, MERGE, CADRE, life.cadre, note, ""))
        life.merged_into = target.id
        life.closed_at = t
        # The duplicate's worker now supports the surviving need (services.need_merge).
        moved = life.member not in target.supporters and life.member != target.submitter
        if moved:
            target.supporters.add(life.member)
            self.gen.writer.add(
                self.t_support, (self.t_support.take_id(), target.id, life.member, self.stamp(t))
            )
        status = target.status_at(t)
        self.gen.writer.add(
            self.t_event,
            (
                self.t_event.take_id(), target.id, SUPPORT_MOVED, CADRE, life.cadre, status,
                status,
                "另有 1 位职工反映了相同问题，已合并到本诉求一并办理。" if moved else "",
                f"合并自 {life.number}", moved, self.stamp(t),
            ),
        )  # fmt: skip
        return True

    def _after_resolution(self, life: Life, resolved: int, *, first: bool) -> None:
        """The worker rates it (satisfied closes, dissatisfied reopens) or the daily run closes it."""
        rng, cal, now, ev = self.rng, self.cal, self.now, life.events
        closing = cal.run_after(cal.add_working_days(resolved, self.rate_days))
        if rng.random() < 0.6:
            latest = closing - HOUR
            if latest <= resolved + HOUR:
                return
            rated = resolved + HOUR + int((latest - resolved - HOUR) * rng.random() ** 1.5)
            if rated >= now:
                return
            satisfied = rng.random() < (0.88 if first else 0.97)
            if satisfied:
                outcome = "yes" if rng.random() < 0.75 else "partly"
                score = rng.choice((4, 5, 5, 5)) if outcome == "yes" else rng.choice((3, 4))
                comment = rng.choice(words.COMMENTS_GOOD)
            else:
                outcome = "no" if rng.random() < 0.6 else "partly"
                score = rng.choice((1, 2, 3)) if outcome == "no" else rng.choice((1, 2))
                comment = rng.choice(words.COMMENTS_BAD)
            if Rating.is_satisfied(outcome, score) != satisfied:
                raise AssertionError("rating does not match its verdict")
            label = Rating.Outcome(outcome).label
            self.gen.writer.add(
                self.t_rating,
                (self.t_rating.take_id(), life.id, outcome, score, comment, self.stamp(rated)),
            )
            if satisfied:
                ev.append((rated, CONFIRM, WORKER, life.user, f"{label}，{score} 分", ""))
                life.closed_at = rated
                return
            ev.append(
                (rated, REOPEN, WORKER, life.user, f"{label}，{score} 分。{comment}".strip(), "")
            )
            life.resolved_at = None
            life.resolve_due = due = cal.add_working_days(rated, life.resolve_days)
            again = self._act(rated, life.resolve_days, 0.1)
            life.phases.append((rated, min(again, now), due, rated))
            if again < now:
                life.handler = life.handler or life.cadre
                text = rng.choice(life.topic[2]).format(**life.values)
                self._resolve(life, again, life.cadre, CADRE, text)
                self._after_resolution(life, again, first=False)
            return
        if closing < now:
            ev.append((closing, AUTO_CLOSE, SYSTEM, None, AUTO_CLOSE_NOTE, ""))
            life.closed_at = closing
            life.auto_closed = True

    def _system(self, life: Life) -> None:
        """The daily run's reminders and escalations, where the need's limits called for them."""
        cal, now = self.cal, self.now
        ev = life.events
        level, district_from, reminded = 0, None, None
        escalated_at = None
        for start, end, due, stage_start in life.phases:
            if due is None:
                continue
            end = min(end, now)
            # Reminder (escalation.rules_at): on a working day's run, the limit ends within
            # the rest of that day or the next working day; once per limit.
            limit_day = cal.day(due)
            for day in (cal.previous_workday(limit_day), limit_day):
                run = cal.midnight[day] + DAILY_RUN_S
                if run <= start or run >= end:
                    continue
                if not run <= due <= cal.add_working_days(run, 1):
                    continue
                if reminded is None or reminded < stage_start:
                    ev.append((run, REMIND, SYSTEM, None, "", "临近办理时限提醒"))
                    reminded = run
                break
            if level >= 2:
                continue
            for run in cal.runs_between(max(start, due), end):
                if level == 0:
                    level = 1
                    district_from = cal.add_working_days(run, self.escalate_days)
                    ev.append((run, ESCALATE, SYSTEM, None, ESCALATION_NOTES[level], ""))
                    escalated_at = run
                elif district_from < run:
                    level = 2
                    ev.append((run, ESCALATE, SYSTEM, None, ESCALATION_NOTES[level], ""))
                    escalated_at = run
                    break
        life.escalation, life.escalated_at, life.reminded_at = level, escalated_at, reminded

    # --- sampling moments ------------------------------------------------------------

    def _act(self, start: int, days: int, late_p: float) -> int:
        """When a cadre acts on something with a limit of ``days`` working days from ``start``."""
        rng, cal = self.rng, self.cal
        first = cal.workday_rank_from(start, 16 * HOUR + 30 * MINUTE)
        due = cal.due_rank(start, days)
        if rng.random() < late_p:
            rank = due + 1 + min(int(rng.expovariate(0.7)), 15)
        else:
            rank = first + int((due - first + 1) * rng.random() ** 2)
        return self._at_work(rank, start)

    def _at_work(self, rank: int, after: int) -> int:
        """A moment of working hours on working day ``rank`` (or the next with room) after ``after``."""
        cal, rng = self.cal, self.rng
        while True:
            day = cal.workday_at(rank)
            low = max(cal.midnight[day] + WORK_START_S, after + 5 * MINUTE)
            high = cal.midnight[day] + END_OF_DAY_S - MINUTE
            if low < high:
                t = low + int((high - low) * rng.random())
                return t + (t % 60 == 0)
            rank += 1

    # --- writing -------------------------------------------------------------------

    def _write(self, life, ws, ui, kind, area, topic, urgency, confidential, channel, recorder,
               title, description, accept_due) -> None:  # fmt: skip
        gen, stamp, add = self.gen, self.stamp, self.gen.writer.add
        level, escalated_at, reminded = life.escalation, life.escalated_at, life.reminded_at
        events = sorted(life.events, key=lambda e: (e[0], RANK[e[1]]))
        status = ""
        times, statuses = [], []
        t_event = self.t_event
        for t, action, actor, by, public, internal in events:
            if action == SUBMIT:
                before, after, shown = "", SUBMITTED, True
            else:
                sources, target, shown, actors = MACHINE[action]
                if status not in sources or actor not in actors:
                    raise AssertionError(f"need {life.number}: {action} by {actor} from {status}")
                before, after = status, target or status
            if not shown:
                internal, public = internal or public, ""
            add(
                t_event,
                (t_event.take_id(), life.id, action, actor, by, before, after, public, internal,
                 shown, stamp(t)),
            )  # fmt: skip
            if after != before:
                times.append(t)
                statuses.append(after)
            status = after
        self.by_status[status] += 1
        unit_id = gen.unit_ids[ui] if ui >= 0 else None
        add(
            self.t_need,
            (
                life.id, life.number, life.member, ws.id, unit_id, kind, gen.area_ids[area],
                RIGHTS[topic[4]], channel.id, title, description, urgency, confidential,
                self.rng.random() < 0.86, status, life.handler, life.merged_into,
                life.resolution, life.rejection_reason, recorder, life.is_public,
                life.public_title, life.public_summary, 0, stamp(life.t0),
                stamp(life.accepted_at), stamp(life.resolved_at), stamp(life.closed_at),
                life.auto_closed, stamp(accept_due), stamp(life.resolve_due), life.accepted_late,
                life.resolved_late, level, stamp(escalated_at), stamp(reminded),
                stamp(events[-1][0]),
            ),
        )  # fmt: skip
        recent = Recent()
        recent.id, recent.number, recent.area = life.id, life.number, area
        recent.submitter = life.member
        recent.times, recent.statuses = times, statuses
        recent.supporters = life.supporters
        self.recent[life.wsi].append(recent)
