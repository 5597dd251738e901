"""Two people acting on the same need or project at the same moment, on PostgreSQL.

Each actor runs in its own thread with its own database connection. The test's own
connection holds the row lock of the object they both act on while they start together
(a ``threading.Barrier``), and lets go only once PostgreSQL shows every actor waiting for
that lock (``pg_locks``): the actions really overlap, on every run, without sleeps. Then
exactly one of two conflicting actions wins, the other is told someone acted first
(``StaleNeed``, or the state machine's refusal when no status was expected), and the
timeline has exactly one entry for the change.

SQLite serialises every write and has no row locks, so these run on PostgreSQL only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from apps.needs import services
from apps.needs.models import Need, NeedEvent
from apps.needs.services import StaleNeed
from apps.needs.workflow import Action, Status, TransitionNotAllowed
from apps.projects import services as project_services
from apps.projects.models import ProjectEvent, Review, ServiceProject
from apps.projects.workflow import Action as ProjectAction
from apps.projects.workflow import Status as ProjectStatus
from apps.projects.workflow import TransitionNotAllowed as ProjectTransitionNotAllowed
from apps.workstations.models import CadreAssignment

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: two connections contending for a row lock "
        "(SQLite serialises all writes)",
    ),
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 15


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_blocked(pids: list[int]) -> None:
    """Return once every one of ``pids`` waits for a lock (the one the test holds)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)",
                [pids],
            )
            if cursor.fetchone()[0] == len(pids):
                return
        time.sleep(0.01)
    pytest.fail(f"the actors {pids} never all waited for the row lock")


def race(hold, *actors: Callable[[], object]) -> list[object]:
    """Run the actors at once, each in its own thread and connection; what each returned or raised.

    ``hold`` (a need or project) is locked by the test until every actor waits for it.
    """
    outcomes: list[object] = [None] * len(actors)
    pids: list[int] = [0] * len(actors)
    start = threading.Barrier(len(actors) + 1, timeout=WAIT_SECONDS)

    def run(index: int, actor: Callable[[], object]) -> None:
        try:
            pids[index] = backend_pid()
            start.wait()
            outcomes[index] = actor()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connections.close_all()  # this thread's connection

    threads = [
        threading.Thread(target=run, args=(i, actor), daemon=True) for i, actor in enumerate(actors)
    ]
    with transaction.atomic():
        type(hold).objects.select_for_update().get(pk=hold.pk)
        for thread in threads:
            thread.start()
        start.wait()
        wait_until_blocked(pids)
    # Committed: the lock is released and the actors go, in whatever order PostgreSQL picks.
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def split(outcomes: list[object]) -> tuple[list[object], list[Exception]]:
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    return won, lost


def transitions(need: Need, *actions: str):
    return NeedEvent.objects.filter(need=need, action__in=actions)


# --- the need's services ------------------------------------------------------------------


def test_accept_and_reject_at_once_one_wins(need, cadre, street_cadre):
    won, lost = split(
        race(
            need,
            lambda: services.need_accept(need=need, by=cadre, expected_status=Status.SUBMITTED),
            lambda: services.need_reject(
                need=need,
                by=street_cadre,
                reason="不属于工会受理范围",
                expected_status=Status.SUBMITTED,
            ),
        )
    )
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], StaleNeed)
    assert "该诉求刚刚已被他人处理" in lost[0].messages[0]
    need.refresh_from_db()
    events = transitions(need, Action.ACCEPT, Action.REJECT)
    assert events.count() == 1
    assert need.status == events.get().to_status == won[0].status


def test_the_same_action_twice_without_an_expected_status_is_refused_by_the_state_machine(
    need, cadre, street_cadre
):
    won, lost = split(
        race(
            need,
            lambda: services.need_accept(need=need, by=cadre),
            lambda: services.need_accept(need=need, by=street_cadre),
        )
    )
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], TransitionNotAllowed)
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED
    assert transitions(need, Action.ACCEPT).count() == 1


@pytest.fixture
def accepted(need, cadre):
    return services.need_accept(need=need, by=cadre)


