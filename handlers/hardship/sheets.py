"""Writing the hardship workbooks (a campaign's list and totals, the figures): sheets of text and numbers.

Everything a person wrote goes in as text, never as a formula: a name or a fund
such as "=HYPERLINK(…)" must not run when the office opens the file. A file is
written whole under a fresh name or not at all.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YUAN_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DECIMAL_FORMAT = "0.0"
WIDTH_MIN, WIDTH_MAX = 6, 50
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def yuan(fen: int | None) -> Decimal | None:
    """Fen as yuan, exactly: what a spreadsheet cell holds."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _width(value: object) -> int:
    text = value.isoformat() if isinstance(value, date) else str(value if value is not None else "")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Sheet:
    """One sheet: a title row, a header row, then data rows."""

    def __init__(self, sheet: Worksheet, title: str, headers: Sequence[str]) -> None:
        self.sheet = sheet
        self.widths = [_width(header) for header in headers]
        self._put(1, 1, title).font = Font(bold=True, size=14)
        if len(headers) > 1:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        for column, header in enumerate(headers, start=1):
            cell = self._put(2, column, header)
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.freeze_panes = "A3"
        self.next_row = 3

    def _put(self, row: int, column: int, value: Any, number_format: str | None = None) -> Cell:
        cell = self.sheet.cell(row=row, column=column)
        assert isinstance(cell, Cell)
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell.data_type = "s"  # "=1+1" typed by someone stays text
        else:
            cell.value = value
        if number_format is not None and value is not None:
            cell.number_format = number_format
        return cell

    def add(self, values: Sequence[Any], formats: Sequence[str | None] = (), bold: bool = False) -> None:
        for column, value in enumerate(values, start=1):
            number_format = formats[column - 1] if column <= len(formats) else None
            cell = self._put(self.next_row, column, value, number_format)
            if bold:
                cell.font = Font(bold=True)
            if column <= len(self.widths):
                self.widths[column - 1] = max(self.widths[column - 1], _width(value))
        self.next_row += 1

    def finish(self) -> None:
        for column, width in enumerate(self.widths, start=1):
            self.sheet.column_dimensions[get_column_letter(column)].width = min(
                max(width + 2, WIDTH_MIN), WIDTH_MAX
            )


def new_workbook() -> Workbook:
    return Workbook()


def first_sheet(workbook: Workbook, name: str) -> Worksheet:
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = name
    return sheet


def save(workbook: Workbook, folder: Path, stem: str) -> Path:
    """Write under ``folder`` with a fresh name (two cadres never share a file), whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{secrets.token_hex(8)}.xlsx"
    partial = path.with_name(path.name + ".part")
    try:
        workbook.save(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
