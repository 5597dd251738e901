"""Time limits per stage, kind and urgency, in Chinese working days.

Defaults follow the union's service commitments; the district changes them in
the admin (``TimeLimit`` rows). The most specific rule wins: kind and urgency,
then kind, then urgency, then the stage's catch-all row, then the default.
"""

from __future__ import annotations

import datetime as dt

from apps.core.workdays import add_working_days

from .models import Need, TimeLimit

Stage = TimeLimit.Stage

DEFAULT_DAYS: dict[tuple[str, str, str], int] = {
    # (stage, kind, urgency): working days; "" means any
    (Stage.ACCEPT, "", ""): 3,
    (Stage.ACCEPT, "", Need.Urgency.URGENT): 1,
    (Stage.ACCEPT, "", Need.Urgency.SPECIAL): 1,
    (Stage.RESOLVE, "", ""): 10,
    (Stage.RESOLVE, Need.Kind.CONSULTATION, ""): 3,
    (Stage.RESOLVE, Need.Kind.SUGGESTION, ""): 10,
    (Stage.RESOLVE, Need.Kind.COMPLAINT, ""): 13,
    (Stage.RESOLVE, Need.Kind.HELP, ""): 13,
    (Stage.RESOLVE, Need.Kind.LEGAL_AID, ""): 13,
    # After the street's escalation, how long before the district takes it over.
    (Stage.ESCALATE, "", ""): 2,
    # How long a resolved need waits for the worker's rating before closing itself.
    (Stage.RATE, "", ""): 7,
}


def stage_rules(stage: str) -> dict[tuple[str, str], int]:
    """The district's rows for one stage, keyed by (kind, urgency): one query."""
    return {
        (rule.kind, rule.urgency): rule.working_days
        for rule in TimeLimit.objects.filter(stage=stage)
    }


def working_days_for(
    stage: str,
    kind: str = "",
    urgency: str = "",
    *,
    rules: dict[tuple[str, str], int] | None = None,
) -> int:
    """Working days allowed; pass ``rules`` from ``stage_rules`` to look up many at once."""
    if rules is None:
        rules = stage_rules(stage)
    for key in ((kind, urgency), (kind, ""), ("", urgency), ("", "")):
        if key in rules:
            return rules[key]
    for key in ((kind, urgency), (kind, ""), ("", urgency), ("", "")):
        if (stage, *key) in DEFAULT_DAYS:
            return DEFAULT_DAYS[(stage, *key)]
    raise LookupError(f"no time limit for stage {stage}")


def due(stage: str, start: dt.datetime, *, kind: str = "", urgency: str = "") -> dt.datetime:
    return add_working_days(start, working_days_for(stage, kind, urgency))
