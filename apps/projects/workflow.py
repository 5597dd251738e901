"""The service project state machine (项目制: 有标准、有考核、有验收、有奖励).

proposed → approved → in progress → assessed → accepted | failed → rewarded.
``ServiceProject.apply`` (models.py) consults ``TRANSITIONS``; services call it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Status(models.TextChoices):
    PROPOSED = "proposed", "立项申请"
    APPROVED = "approved", "已立项"
    IN_PROGRESS = "in_progress", "实施中"
    ASSESSED = "assessed", "已考核待验收"
    ACCEPTED = "accepted", "验收通过"
    FAILED = "failed", "验收未通过"
    REWARDED = "rewarded", "已奖励"
    CANCELLED = "cancelled", "已撤销"


class Action(models.TextChoices):
    PROPOSE = "propose", "提出立项"
    APPROVE = "approve", "批准立项"
    START = "start", "开始实施"
    PROGRESS = "progress", "发布进展"
    LINK = "link", "关联诉求"
    ASSESS = "assess", "完成考核"
    REVIEW = "review", "验收评审"
    ACCEPT = "accept", "验收通过"
    FAIL = "fail", "验收未通过"
    REWARD = "reward", "奖励"
    CANCEL = "cancel", "撤销"


# Shown on the public showcase (看得见、摸得着): everything that was approved.
PUBLIC_STATUSES = frozenset(
    {
        Status.APPROVED,
        Status.IN_PROGRESS,
        Status.ASSESSED,
        Status.ACCEPTED,
        Status.FAILED,
        Status.REWARDED,
    }
)
# Needs can still be added and progress posted.
RUNNING = frozenset({Status.PROPOSED, Status.APPROVED, Status.IN_PROGRESS})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None


TRANSITIONS: dict[str, Transition] = {
    Action.APPROVE: Transition(frozenset({Status.PROPOSED}), Status.APPROVED),
    Action.START: Transition(frozenset({Status.APPROVED}), Status.IN_PROGRESS),
    Action.PROGRESS: Transition(frozenset({Status.APPROVED, Status.IN_PROGRESS}), None),
    Action.LINK: Transition(RUNNING, None),
    Action.ASSESS: Transition(frozenset({Status.IN_PROGRESS}), Status.ASSESSED),
    Action.REVIEW: Transition(frozenset({Status.ASSESSED}), None),
    Action.ACCEPT: Transition(frozenset({Status.ASSESSED}), Status.ACCEPTED),
    Action.FAIL: Transition(frozenset({Status.ASSESSED}), Status.FAILED),
    Action.REWARD: Transition(frozenset({Status.ACCEPTED, Status.REWARDED}), Status.REWARDED),
    Action.CANCEL: Transition(frozenset({Status.PROPOSED, Status.APPROVED}), Status.CANCELLED),
}


class TransitionNotAllowed(Exception):
    def __init__(self, action: str, status: str):
        self.action, self.status = action, status
        super().__init__(
            f"项目当前状态为“{Status(status).label}”，不能执行“{Action(action).label}”。"
        )


def transition_for(action: str, status: str) -> Transition:
    transition = TRANSITIONS.get(action)
    if transition is None or status not in transition.sources:
        raise TransitionNotAllowed(action, status)
    return transition


def allowed_actions(status: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if status in t.sources]
