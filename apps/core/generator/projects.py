"""Service projects: each grows out of one need (its seed), gathers more, and runs its course.

A project is planned the moment its seed need is generated: when it is proposed
(some days after the seed), which stage it has reached by now, and every moment
of its history — so the needs that join it can follow it (accepted and handled by
the project, resolved at its acceptance, handed back when it fails or is cancelled).
Its rows are written once the generator has passed the proposal day: from then on
no need can join, and the proposal's note can say how many needs it answers.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from apps.projects.models import (
    ACHIEVEMENT_CAP,
    PASS_SCORE,
    Evidence,
    Indicator,
    ProgressUpdate,
    ProjectEvent,
    ProjectNeed,
    Review,
    Reward,
    ServiceProject,
    project_number,
)
from apps.projects.workflow import TRANSITIONS, Action, Status

from . import words
from .calendar import DAY, END_OF_DAY_S, HOUR, MINUTE, WORK_START_S

# How far ahead of its proposal a need can still be grouped into a project.
JOIN_WINDOW = 45 * DAY
STAGE = {
    Status.PROPOSED: 0,
    Status.APPROVED: 1,
    Status.IN_PROGRESS: 2,
    Status.ASSESSED: 3,
    Status.ACCEPTED: 4,
    Status.FAILED: 4,
    Status.REWARDED: 5,
}
# Which stage projects have reached, by how long ago they were proposed (days).
BY_AGE = (
    (5, {Status.PROPOSED: 80, Status.APPROVED: 12, Status.CANCELLED: 8}),
    (30, {Status.PROPOSED: 15, Status.APPROVED: 35, Status.IN_PROGRESS: 40, Status.CANCELLED: 10}),
    (120, {
        Status.APPROVED: 5, Status.IN_PROGRESS: 60, Status.ASSESSED: 15, Status.ACCEPTED: 12,
        Status.FAILED: 2, Status.CANCELLED: 6,
    }),
    (300, {
        Status.IN_PROGRESS: 15, Status.ASSESSED: 10, Status.ACCEPTED: 45, Status.REWARDED: 15,
        Status.FAILED: 7, Status.CANCELLED: 8,
    }),
    (None, {
        Status.IN_PROGRESS: 3, Status.ASSESSED: 2, Status.ACCEPTED: 47, Status.REWARDED: 30,
        Status.FAILED: 10, Status.CANCELLED: 8,
    }),
)  # fmt: skip
ASSESSED_OR_LATER = {
    Status.ASSESSED,
    Status.ACCEPTED,
    Status.FAILED,
    Status.REWARDED,
}
PROJECT_COLUMNS = (
    "id", "number", "title", "summary", "kind", "area_id", "beneficiary", "street_id",
    "workstation_id", "lead_id", "standard", "budget", "spent", "overspend_reason",
    "planned_start", "planned_end", "actual_start", "actual_end", "status",
    "assessment_score", "acceptance_score", "panel_size", "result", "created_by_id",
    "created_at", "updated_at",
)  # fmt: skip
INDICATOR_COLUMNS = ("id", "project_id", "name", "target", "unit", "actual", "weight", "order")
UPDATE_COLUMNS = ("id", "project_id", "text", "percent", "created_by_id", "created_at")
EVIDENCE_COLUMNS = (
    "id", "project_id", "kind", "file", "note", "attendance", "uploaded_by_id", "uploaded_at",
)  # fmt: skip
REVIEW_COLUMNS = ("id", "project_id", "reviewer_id", "verdict", "score", "comments", "created_at")
REWARD_COLUMNS = (
    "id", "project_id", "kind", "workstation_id", "cadre_id", "amount", "reason",
    "awarded_by_id", "awarded_at",
)  # fmt: skip
EVENT_COLUMNS = ("id", "project_id", "action", "by_id", "from_status", "to_status", "note",
                 "created_at")  # fmt: skip
LINK_COLUMNS = ("id", "project_id", "need_id", "linked_at", "linked_by_id")

KINDS = ("good_deed", "practical", "hard")
BENEFICIARIES = ("workers", "grassroots", "enterprises")


@dataclass
class Plan:
    """A project as the needs that join it see it, and its rows-to-be."""

    id: int
    number: str
    title: str
    area_id: int
    street: int  # index into the generator's streets
    workstation: int | None  # index into its workstations; None: run by the street
    proposed_at: int
    creator: int
    status: str
    slots: int  # how many more needs may join
    outcome: str = ""  # accepted / failed / cancelled once decided, else ""
    outcome_at: int | None = None
    outcome_by: int | None = None
    return_reason: str = ""
    result: str = ""
    links: list[int] = field(default_factory=list)
    kind: str = ""
    rows: dict = field(default_factory=dict)
    events: list[tuple] = field(default_factory=list)

    def __lt__(self, other: Plan) -> bool:
        return self.id < other.id


class Projects:
    def __init__(self, gen):
        self.gen = gen
        self.rng = gen.rng("projects")
        w = gen.writer
        self.t_project = w.table(ServiceProject, PROJECT_COLUMNS)
        self.t_indicator = w.table(Indicator, INDICATOR_COLUMNS)
        self.t_update = w.table(ProgressUpdate, UPDATE_COLUMNS)
        self.t_evidence = w.table(Evidence, EVIDENCE_COLUMNS)
        self.t_review = w.table(Review, REVIEW_COLUMNS)
        self.t_reward = w.table(Reward, REWARD_COLUMNS)
        self.t_event = w.table(ProjectEvent, EVENT_COLUMNS)
        self.t_link = w.table(ProjectNeed, LINK_COLUMNS)
        self.open: dict[tuple, list[Plan]] = {}
        self.waiting: list[tuple[int, Plan]] = []  # heap by proposal time
        self.by_status: dict[str, int] = {}

    # --- planning ------------------------------------------------------------------

    def create(self, *, need_t0: int, wsi: int, area_code: str, topic: str, forced: str):
        """Plan the project a need at ``need_t0`` gives rise to; the need is its first link."""
        gen, rng, cal, now = self.gen, self.rng, self.gen.cal, self.gen.now
        ws = gen.workstations[wsi]
        street = gen.streets[ws.street]
        by_street = rng.random() < 0.15
        if forced in (Status.PROPOSED, Status.APPROVED):
            # Proposed lately, so that it has not gone further yet.
            proposed = now - (1 if forced == Status.PROPOSED else 9) * DAY - rng.randrange(DAY)
        else:
            proposed = need_t0 + rng.randrange(
                2 * DAY, max(min(40 * DAY, now - need_t0 - DAY), 3 * DAY)
            )
        proposed = self._work_time(max(proposed, need_t0 + 2 * HOUR), limit=now - HOUR)
        age_days = (now - proposed) / DAY
        status = str(forced or self._status_for(age_days))
        kind = rng.choice(KINDS)
        if by_street:
            lead = rng.choice(street.cadres)
            approver = rng.choice(gen.district_cadres)
            owner_name = street.name
        else:
            lead = rng.choice(ws.cadres)
            approver = rng.choice(street.cadres)
            owner_name = ws.short_name
        pid = self.t_project.take_id()
        local_year = cal.dates[cal.day(proposed)].year
        titles, standard, result, indicators = words.PROJECTS[area_code]
        title = rng.choice(titles).format(owner=owner_name)
        plan = Plan(
            id=pid,
            number=project_number(local_year, pid),
            title=title,
            area_id=gen.area_ids[area_code],
            street=ws.street,
            workstation=None if by_street else wsi,
            proposed_at=proposed,
            creator=lead,
            status=status,
            slots=min(int(rng.expovariate(0.45)), 7),
            result=result,
            kind=kind,
        )
        self._history(plan, lead, approver, standard, indicators, topic, owner_name)
        key = (1, ws.street, area_code) if by_street else (0, wsi, area_code)
        self.open.setdefault(key, []).append(plan)
        heapq.heappush(self.waiting, (proposed, plan))
        return plan

    def offer(self, wsi: int, street: int, area_code: str, t0: int):
        """A project proposed soon after ``t0`` that a new need of this place and area joins."""
        rng = self.rng
        for key, chance in (((0, wsi, area_code), 0.35), ((1, street, area_code), 0.25)):
            plans = self.open.get(key)
            if not plans:
                continue
            plans[:] = [p for p in plans if p.proposed_at > t0 + HOUR and p.slots > 0]
            for plan in plans:
                if plan.proposed_at - t0 <= JOIN_WINDOW and rng.random() < chance:
                    plan.slots -= 1
                    return plan
        return None

    def _status_for(self, age_days: float) -> str:
        for limit, weights in BY_AGE:
            if limit is None or age_days < limit:
                statuses, counts = zip(*weights.items(), strict=True)
                return self.rng.choices(statuses, counts)[0]
        raise AssertionError("unreachable")

    def _work_time(self, t: int, *, limit: int) -> int:
        """``t`` moved into working hours (a working day, 8:30–17:30), unless that passes ``limit``."""
        cal = self.gen.cal
        day = cal.day(t)
        offset = t - cal.midnight[day]
        if cal.is_working_day(day) and WORK_START_S <= offset < END_OF_DAY_S - 600:
            moved = t
        else:
            rank = cal.workday_rank_from(t, END_OF_DAY_S - 600)
            start_day = cal.workday_at(rank)
            moved = cal.midnight[start_day] + WORK_START_S + self.rng.randrange(7 * HOUR)
            moved = max(moved, t + 60)
        moved += moved % 60 == 0
        return moved if moved < limit else min(t, limit)

    def _times(self, plan: Plan) -> dict[str, int]:
        """The moments of the stages the plan's status says were reached."""
        rng, now = self.rng, self.gen.now
        status, start = plan.status, plan.proposed_at
        hard = 1.4 if plan.kind == "hard" else 1.0
        if status == Status.CANCELLED:
            names = ["approve", "cancel"] if rng.random() < 0.4 else ["cancel"]
            spans = [rng.uniform(2, 15) * DAY for _ in names]
        else:
            names = ["approve", "start", "assess", "decide", "reward"][: STAGE[status]]
            spans = [
                rng.uniform(2, 15) * DAY,
                rng.uniform(3, 25) * DAY,
                rng.uniform(30, 150) * DAY * hard,
                rng.uniform(3, 20) * DAY,
                rng.uniform(7, 40) * DAY,
            ][: len(names)]
        room = now - start - 2 * HOUR
        total = sum(spans)
        if total > room:
            spans = [s * room * 0.95 / total for s in spans]
        times, t = {}, start
        for name, span in zip(names, spans, strict=True):
            t_next = int(t + max(span, 10 * MINUTE))
            moved = self._work_time(t_next, limit=now - HOUR)
            t = moved if moved > t else t + 10 * MINUTE
            times[name] = t
        return times

    def _history(self, plan, lead, approver, standard, indicators, topic, owner_name) -> None:
        """Every row of the project except the proposal's count of needs."""
        gen, rng, cal = self.gen, self.rng, self.gen.cal
        latest = gen.now - MINUTE
        status = plan.status
        times = self._times(plan)
        stage = -1 if status == Status.CANCELLED else STAGE[status]
        events: list[tuple] = []  # (t, rank, action, by, note)

        def event(t, rank, action, by, note=""):
            events.append((t, rank, str(action), by, note))

        # The plan: indicators, budget, dates.
        chosen = rng.sample(indicators, rng.randint(1, len(indicators)))
        budget = Decimal(rng.randrange(20, 2000) * 100)
        plan_start = cal.day(times.get("approve", plan.proposed_at)) + rng.randrange(0, 10)
        plan_end = plan_start + rng.randrange(30, 180)
        indicator_rows = []
        assessed = status in ASSESSED_OR_LATER
        failing = status == Status.FAILED
        achieved_sum, weight_sum = Decimal(0), Decimal(0)
        for order, (name, unit, low, high) in enumerate(chosen, start=1):
            target = Decimal(rng.randint(low, high))
            weight = rng.choice((Decimal("1"), Decimal("1"), Decimal("1.5"), Decimal("2")))
            actual = None
            if assessed:
                ratio = rng.uniform(0.35, 0.9) if failing else rng.uniform(0.75, 1.25)
                actual = (target * Decimal(str(round(ratio, 3)))).quantize(Decimal("0.01"))
                if unit == "%":
                    actual = min(actual, Decimal(100))
                achievement = min(actual / target, ACHIEVEMENT_CAP)
                achieved_sum += weight * achievement
            weight_sum += weight
            indicator_rows.append((name, f"{target}.00", unit, actual, weight, order))
        assessment = None
        if assessed:
            # As ServiceProject.compute_assessment_score does it.
            assessment = (achieved_sum / weight_sum * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

        event(plan.proposed_at, 0, Action.PROPOSE, plan.creator)
        if "approve" in times:
            event(times["approve"], 1, Action.APPROVE, approver)
        updates = []
        if "start" in times:
            event(times["start"], 2, Action.START, lead)
            end = times.get("assess", gen.now - HOUR)
            count = rng.randint(1, 3)
            percent = 0
            previous = times["start"]
            for i in range(count):
                t = previous + int((end - previous) * rng.uniform(0.2, 0.6))
                if t <= previous + MINUTE or t >= end:
                    break
                percent = min(95, percent + rng.randint(15, 40))
                text = words.PROGRESS_TEXTS[min(i + (percent > 60), len(words.PROGRESS_TEXTS) - 1)]
                updates.append((text, percent, t))
                event(t, 3, Action.PROGRESS, lead, f"{percent}%：{text}")
                previous = t
        spent, overspend, result = Decimal(0), "", ""
        evidence = []
        if assessed:
            spent = (budget * Decimal(str(round(rng.uniform(0.7, 1.0), 2)))).quantize(
                Decimal("0.01")
            )
            if rng.random() < 0.04:
                spent = (budget * Decimal("1.1")).quantize(Decimal("0.01"))
                overspend = rng.choice(words.OVERSPEND_REASONS)
            result = plan.result
            event(
                times["assess"],
                4,
                Action.ASSESS,
                lead,
                f"考核得分 {assessment}（Σ权重×min(实际/目标,1)÷Σ权重×100）",
            )
            attendance = rng.randint(30, 900)
            at = min(times["assess"] + 20 * MINUTE, latest)
            evidence = [
                (str(Evidence.Kind.ATTENDANCE), "活动签到表（原件存档）", attendance, at),
                (str(Evidence.Kind.SIGNOFF), f"受益职工签字确认表，共 {attendance} 人次", None, at),
                (str(Evidence.Kind.BUDGET), f"预算 {budget}.00 元，实际支出 {spent} 元", None, at),
            ]

        # Acceptance (验收): a panel of reviewers; the last review decides.
        panel = rng.choices((1, 2, 3), (5, 2, 3))[0]
        reviews = []
        reviewers = rng.sample(gen.reviewers, min(panel, len(gen.reviewers)))
        panel = len(reviewers)
        acceptance = None
        if stage >= 4:
            verdicts = self._verdicts(panel, passed=not failing)
            decide = times["decide"]
            # One after another, the last one at the decision, all after the assessment.
            gap = min(40 * MINUTE, (decide - times["assess"]) // (panel + 1))
            for i, (reviewer, (verdict, score)) in enumerate(zip(reviewers, verdicts, strict=True)):
                reviews.append((reviewer, verdict, score, decide - (panel - 1 - i) * gap))
            acceptance = (sum(s for _, s in verdicts) / panel).quantize(Decimal("0.1"))
            passes = sum(v == Review.Verdict.PASS for v, _ in verdicts)
            accepted = passes > panel - passes and acceptance >= PASS_SCORE
            if accepted == failing:
                raise AssertionError("review verdicts disagree with the planned outcome")
        elif status == Status.ASSESSED:
            done = rng.randrange(panel)  # the panel has not finished
            start = times["assess"]
            for reviewer, (verdict, score) in zip(
                reviewers[:done], self._verdicts(panel, passed=True)[:done], strict=True
            ):
                start += max(int((latest - start) * rng.uniform(0.1, 0.5)), 1)
                reviews.append((reviewer, verdict, score, start))
        comments = []
        for reviewer, verdict, score, t in reviews:
            text = rng.choice(
                words.REVIEW_PASS if verdict == Review.Verdict.PASS else words.REVIEW_FAIL
            )
            comments.append(text)
            label = Review.Verdict(verdict).label
            event(t, 5, Action.REVIEW, reviewer, f"{label}，{score} 分：{text}")
        if stage >= 4:
            last_reviewer = reviews[-1][0]
            plan.outcome_at, plan.outcome_by = times["decide"], last_reviewer
            if failing:
                joined = "；".join(c for c in comments if c)
                event(
                    times["decide"],
                    6,
                    Action.FAIL,
                    last_reviewer,
                    f"验收得分 {acceptance}：{joined}",
                )
                plan.outcome, plan.return_reason = "failed", joined or "验收未通过"
            else:
                event(times["decide"], 6, Action.ACCEPT, last_reviewer, f"验收得分 {acceptance}")
                plan.outcome = "accepted"
        rewards = []
        if status == Status.REWARDED:
            awarder = rng.choice(gen.district_cadres)
            t = times["reward"]
            for _ in range(rng.choices((1, 2), (4, 1))[0]):
                kind = str(rng.choice((Reward.Kind.COMMENDATION, Reward.Kind.AWARD)))
                amount = rng.randrange(2, 21) * 1000 if kind == Reward.Kind.AWARD else 0
                reason = rng.choice(words.REWARD_REASONS)
                rewards.append((kind, amount, reason, awarder, t))
                event(t, 7, Action.REWARD, awarder, f"{Reward.Kind(kind).label}：{reason}")
                t = min(t + 30 * MINUTE, max(t + 1, latest))
        if status == Status.CANCELLED:
            reason = rng.choice(words.CANCEL_REASONS)
            event(times["cancel"], 8, Action.CANCEL, lead, reason)
            plan.outcome, plan.outcome_at, plan.outcome_by = "cancelled", times["cancel"], lead
            plan.return_reason = reason

        events.sort(key=lambda e: (e[0], e[1]))
        plan.events = events
        plan.rows = {
            "summary": words.PROJECT_SUMMARY.format(topic=topic, owner=owner_name),
            "kind": plan.kind,
            "beneficiary": rng.choice(BENEFICIARIES),
            "lead": lead,
            "standard": standard,
            "budget": f"{budget}.00",
            "spent": f"{spent:.2f}",
            "overspend": overspend,
            "planned_start": cal.date_text[plan_start],
            "planned_end": cal.date_text[plan_end],
            "actual_start": cal.date_text[cal.day(times["start"])] if "start" in times else None,
            "actual_end": cal.date_text[cal.day(times["assess"])] if assessed else None,
            "assessment": None if assessment is None else str(assessment),
            "acceptance": None if acceptance is None else str(acceptance),
            "panel": panel,
            "result": result,
            "indicators": indicator_rows,
            "updates": updates,
            "evidence": evidence,
            "reviews": [
                (reviewer, verdict, str(score), comment, t)
                for (reviewer, verdict, score, t), comment in zip(reviews, comments, strict=True)
            ],
            "rewards": rewards,
        }

    def _verdicts(self, panel: int, *, passed: bool) -> list[tuple[str, Decimal]]:
        """Whole-number scores, so a panel's mean never sits on a rounding tie."""
        rng = self.rng
        PASS, FAIL = Review.Verdict.PASS, Review.Verdict.FAIL
        if passed:
            fails = 1 if panel == 3 and rng.random() < 0.2 else 0
            verdicts = [(FAIL, Decimal(rng.randint(50, 64))) for _ in range(fails)]
            verdicts += [(PASS, Decimal(rng.randint(75, 98))) for _ in range(panel - fails)]
        else:
            passes = (panel - 1) // 2 if rng.random() < 0.7 else 0
            verdicts = [(PASS, Decimal(rng.randint(60, 75))) for _ in range(passes)]
            verdicts += [(FAIL, Decimal(rng.randint(35, 58))) for _ in range(panel - passes)]
        rng.shuffle(verdicts)
        return [(str(v), s.quantize(Decimal("0.1"))) for v, s in verdicts]

    # --- writing -------------------------------------------------------------------

    def finish_before(self, t: int) -> None:
        """Write every project proposed before ``t``: no later need can join it."""
        while self.waiting and self.waiting[0][0] < t:
            _, plan = heapq.heappop(self.waiting)
            self._write(plan)

    def finish(self) -> None:
        self.finish_before(2**62)

    def _write(self, plan: Plan) -> None:
        gen, stamp, add = self.gen, self.gen.stamp, self.gen.writer.add
        r = plan.rows
        pid = plan.id
        street_id = gen.streets[plan.street].id
        ws_id = None if plan.workstation is None else gen.workstations[plan.workstation].id
        last = plan.events[-1][0]
        # The timeline, checked against the project state machine.
        status = ""
        for t, _rank, action, by, note in plan.events:
            if action == Action.PROPOSE:
                before, after = "", Status.PROPOSED
                note = f"由 {len(plan.links)} 件诉求提出"
            else:
                transition = TRANSITIONS[action]
                if status not in transition.sources:
                    raise AssertionError(f"project {plan.number}: {action} from {status}")
                before, after = status, str(transition.target or status)
            add(
                self.t_event,
                (self.t_event.take_id(), pid, action, by, before, after, note, stamp(t)),
            )
            status = after
        if status != plan.status:
            raise AssertionError(f"project {plan.number} ends {status}, planned {plan.status}")
        add(
            self.t_project,
            (
                pid, plan.number, plan.title, r["summary"], r["kind"], plan.area_id,
                r["beneficiary"], street_id, ws_id, r["lead"], r["standard"], r["budget"],
                r["spent"], r["overspend"], r["planned_start"], r["planned_end"],
                r["actual_start"], r["actual_end"], plan.status, r["assessment"],
                r["acceptance"], r["panel"], r["result"], plan.creator,
                stamp(plan.proposed_at), stamp(last),
            ),
        )  # fmt: skip
        for name, target, unit, actual, weight, order in r["indicators"]:
            add(
                self.t_indicator,
                (
                    self.t_indicator.take_id(), pid, name, target, unit,
                    None if actual is None else str(actual), str(weight), order,
                ),
            )  # fmt: skip
        for text, percent, t in r["updates"]:
            add(self.t_update, (self.t_update.take_id(), pid, text, percent, r["lead"], stamp(t)))
        for kind, note, attendance, t in r["evidence"]:
            add(
                self.t_evidence,
                (self.t_evidence.take_id(), pid, kind, "", note, attendance, r["lead"], stamp(t)),
            )
        for reviewer, verdict, score, comment, t in r["reviews"]:
            add(
                self.t_review,
                (self.t_review.take_id(), pid, reviewer, verdict, score, comment, stamp(t)),
            )
        for kind, amount, reason, awarder, t in r["rewards"]:
            ws = ws_id
            cadre = None if ws is not None else r["lead"]
            add(
                self.t_reward,
                (
                    self.t_reward.take_id(), pid, kind, ws, cadre, f"{amount}.00", reason,
                    awarder, stamp(t),
                ),
            )  # fmt: skip
        for need_id in plan.links:
            add(
                self.t_link,
                (self.t_link.take_id(), pid, need_id, stamp(plan.proposed_at), plan.creator),
            )
        self.by_status[plan.status] = self.by_status.get(plan.status, 0) + 1
