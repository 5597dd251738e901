"""Database functions the reports aggregate with, on PostgreSQL and SQLite alike.

``PercentileCont`` is PostgreSQL's ordered-set aggregate ``percentile_cont``. SQLite has
no percentile function, so one with the same definition (linear interpolation between
the closest ranks, NULLs ignored) is registered on every SQLite connection — the way
Django itself adds ``STDDEV_POP`` and friends there. Either way the percentile is
computed inside the database's GROUP BY, in the same query as the counts.
"""

from __future__ import annotations

import math

from django.db import NotSupportedError
from django.db.models import Aggregate, FloatField, Func


class DaysBetween(Func):
    """``end − start`` in (fractional) calendar days; NULL when either is NULL."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"DaysBetween is not implemented for {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)::double precision",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return f"(julianday({end_sql}) - julianday({start_sql}))", (*end_params, *start_params)


class PercentileCont(Aggregate):
    """The ``fraction`` percentile of ``expression`` per group, interpolated (p50 = median)."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    allow_distinct = False
    empty_result_set_value = None

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must lie between 0 and 1")
        self.fraction = fraction
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"PercentileCont is not implemented for {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        return Aggregate.as_sql(
            self,
            compiler,
            connection,
            template=f"%(function)s({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return Aggregate.as_sql(
            self,
            compiler,
            connection,
            template=f"%(function)s({self.fraction!r}, %(expressions)s)",
            **extra_context,
        )


class _SQLitePercentileCont:
    """SQLite aggregate ``percentile_cont(fraction, value)``, same result as PostgreSQL's."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, fraction, value):
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self):
        return percentile_cont(self.values, self.fraction)


def percentile_cont(values, fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def register_sqlite_functions(sender, connection, **kwargs):
    """``connection_created`` receiver (connected in ``CoreConfig.ready``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("PERCENTILE_CONT", 2, _SQLitePercentileCont)
