"""Spreadsheets cadres export (.xlsx): one way to write a sheet, for every feature's figures and lists.

A sheet has a title row, a header row and data rows. Everything members wrote goes
in as text, never as a formula: a title such as "=HYPERLINK(…)" must not run when
the office opens the file; characters a workbook cannot hold are dropped rather
than failing the whole export.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YUAN_FORMAT = "#,##0.00"
DECIMAL_FORMAT = "0.0"
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
WIDTH_MIN, WIDTH_MAX = 6, 50
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def width_of(value: object) -> int:
    """Columns as wide as their text reads: a Chinese character takes two places."""
    text = value.isoformat() if isinstance(value, date) else str(value if value is not None else "")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Sheet:
    """One sheet: a title row, a header row, data rows; text always written as text."""

    def __init__(self, sheet: Worksheet, title: str, headers: Sequence[str]) -> None:
        self.sheet = sheet
        self.widths = [width_of(header) for header in headers]
        self._put(1, 1, title).font = Font(bold=True, size=14)
        if len(headers) > 1:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        for column, header in enumerate(headers, start=1):
            cell = self._put(2, column, header)
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.freeze_panes = "B3"
        self.next_row = 3

    def _put(self, row: int, column: int, value: Any, number_format: str | None = None) -> Cell:
        cell = self.sheet.cell(row=row, column=column)
        assert isinstance(cell, Cell)  # only the title row is merged, after its first cell is written
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            # "=1+1" from a member stays the text "=1+1": openpyxl would store it as a formula.
            cell.data_type = "s"
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
                self.widths[column - 1] = max(self.widths[column - 1], width_of(value))
        self.next_row += 1

    def finish(self) -> None:
        for column, width in enumerate(self.widths, start=1):
            letter = get_column_letter(column)
            self.sheet.column_dimensions[letter].width = min(max(width + 2, WIDTH_MIN), WIDTH_MAX)


def save_workbook(workbook: Workbook, path: Path) -> Path:
    """Write the workbook whole or not at all: a half-written file is never left under ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        workbook.save(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
