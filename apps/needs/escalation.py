"""督办: remind, escalate and auto-close needs as of a given moment.

``run(now=...)`` is what ``manage.py escalate_overdue`` does. Working days are
Chinese working days (``apps.core.workdays``: statutory holidays, make-up days
and the district's ``WorkdayOverride`` rows); a limit of N working days ends at
17:30 of the N-th working day. The day counts come from ``TimeLimit`` rows
(``apps.needs.deadlines``).

Escalation and auto-close look at limits as of the start of the run's local
day: a limit that ran out at 17:30 is acted on by the first run of the next
day. So what a run does depends on the date, not the hour, and a second run the
same day finds nothing new unless people acted in between. The four rules, in
the order they run:

1. Reminder (时限提醒) — only on a working day, so it reaches cadres at work.
   An open need whose current limit (``accept_due`` while submitted,
   ``resolve_due`` while accepted or in progress) has not passed and ends no
   later than the end of the next working day (``REMIND_AHEAD`` working days):
   the cadre has the rest of today and one more working day to act. Once per
   limit: a need is skipped when ``reminded_at`` is later than the start of its
   current stage (submission, acceptance, or the worker's reopening after a
   dissatisfied rating — read from the timeline). On a day off nothing is sent;
   the next working day's run still comes before the limit, which always ends
   on a working day. → ``services.need_remind``.
2. Street escalation (街道督办) — every day, holidays included, because a
   passed limit is a fact: an open need whose current limit ran out before
   today (``NeedQuerySet.overdue``) and that is not escalated yet → level 1.
3. District escalation (县区督办) — a need at level 1 that is still overdue and
   was escalated to the street more than the "escalate" stage's working days
   before today (default 2: the street has two whole working days after the
   day it was told, so a need escalated on a Monday goes up on Thursday) →
   level 2. A need that the street got moving again
   (accepted late, now within its resolve limit) is not taken further; if it
   runs late again later, the street has had its chance and it goes up.
   Both escalations → ``services.need_escalate``: a public event on the
   timeline, the worker and the cadres are told, reports count ``escalation``.
4. Auto-close (逾期未评价自动完结) — a resolved need the worker has not rated
   within the "rate" stage's working days after ``resolved_at`` (default 7,
   the day after ``add_working_days(resolved_at, 7)``) → ``services.need_auto_close``
   (``auto_closed=True``, counted separately in the reports).

Idempotent: every rule selects only needs it has not acted on yet
(``reminded_at``, ``escalation``, status), and the day, not the hour, decides
what is overdue, so a second run the same day changes nothing.

Cheap: one query per rule finds the candidates, using the (status,
accept_due) and (status, resolve_due) indexes; "N working days ago" is turned
into a single timestamp (``working_days_cutoff``) rather than a calendar walk
per row. Each need is then re-checked under a row lock — someone may have
acted on it since — and handed to its service in its own transaction, so one
failure is logged and does not undo the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from apps.core.workdays import add_working_days, is_workday, working_days_cutoff

from . import deadlines, services
from .models import Need, NeedEvent, NeedQuerySet, TimeLimit
from .workflow import WORKING, Action, Status

logger = logging.getLogger(__name__)

# A reminder goes out once a limit ends within this many working days (after today).
REMIND_AHEAD = 1

# Timeline events that start a stage with a fresh limit (see services: submit, accept, rate).
STAGE_STARTS = (Action.SUBMIT, Action.ACCEPT, Action.REOPEN)


@dataclass(frozen=True)
class Rule:
    """One kind of system action: which needs it is due for at ``now``, and how to act."""

    name: str
    label: str
    select: Callable[[NeedQuerySet], NeedQuerySet]
    act: Callable[[Need], object]


@dataclass
class Outcome:
    """What a run did (or, dry, would do): need numbers per rule name."""

    now: dt.datetime
    dry_run: bool
    rules: list[Rule]
    done: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    failed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def count(self, name: str) -> int:
        return len(self.done[name])

    @property
    def failures(self) -> int:
        return sum(len(numbers) for numbers in self.failed.values())


def _older_than(field_name: str, stage: str, now: dt.datetime) -> Q:
    """``field_name`` lies more than the stage's working days before ``now``.

    The district may set the stage per kind and urgency, so needs are grouped
    by the number of days that applies to them; usually there is one group.
    """
    rules = deadlines.stage_rules(stage)
    groups: dict[int, list[Q]] = defaultdict(list)
    for kind in Need.Kind.values:
        for urgency in Need.Urgency.values:
            days = deadlines.working_days_for(stage, kind, urgency, rules=rules)
            groups[days].append(Q(kind=kind, urgency=urgency))
    conditions = {
        days: Q(**{f"{field_name}__lt": working_days_cutoff(now, days)}) for days in groups
    }
    if len(groups) == 1:
        return next(iter(conditions.values()))
    return reduce(or_, (conditions[days] & reduce(or_, needs) for days, needs in groups.items()))


def rules_at(now: dt.datetime) -> list[Rule]:
    """The four rules with their calendar arithmetic done once for ``now``."""
    today = timezone.localtime(now).date()
    # Limits are judged as of the start of the day: the outcome depends on the date only.
    as_of = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    if is_workday(today):
        horizon = add_working_days(now, REMIND_AHEAD)
        near_limit = Q(status=Status.SUBMITTED, accept_due__gte=now, accept_due__lte=horizon) | Q(
            status__in=WORKING, resolve_due__gte=now, resolve_due__lte=horizon
        )
    else:
        near_limit = None
    stage_started = Subquery(
        NeedEvent.objects.filter(need=OuterRef("pk"), action__in=STAGE_STARTS)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )

    def remind(qs: NeedQuerySet) -> NeedQuerySet:
        if near_limit is None:
            return qs.none()
        return (
            qs.filter(near_limit)
            .annotate(stage_started_at=stage_started)
            .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=F("stage_started_at")))
        )

    street_for = _older_than("escalated_at", TimeLimit.Stage.ESCALATE, as_of)
    unrated_for = _older_than("resolved_at", TimeLimit.Stage.RATE, as_of)

    return [
        Rule(
            "remind",
            "临近时限提醒",
            remind,
            lambda need: services.need_remind(need=need, at=now),
        ),
        Rule(
            "street",
            "超时提请街道督办",
            lambda qs: qs.overdue(as_of).filter(escalation=Need.Escalation.NONE),
            lambda need: services.need_escalate(need=need, level=Need.Escalation.STREET, at=now),
        ),
        Rule(
            "district",
            "街道督办后仍超时，提请县区督办",
            lambda qs: qs.overdue(as_of).filter(street_for, escalation=Need.Escalation.STREET),
            lambda need: services.need_escalate(need=need, level=Need.Escalation.DISTRICT, at=now),
        ),
        Rule(
            "auto_close",
            "逾期未评价自动完结",
            lambda qs: qs.filter(unrated_for, status=Status.RESOLVED),
            lambda need: services.need_auto_close(need=need, at=now),
        ),
    ]


def run(*, now: dt.datetime | None = None, dry_run: bool = False) -> Outcome:
    """Apply every rule as of ``now``; ``dry_run`` only counts what would be done."""
    now = now or timezone.now()
    rules = rules_at(now)
    outcome = Outcome(now=now, dry_run=dry_run, rules=rules)
    for rule in rules:
        candidates = list(rule.select(Need.objects.all()).order_by("pk").only("pk", "number"))
        for need in candidates:
            if dry_run:
                outcome.done[rule.name].append(need.number)
                continue
            try:
                acted = _act(rule, need)
            except Exception:
                logger.exception("escalate_overdue: %s failed for need %s", rule.name, need.number)
                outcome.failed[rule.name].append(need.number)
            else:
                if acted:
                    outcome.done[rule.name].append(need.number)
    return outcome


@transaction.atomic
def _act(rule: Rule, need: Need) -> bool:
    """Act on one need in its own transaction, if the rule still holds under the row lock."""
    # A cadre or the worker may have acted since the candidates were read.
    if not rule.select(Need.objects.select_for_update().filter(pk=need.pk)).exists():
        logger.info("escalate_overdue: %s no longer due for need %s", rule.name, need.number)
        return False
    rule.act(need)
    return True
