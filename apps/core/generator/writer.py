"""Streaming rows into the database in batches: COPY on PostgreSQL, executemany elsewhere.

Rows are plain tuples in the column order given when a table is registered; the
order of registration is the order of flushing, parents before children, so every
flush leaves the foreign keys satisfied. Nothing goes through the ORM: no signals
(so no audit history), no per-row queries.
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.color import no_style
from django.db import connection, models, transaction


class GeneratorError(Exception):
    """The generator cannot run: the message says why, in the operator's language."""


class Table:
    def __init__(self, model: type[models.Model], columns: tuple[str, ...]):
        self.model = model
        self.name = model._meta.db_table
        self.columns = columns
        expected = {f.column for f in model._meta.concrete_fields}
        if set(columns) != expected or len(columns) != len(expected):
            # A new field needs a decision here, or the generated rows would be wrong.
            missing = sorted(expected - set(columns))
            unknown = sorted(set(columns) - expected)
            raise GeneratorError(
                f"{self.name}: generator columns differ from the model "
                f"(missing {missing}, unknown {unknown})"
            )
        self.rows: list[tuple] = []
        self.written = 0
        self.next_id = (model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1

    def take_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


class Writer:
    """Buffers rows per table and writes them all once enough are waiting."""

    def __init__(self, batch_rows: int = 100_000):
        self.batch_rows = batch_rows
        self.tables: list[Table] = []
        self.pending = 0
        self.postgres = connection.vendor == "postgresql"
        self.seconds = 0.0

    def table(self, model, columns) -> Table:
        table = Table(model, tuple(columns))
        self.tables.append(table)
        return table

    def add(self, table: Table, row: tuple) -> None:
        table.rows.append(row)
        self.pending += 1
        if self.pending >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        started = time.monotonic()
        with transaction.atomic():
            raw = connection.connection
            for table in self.tables:
                if not table.rows:
                    continue
                if self.postgres:
                    self._copy(raw, table)
                else:
                    self._insert(raw, table)
                table.written += len(table.rows)
                table.rows = []
        self.pending = 0
        self.seconds += time.monotonic() - started

    @staticmethod
    def _copy(raw, table: Table) -> None:
        columns = ", ".join(f'"{c}"' for c in table.columns)
        sql = f'COPY "{table.name}" ({columns}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in table.rows:
                write(row)

    @staticmethod
    def _insert(raw, table: Table) -> None:
        columns = ", ".join(f'"{c}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', table.rows
            )
        finally:
            cursor.close()

    def finish(self) -> None:
        """Write what is left, then move the id sequences past the explicit ids."""
        self.flush()
        if self.postgres:
            models_written = [t.model for t in self.tables if t.written]
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), models_written):
                    cursor.execute(sql)

    def analyze(self) -> None:
        """Fresh planner statistics, so the first queries after a load use the indexes."""
        if not self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            return
        with connection.cursor() as cursor:
            for table in self.tables:
                if table.written:
                    cursor.execute(f'ANALYZE "{table.name}"')


class Stamps:
    """Epoch seconds as the text each database stores a timestamp as (UTC)."""

    def __init__(self, first_utc_day: int, days: int, postgres: bool):
        suffix = "+00" if postgres else ""
        base = dt.date(1970, 1, 1) + dt.timedelta(days=first_utc_day)
        self.first = first_utc_day
        self.day_text = [(base + dt.timedelta(days=i)).isoformat() + " " for i in range(days)]
        self.second_text = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(86_400)
        ]

    def __call__(self, t: int | None) -> str | None:
        if t is None:
            return None
        day, second = divmod(t, 86_400)
        return self.day_text[day - self.first] + self.second_text[second]
