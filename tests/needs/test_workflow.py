"""The need state machine: every allowed and every refused transition, written out by hand."""

import itertools

import pytest

from apps.needs.workflow import (
    TRANSITIONS,
    Action,
    Actor,
    Status,
    TransitionNotAllowed,
    allowed_actions,
    transition_for,
)

S = Status
# action: (sources, target) — None target means the status stays as it is.
EXPECTED = {
    Action.ACCEPT: ({S.SUBMITTED}, S.ACCEPTED),
    Action.REJECT: ({S.SUBMITTED}, S.REJECTED),
    Action.MERGE: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS}, S.MERGED),
    Action.START: ({S.ACCEPTED}, S.IN_PROGRESS),
    Action.REPLY: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED}, None),
    Action.NOTE: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED}, None),
    Action.REFER: ({S.ACCEPTED, S.IN_PROGRESS}, S.IN_PROGRESS),
    Action.RESOLVE: ({S.ACCEPTED, S.IN_PROGRESS}, S.RESOLVED),
    Action.CONFIRM: ({S.RESOLVED}, S.CLOSED),
    Action.REOPEN: ({S.RESOLVED}, S.IN_PROGRESS),
    Action.AUTO_CLOSE: ({S.RESOLVED}, S.CLOSED),
    Action.WITHDRAW: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS}, S.WITHDRAWN),
    Action.ESCALATE: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS}, None),
    Action.REMIND: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS}, None),
    Action.PUBLISH: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED}, None),
    Action.UNPUBLISH: ({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED}, None),
}

ALL_PAIRS = list(itertools.product(EXPECTED, S.values))


def test_the_table_covers_exactly_the_expected_actions():
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("action", "status"), ALL_PAIRS)
def test_transition(action, status):
    sources, target = EXPECTED[action]
    if status in sources:
        transition = transition_for(action, status)
        assert transition.target == target
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            transition_for(action, status)
        assert Status(status).label in str(refused.value)


@pytest.mark.parametrize("status", [S.CLOSED, S.REJECTED, S.MERGED, S.WITHDRAWN])
def test_final_states_allow_no_worker_or_cadre_change_of_status(status):
    for actor in (Actor.WORKER, Actor.CADRE):
        for action in allowed_actions(status, actor):
            assert TRANSITIONS[action].target is None


def test_who_may_do_what():
    assert allowed_actions(S.RESOLVED, Actor.WORKER) == [Action.CONFIRM, Action.REOPEN]
    assert Action.CONFIRM not in allowed_actions(S.RESOLVED, Actor.CADRE)
    assert allowed_actions(S.SUBMITTED, Actor.CADRE) == [
        Action.ACCEPT,
        Action.REJECT,
        Action.MERGE,
        Action.REPLY,
        Action.NOTE,
        Action.PUBLISH,
        Action.UNPUBLISH,
    ]
    assert allowed_actions(S.IN_PROGRESS, Actor.SYSTEM) == [Action.ESCALATE, Action.REMIND]
    # A service project moves its linked needs, but never on the worker's behalf.
    assert allowed_actions(S.SUBMITTED, Actor.PROJECT) == [Action.ACCEPT, Action.NOTE]
    assert allowed_actions(S.IN_PROGRESS, Actor.PROJECT) == [Action.NOTE, Action.RESOLVE]
