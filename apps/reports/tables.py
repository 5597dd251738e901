"""Report tables: one structure shown on the page, under each chart, and in every export.

A ``Table`` holds raw values (ints, floats, Decimals, strings, None); ``Column.kind``
says how to show them. The page, the CSV and the XLSX all read the same rows, so an
export can never disagree with the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

DASH = "—"


class Kind:
    TEXT = "text"
    INT = "int"  # a count
    PCT = "pct"  # a share, 0..1, shown as 41.2%
    DAYS = "days"  # calendar days, one decimal
    NUM = "num"  # a rate or score, one decimal
    MONEY = "money"  # yuan, two decimals
    POINTS = "points"  # a gap in percentage points, signed, one decimal


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = Kind.TEXT

    @property
    def numeric(self) -> bool:
        return self.kind != Kind.TEXT

    def display(self, value) -> str:
        return display(value, self.kind)


def display(value, kind: str) -> str:
    if value is None or value == "":
        return DASH
    if kind == Kind.TEXT:
        return str(value)
    if kind == Kind.INT:
        return f"{int(value):,}"
    if kind == Kind.PCT:
        return f"{float(value) * 100:.1f}%"
    if kind == Kind.POINTS:
        return f"{float(value) * 100:+.1f}"
    if kind == Kind.MONEY:
        return f"{Decimal(value):,.2f}"
    return f"{float(value):.1f}"


@dataclass
class Table:
    key: str  # the export URL's name for it, e.g. "balance-street"
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    total: dict | None = None  # the whole-scope row, shown last
    note: str = ""

    def display_rows(self):
        """Rows (then the total) as lists of display strings, in column order."""
        for row in [*self.rows, *([self.total] if self.total else [])]:
            yield [column.display(row.get(column.key)) for column in self.columns]

    @property
    def is_empty(self) -> bool:
        return not self.rows
