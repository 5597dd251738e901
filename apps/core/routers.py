"""Where queries go.

Reports are read-only aggregation over the whole district; with ``DATABASE_REPLICA_URL`` set
they run on a PostgreSQL read replica (``settings.REPORTS_DATABASE``) so they never compete
with cadres' and workers' writes. Everything else — and every write, including the
follow-up sampling that reviewers do from the report pages — uses ``default``.

Code opts in with ``with reports_database(): ...``; the router only answers for reads made
inside that block, so a query cannot reach the replica by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


@contextmanager
def reports_database() -> Iterator[str]:
    """Send the reads made inside the block to the reports database; yields its alias."""
    token = _reading_reports.set(True)
    try:
        yield settings.REPORTS_DATABASE
    finally:
        _reading_reports.reset(token)


class ReportsReplicaRouter:
    def db_for_read(self, model, **hints):
        return settings.REPORTS_DATABASE if _reading_reports.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as default: an object read from one may refer to
        # an object read from the other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A replica receives its schema by replication, never by migrate.
        return db == "default"
