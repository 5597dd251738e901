"""Time limits per stage, kind and urgency: defaults, the district's rows, specificity."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.needs import deadlines
from apps.needs.models import Need, TimeLimit

pytestmark = pytest.mark.django_db

Stage = TimeLimit.Stage
Kind = Need.Kind
Urgency = Need.Urgency

# (stage, kind, urgency, working days) — the union's service commitments.
COMMITMENTS = [
    (Stage.ACCEPT, Kind.HELP, Urgency.NORMAL, 3),
    (Stage.ACCEPT, Kind.COMPLAINT, Urgency.URGENT, 1),
    (Stage.ACCEPT, Kind.CONSULTATION, Urgency.SPECIAL, 1),
    (Stage.ACCEPT, Kind.LEGAL_AID, Urgency.NORMAL, 3),
    (Stage.RESOLVE, Kind.CONSULTATION, Urgency.NORMAL, 3),
    (Stage.RESOLVE, Kind.CONSULTATION, Urgency.URGENT, 3),
    (Stage.RESOLVE, Kind.COMPLAINT, Urgency.NORMAL, 13),
    (Stage.RESOLVE, Kind.HELP, Urgency.SPECIAL, 13),
    (Stage.RESOLVE, Kind.LEGAL_AID, Urgency.NORMAL, 13),
    (Stage.RESOLVE, Kind.SUGGESTION, Urgency.NORMAL, 10),
    (Stage.ESCALATE, Kind.HELP, Urgency.NORMAL, 2),
    (Stage.RATE, Kind.COMPLAINT, Urgency.NORMAL, 7),
]


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


@pytest.mark.parametrize(("stage", "kind", "urgency", "days"), COMMITMENTS)
def test_defaults_apply_when_the_district_has_set_nothing(stage, kind, urgency, days):
    assert not TimeLimit.objects.exists()
    assert deadlines.working_days_for(stage, kind, urgency) == days


@pytest.mark.parametrize(("stage", "kind", "urgency", "days"), COMMITMENTS)
def test_reference_data_holds_the_same_commitments(reference, stage, kind, urgency, days):
    assert TimeLimit.objects.exists()
    assert deadlines.working_days_for(stage, kind, urgency) == days


def test_a_row_changed_by_the_district_wins(reference):
    TimeLimit.objects.filter(stage=Stage.ACCEPT, kind="", urgency="").update(working_days=5)
    TimeLimit.objects.filter(stage=Stage.RESOLVE, kind=Kind.COMPLAINT).update(working_days=20)
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.HELP, Urgency.NORMAL) == 5
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.HELP, Urgency.URGENT) == 1
    assert deadlines.working_days_for(Stage.RESOLVE, Kind.COMPLAINT, Urgency.NORMAL) == 20
    assert deadlines.working_days_for(Stage.RESOLVE, Kind.HELP, Urgency.NORMAL) == 13


def test_a_new_row_wins_over_the_default():
    TimeLimit.objects.create(stage=Stage.RATE, working_days=15)
    assert deadlines.working_days_for(Stage.RATE, Kind.HELP, Urgency.NORMAL) == 15


def test_the_most_specific_rule_wins():
    for kind, urgency, days in [
        (Kind.COMPLAINT, Urgency.URGENT, 2),
        (Kind.COMPLAINT, "", 4),
        ("", Urgency.URGENT, 1),
        ("", "", 6),
    ]:
        TimeLimit.objects.create(stage=Stage.ACCEPT, kind=kind, urgency=urgency, working_days=days)
    # kind and urgency → kind → urgency → the stage's catch-all row
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.COMPLAINT, Urgency.URGENT) == 2
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.COMPLAINT, Urgency.SPECIAL) == 4
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.HELP, Urgency.URGENT) == 1
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.HELP, Urgency.SPECIAL) == 6
    assert deadlines.working_days_for(Stage.ACCEPT, Kind.HELP, Urgency.NORMAL) == 6


def test_rules_read_once_give_the_same_answers(reference, django_assert_num_queries):
    with django_assert_num_queries(1):
        rules = deadlines.stage_rules(Stage.RESOLVE)
        answers = {
            kind: deadlines.working_days_for(Stage.RESOLVE, kind, Urgency.NORMAL, rules=rules)
            for kind in Kind.values
        }
    assert answers == {
        kind: deadlines.working_days_for(Stage.RESOLVE, kind, Urgency.NORMAL)
        for kind in Kind.values
    }


def test_due_counts_chinese_working_days(reference):
    # Wednesday 30 September 2026, the last working day before National Day.
    start = local(2026, 9, 30, 10, 0)
    assert deadlines.due(Stage.ACCEPT, start, urgency=Urgency.URGENT) == local(2026, 10, 8, 17, 30)
    # 8, 9 and the make-up Saturday 10 October.
    assert deadlines.due(Stage.ACCEPT, start, urgency=Urgency.NORMAL) == local(2026, 10, 10, 17, 30)
    assert deadlines.due(Stage.RESOLVE, start, kind=Kind.CONSULTATION) == local(
        2026, 10, 10, 17, 30
    )
