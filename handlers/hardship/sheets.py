"""Writing the hardship workbooks (a campaign's list and totals, the figures) with the shared sheet
writer (handlers/core/workbook.py): text stays text, a file is written whole or not at all."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from handlers.core.workbook import DATE_FORMAT, DECIMAL_FORMAT, MIME_TYPE, YUAN_FORMAT, Sheet, save_workbook

__all__ = [
    "DATE_FORMAT",
    "DECIMAL_FORMAT",
    "MIME_TYPE",
    "YUAN_FORMAT",
    "Sheet",
    "first_sheet",
    "save",
    "yuan",
]


def yuan(fen: int | None) -> Decimal | None:
    """Fen as yuan, exactly: what a spreadsheet cell holds."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def new_workbook() -> Workbook:
    return Workbook()


def first_sheet(workbook: Workbook, name: str) -> Worksheet:
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = name
    return sheet


def save(workbook: Workbook, folder: Path, stem: str) -> Path:
    """Write under ``folder`` with a fresh name, so two cadres never share a file."""
    return save_workbook(workbook, folder / f"{stem}-{secrets.token_hex(8)}.xlsx")
