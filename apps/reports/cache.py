"""Computed reports, kept so that a reviewer's next look costs a lookup, not 30 aggregations.

A report over a whole district's year scans hundreds of thousands of needs. Its figures are
kept in the shared cache under the scope and filters that produced them, together with the
moment they were computed and a *fingerprint* of the data: one query of index lookups (the
latest change time or id of every table the report reads). The rule:

- the fingerprint is unchanged → the kept figures are the current ones;
- the data changed, but the figures are younger than ``REPORT_STALE_SECONDS`` → they are
  shown, and the page says when they were computed and that newer records exist (a busy
  district changes every minute; recomputing on each change would make every view cold);
- otherwise (or when the reviewer asks, at most once per ``REPORT_REFRESH_SECONDS``) the
  report is computed again.

Figures are never older than ``REPORT_MAX_AGE_SECONDS`` whatever the fingerprint says, which
bounds what it cannot see (a deleted row, a renamed street). The page and the exports always
carry the time the figures were computed (``CachedReport.computed_at``).

The fingerprint is read from the same database as the figures (the replica when one is set),
so figures computed from a lagging replica are never filed under the primary's newer state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from apps.core.routers import reports_database
from apps.members.models import Member
from apps.needs.models import Need, NeedEvent, Rating, ServiceArea
from apps.projects.models import ProjectEvent, Review, Reward, ServiceProject
from apps.workstations.models import Street, Unit, Workstation

from .filters import ReportParams
from .metrics import Report, build_report
from .models import FollowUpCall, FollowUpSample, RankingWeights

# How often a request waiting for another's computation looks for its result.
WAIT_STEP_SECONDS = 0.25

# Bump when the Report's shape changes, so no process unpickles an older layout.
LAYOUT = 1

# (model, column) whose maximum moves whenever the report's inputs change: change times
# where rows are edited in place, ids where rows are only ever added.
FINGERPRINT = [
    (Need, "updated_at"),
    (Need, "id"),
    (NeedEvent, "id"),
    (Rating, "id"),
    (Member, "updated_at"),
    (Member, "id"),
    (ServiceProject, "updated_at"),
    (ProjectEvent, "id"),
    (Review, "id"),
    (Reward, "id"),
    (FollowUpSample, "id"),
    (FollowUpCall, "called_at"),
    (RankingWeights, "updated_at"),
    (Street, "id"),
    (Workstation, "id"),
    (Unit, "id"),
    (ServiceArea, "id"),
]


def data_fingerprint(alias: str) -> tuple:
    """The latest change of every input of the report, in one query of index lookups."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"(SELECT MAX({quote(column)}) FROM {quote(model._meta.db_table)})"
        for model, column in FINGERPRINT
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return tuple(str(value) for value in cursor.fetchone())


@dataclasses.dataclass(frozen=True)
class CachedReport:
    report: Report
    computed_at: dt.datetime
    fingerprint: tuple
    # Whether records were added or changed after the figures were computed.
    outdated: bool = False
    # Where the figures are kept; with computed_at it names anything derived from them.
    key: str = ""
    # Whether this very call computed them (never true of figures read from the cache).
    computed_now: bool = False

    @property
    def version(self) -> str:
        """A name for these very figures: things rendered from them are kept under it."""
        return f"{self.key}:{self.computed_at.timestamp():.6f}"

    @property
    def refresh_due(self) -> dt.datetime:
        """When outdated figures will be replaced at the latest."""
        return self.computed_at + dt.timedelta(seconds=settings.REPORT_STALE_SECONDS)

    @property
    def may_refresh(self) -> bool:
        """Whether a reviewer's "update now" would be honoured (not right after a compute)."""
        age = timezone.now() - self.computed_at
        return self.outdated and age.total_seconds() >= settings.REPORT_REFRESH_SECONDS


def cache_key(params: ReportParams) -> str:
    scope = params.scope
    parts = [
        f"layout={LAYOUT}",
        f"everything={scope.everything}",
        "districts=" + ",".join(map(str, sorted(scope.district_ids))),
        "streets=" + ",".join(map(str, sorted(scope.street_ids))),
        "workstations=" + ",".join(map(str, sorted(scope.workstation_ids))),
        params.query_string(),
        f"{params.start:%Y%m%d}-{params.end:%Y%m%d}",
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f"reports:report:{digest}"


def get_report(
    params: ReportParams, refresh: bool = False, recompute_outdated: bool = False
) -> CachedReport:
    """The report for ``params``: kept figures when still valid, else computed now.

    ``recompute_outdated`` (refresh_reports, run by cron) replaces outdated figures at once,
    whatever their age, so reviewers rarely wait for a district-wide computation.
    """
    key = cache_key(params)
    with reports_database() as alias:
        fingerprint = data_fingerprint(alias)
        kept: CachedReport | None = cache.get(key)
        now = timezone.now()
        if kept is not None:
            age = (now - kept.computed_at).total_seconds()
            if age < settings.REPORT_MAX_AGE_SECONDS:
                if kept.fingerprint == fingerprint:
                    return dataclasses.replace(kept, outdated=False)
                outdated = dataclasses.replace(kept, outdated=True)
                asked = (refresh and outdated.may_refresh) or recompute_outdated
                if age < settings.REPORT_STALE_SECONDS and not asked:
                    return outdated
        return _compute_once(params, key, fingerprint, now, kept)


def _compute_once(params, key, fingerprint, now, kept: CachedReport | None) -> CachedReport:
    """Compute the figures, unless another process is computing the same ones right now.

    A district's year takes many seconds; several reviewers (or one reloading) arriving
    while it runs wait for that computation instead of each starting their own, which
    would multiply the load exactly when the database is busiest. A lock whose holder
    died expires, and a waiter that has waited REPORT_COMPUTE_WAIT_SECONDS computes itself.
    """
    lock = f"{key}:computing"
    if not cache.add(lock, 1, timeout=settings.REPORT_COMPUTE_WAIT_SECONDS):
        seen = kept.computed_at if kept is not None else None
        deadline = time.monotonic() + settings.REPORT_COMPUTE_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(WAIT_STEP_SECONDS)
            other: CachedReport | None = cache.get(key)
            if other is not None and other.computed_at != seen:
                return dataclasses.replace(other, outdated=other.fingerprint != fingerprint)
            if cache.get(lock) is None:
                break  # the other computation gave up: compute here
    try:
        report = build_report(params, now=now)
        fresh = CachedReport(report=report, computed_at=now, fingerprint=fingerprint, key=key)
        cache.set(key, fresh, settings.REPORT_MAX_AGE_SECONDS)
    finally:
        cache.delete(lock)
    return dataclasses.replace(fresh, computed_now=True)