@pytest.fixture
def duplicate_target(make_need, other_worker, ws_a1):
    """Another need at the same workstation that the first could be merged into."""
    return make_need(
        other_worker,
        title="车间工资拖欠",
        description="我们车间也三个月没发工资了。",
        workstation=ws_a1,
    )


def test_merge_and_resolve_at_once_one_wins(accepted, duplicate_target, cadre, street_cadre):
    won, lost = split(
        race(
            accepted,
            lambda: services.need_merge(
                need=accepted,
                into=duplicate_target,
                by=cadre,
                expected_status=Status.ACCEPTED,
            ),
            lambda: services.need_resolve(
                need=accepted,
                by=street_cadre,
                resolution="企业已补发全部工资。",
                expected_status=Status.ACCEPTED,
            ),
        )
    )
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], StaleNeed)
    accepted.refresh_from_db()
    events = transitions(accepted, Action.MERGE, Action.RESOLVE)
    assert events.count() == 1
    assert accepted.status == events.get().to_status
    # Supporters move to the target only if the merge was the one that happened.
    moved = transitions(duplicate_target, Action.SUPPORT_MOVED).count()
    assert moved == (1 if accepted.status == Status.MERGED else 0)


# --- through the admin --------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel_action(client: Client, need: Need, action: str, **data) -> list[str]:
    """Post one action of the change page's panel; the messages the cadre is shown."""
    response = client.post(
        reverse("admin:needs_need_change", args=[need.pk]),
        {"_need_action": action, "expected_status": Status.SUBMITTED, **data},
    )
    assert response.status_code == 302
    return [str(message.message) for message in response.wsgi_request._messages]


def test_two_cadres_on_the_change_page_at_once_one_is_told_to_refresh(need, cadre, street_cadre):
    first, second = admin_client(cadre), admin_client(street_cadre)
    told = race(
        need,
        lambda: panel_action(first, need, Action.ACCEPT),
        lambda: panel_action(second, need, Action.REJECT, reason="不属于工会受理范围"),
    )
    assert not any(isinstance(messages, Exception) for messages in told), told
    need.refresh_from_db()
    done = {
        f"诉求 {need.number} 已受理。",
        f"诉求 {need.number} 已不予受理，理由已告知职工。",
    }
    assert sum(messages[0] in done for messages in told) == 1
    assert sum(messages[0].startswith("该诉求刚刚已被他人处理") for messages in told) == 1
    assert transitions(need, Action.ACCEPT, Action.REJECT).count() == 1


# --- a project's acceptance panel ---------------------------------------------------------


@pytest.fixture
def second_reviewer(make_staff, district):
    return make_staff("reviewer2", "郑考核", role=CadreAssignment.Role.REVIEWER, district=district)


@pytest.fixture
def assessed(make_project, accepted, cadre):
    """A project at acceptance, handling Alice's need."""
    return make_project(needs=[accepted], by=cadre, status=ProjectStatus.ASSESSED)


def review(project, reviewer, score="90"):
    return lambda: project_services.project_review(
        project=project,
        reviewer=reviewer,
        verdict=Review.Verdict.PASS,
        score=score,
        comments="资料齐全，指标达成",
    )


def test_a_panel_of_two_reviewing_at_once_concludes_exactly_once(
    assessed, accepted, reviewer, second_reviewer
):
    ServiceProject.objects.filter(pk=assessed.pk).update(panel_size=2)
    won, lost = split(
        race(assessed, review(assessed, reviewer), review(assessed, second_reviewer, "80"))
    )
    assert lost == []
    assert len(won) == 2
    assessed.refresh_from_db()
    assert assessed.status == ProjectStatus.ACCEPTED
    assert assessed.acceptance_score == 85
    assert ProjectEvent.objects.filter(project=assessed, action=ProjectAction.ACCEPT).count() == 1
    assert transitions(accepted, Action.RESOLVE).count() == 1


def test_a_panel_of_one_takes_only_the_first_review(assessed, reviewer, second_reviewer):
    won, lost = split(race(assessed, review(assessed, reviewer), review(assessed, second_reviewer)))
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], ProjectTransitionNotAllowed)
    assert Review.objects.filter(project=assessed).count() == 1
    assert ProjectEvent.objects.filter(project=assessed, action=ProjectAction.ACCEPT).count() == 1
