"""The project state machine, written out by hand."""

import itertools

import pytest

from apps.projects.workflow import (
    TRANSITIONS,
    Action,
    Status,
    TransitionNotAllowed,
    transition_for,
)

S = Status
EXPECTED = {
    Action.APPROVE: ({S.PROPOSED}, S.APPROVED),
    Action.START: ({S.APPROVED}, S.IN_PROGRESS),
    Action.PROGRESS: ({S.APPROVED, S.IN_PROGRESS}, None),
    Action.LINK: ({S.PROPOSED, S.APPROVED, S.IN_PROGRESS}, None),
    Action.ASSESS: ({S.IN_PROGRESS}, S.ASSESSED),
    Action.REVIEW: ({S.ASSESSED}, None),
    Action.ACCEPT: ({S.ASSESSED}, S.ACCEPTED),
    Action.FAIL: ({S.ASSESSED}, S.FAILED),
    Action.REWARD: ({S.ACCEPTED, S.REWARDED}, S.REWARDED),
    Action.CANCEL: ({S.PROPOSED, S.APPROVED}, S.CANCELLED),
}


def test_the_table_covers_exactly_the_expected_actions():
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("action", "status"), list(itertools.product(EXPECTED, S.values)))
def test_transition(action, status):
    sources, target = EXPECTED[action]
    if status in sources:
        assert transition_for(action, status).target == target
    else:
        with pytest.raises(TransitionNotAllowed):
            transition_for(action, status)


def test_reward_only_after_acceptance():
    for status in S.values:
        if status not in {S.ACCEPTED, S.REWARDED}:
            with pytest.raises(TransitionNotAllowed):
                transition_for(Action.REWARD, status)
