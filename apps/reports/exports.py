"""A report table as a download: CSV for anything, XLSX for Excel.

Both are written from the same ``Table`` the page shows. The CSV holds exactly the
page's display strings; the XLSX holds the numbers themselves, formatted the way the
page shows them, so a reader can sum and sort them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from .filters import ReportParams
from .tables import DASH, Column, Kind, Table

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMATS = {
    Kind.INT: "#,##0",
    Kind.PCT: "0.0%",
    Kind.DAYS: "0.0",
    Kind.NUM: "0.0",
    Kind.MONEY: "#,##0.00",
    Kind.POINTS: "+0.0;-0.0;0.0",
}
UNSAFE_IN_FILE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
UNSAFE_IN_SHEET_NAME = re.compile(r"[\\/:*?\[\]]")


def export_response(
    table: Table, params: ReportParams, fmt: str, computed_at: dt.datetime | None = None
) -> HttpResponse:
    content = to_csv(table) if fmt == "csv" else to_xlsx(table, params, computed_at)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(
        True, file_name(table, params, fmt)
    )
    return response


def file_name(table: Table, params: ReportParams, ext: str) -> str:
    """职工之家报表_<table title>_<period>[_<street>][_<area>].<ext>"""
    stem = "_".join(["职工之家报表", table.title, *params.describe()])
    return f"{UNSAFE_IN_FILE_NAME.sub('_', stem)}.{ext}"


# --- CSV ------------------------------------------------------------------------------


def csv_cell(text: str, column: Column) -> str:
    """A text cell that a spreadsheet would run as a formula is quoted with an apostrophe.

    Numeric columns are left alone: "-3.0" in a points column is a number, not a formula.
    """
    if column.kind == Kind.TEXT and text.startswith(FORMULA_START):
        return "'" + text
    return text


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(column.label for column in table.columns)
    for cells in table.display_rows():
        writer.writerow(
            csv_cell(text, column) for text, column in zip(cells, table.columns, strict=True)
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- XLSX -----------------------------------------------------------------------------


def xlsx_value(value, column: Column):
    """The number a numeric cell holds (points as shown: 100 × the gap), else the text."""
    if value is None or value == "":
        return DASH
    if column.kind == Kind.TEXT:
        return str(value)
    if column.kind == Kind.INT:
        return int(value)
    if column.kind == Kind.MONEY:
        return value
    if column.kind == Kind.POINTS:
        return round(float(value) * 100, 10)
    return float(value)


def title_lines(
    table: Table, params: ReportParams, computed_at: dt.datetime | None = None
) -> list[str]:
    filters = f"统计期间：{params.label}"
    if params.street is not None:
        filters += f"；街道（开发区）：{params.street.name}"
    if params.area is not None:
        filters += f"；服务领域：{params.area.name}"
    if computed_at is not None:
        filters += f"；数据统计于 {timezone.localtime(computed_at):%Y-%m-%d %H:%M}"
    return [f"职工之家报表：{table.title}", filters]


def to_xlsx(table: Table, params: ReportParams, computed_at: dt.datetime | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = UNSAFE_IN_SHEET_NAME.sub("_", table.title)[:31]
    title, filters = title_lines(table, params, computed_at)
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([filters])
    sheet.append([column.label for column in table.columns])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rows = [*table.rows, *([table.total] if table.total else [])]
    for row in rows:
        sheet.append([xlsx_value(row.get(column.key), column) for column in table.columns])
        _format_row(sheet[sheet.max_row], table.columns)
    if table.total:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    if table.note:
        sheet.append([])
        sheet.append([table.note])
    sheet.freeze_panes = "B4"
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(row=3, column=index).column_letter
        sheet.column_dimensions[letter].width = max(10, min(30, 2 * len(column.label) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _format_row(cells, columns: list[Column]) -> None:
    for cell, column in zip(cells, columns, strict=True):
        if column.kind == Kind.TEXT or cell.value == DASH:
            # Stored as text even when it starts with "=": a name, never a formula.
            cell.data_type = "s"
            if column.kind != Kind.TEXT:
                cell.alignment = Alignment(horizontal="right")
            continue
        cell.number_format = NUMBER_FORMATS[column.kind]
