"""The need state machine: the one place that says which action is allowed from which state.

Views, the admin, bulk actions and management commands all go through
``Need.apply`` (apps/needs/models.py), which consults ``TRANSITIONS`` here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Status(models.TextChoices):
    SUBMITTED = "submitted", "待受理"
    ACCEPTED = "accepted", "已受理"
    IN_PROGRESS = "in_progress", "办理中"
    RESOLVED = "resolved", "已办结待评价"
    CLOSED = "closed", "已完结"
    REJECTED = "rejected", "不予受理"
    MERGED = "merged", "已合并"
    WITHDRAWN = "withdrawn", "已撤回"


class Action(models.TextChoices):
    SUBMIT = "submit", "提交诉求"
    ACCEPT = "accept", "受理"
    REJECT = "reject", "不予受理"
    MERGE = "merge", "合并为重复诉求"
    START = "start", "开始办理"
    REPLY = "reply", "回复"
    NOTE = "note", "内部备注"
    REFER = "refer", "转介"
    RESOLVE = "resolve", "办结"
    CONFIRM = "confirm", "评价满意，完结"
    REOPEN = "reopen", "评价不满意，重新办理"
    AUTO_CLOSE = "auto_close", "逾期未评价，自动完结"
    WITHDRAW = "withdraw", "撤回"
    ESCALATE = "escalate", "督办"
    REMIND = "remind", "时限提醒"
    PUBLISH = "publish", "公开征集“我也有此需求”"
    UNPUBLISH = "unpublish", "取消公开"
    SUPPORT_MOVED = "support_moved", "随合并转入"


class Actor(models.TextChoices):
    WORKER = "worker", "职工"
    CADRE = "cadre", "工会干部"
    SYSTEM = "system", "系统"
    PROJECT = "project", "服务项目"  # a linked need following its project


# Statuses in which the union still owes the worker something.
OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS})
# Statuses that count as "handled" for responsiveness (accepted at some point).
HANDLED_STATUSES = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED})
FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.MERGED, Status.WITHDRAWN})
ANY_OPEN = OPEN_STATUSES
WORKING = frozenset({Status.ACCEPTED, Status.IN_PROGRESS})
# Resolved by the union (awaiting or past the worker's rating): what reports count as
# 办结 and what follow-up calls may check.
DONE = frozenset({Status.RESOLVED, Status.CLOSED})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change (a note on the timeline)
    actor: str
    needs_public_note: bool = False  # the worker must be told why
    public: bool = True  # shown on the worker's timeline
    # Cadre actions a service project also takes for its linked needs.
    by_project: bool = False

    def allows(self, actor: str) -> bool:
        return actor == self.actor or (self.by_project and actor == Actor.PROJECT)


TRANSITIONS: dict[str, Transition] = {
    Action.ACCEPT: Transition(
        frozenset({Status.SUBMITTED}), Status.ACCEPTED, Actor.CADRE, by_project=True
    ),
    Action.REJECT: Transition(
        frozenset({Status.SUBMITTED}), Status.REJECTED, Actor.CADRE, needs_public_note=True
    ),
    Action.MERGE: Transition(OPEN_STATUSES, Status.MERGED, Actor.CADRE),
    Action.START: Transition(
        frozenset({Status.ACCEPTED}), Status.IN_PROGRESS, Actor.CADRE, by_project=True
    ),
    Action.REPLY: Transition(
        OPEN_STATUSES | {Status.RESOLVED}, None, Actor.CADRE, needs_public_note=True
    ),
    Action.NOTE: Transition(
        OPEN_STATUSES | {Status.RESOLVED}, None, Actor.CADRE, public=False, by_project=True
    ),
    Action.REFER: Transition(WORKING, Status.IN_PROGRESS, Actor.CADRE, needs_public_note=True),
    Action.RESOLVE: Transition(
        WORKING, Status.RESOLVED, Actor.CADRE, needs_public_note=True, by_project=True
    ),
    Action.CONFIRM: Transition(frozenset({Status.RESOLVED}), Status.CLOSED, Actor.WORKER),
    Action.REOPEN: Transition(frozenset({Status.RESOLVED}), Status.IN_PROGRESS, Actor.WORKER),
    Action.AUTO_CLOSE: Transition(frozenset({Status.RESOLVED}), Status.CLOSED, Actor.SYSTEM),
    Action.WITHDRAW: Transition(OPEN_STATUSES, Status.WITHDRAWN, Actor.WORKER),
    Action.ESCALATE: Transition(OPEN_STATUSES, None, Actor.SYSTEM),
    Action.REMIND: Transition(OPEN_STATUSES, None, Actor.SYSTEM, public=False),
    Action.PUBLISH: Transition(OPEN_STATUSES | {Status.RESOLVED}, None, Actor.CADRE, public=False),
    Action.UNPUBLISH: Transition(
        OPEN_STATUSES | {Status.RESOLVED, Status.CLOSED}, None, Actor.CADRE, public=False
    ),
}


class TransitionNotAllowed(Exception):
    """An action that the state machine refuses from the need's current status."""

    def __init__(self, action: str, status: str):
        self.action, self.status = action, status
        super().__init__(f"当前状态为“{Status(status).label}”，不能执行“{Action(action).label}”。")


def transition_for(action: str, status: str) -> Transition:
    transition = TRANSITIONS.get(action)
    if transition is None or status not in transition.sources:
        raise TransitionNotAllowed(action, status)
    return transition


def allowed_actions(status: str, actor: str) -> list[str]:
    """The actions an actor may take from ``status``, in table order."""
    return [
        action
        for action, transition in TRANSITIONS.items()
        if transition.allows(actor) and status in transition.sources
    ]
