"""会费统计 as an .xlsx workbook: the rates per unit and month, and the arrears, for the office's files.

Names and units go in as text, never as formulas: a name such as "=HYPERLINK(…)"
must not run when the office opens the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from models.dues.figures import Arrear, RatesReport, Tally
from models.dues.months import month_key
from models.errors import N_

Translate = Callable[[str], str]

MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_STEM = N_("会费统计")
RATES_SHEET = N_("收缴率")
ARREARS_SHEET = N_("欠缴明细")
PERCENT_FORMAT = "0.0%"
YUAN_FORMAT = "#,##0.00"


def _text(value: str) -> str:
    """Text as a cell keeps it: no control characters, and no formula."""
    clean = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + clean if clean.startswith(("=", "+", "-", "@")) else clean


def file_name(t: Translate, month: int) -> str:
    return f"{t(FILE_STEM)}-{month_key(month)}.xlsx"


def save_workbook(report: RatesReport, owing: Sequence[Arrear], *, path: Path, t: Translate) -> None:
    """Write the rates (a row per unit, a column per month, then the total) and the arrears."""
    workbook = Workbook()
    rates = workbook.active
    assert rates is not None
    rates.title = t(RATES_SHEET)
    rates.append([t(N_("单位")), *(month_key(month) for month in report.months), t(N_("合计"))])
    for cell in rates[1]:
        cell.font = Font(bold=True)

    def add(name: str, by_month: dict[int, Tally] | None, total: Tally) -> None:
        row = [_text(name)]
        for month in report.months:
            tally = (by_month or {}).get(month)
            row.append(tally.rate if tally is not None and tally.rate is not None else None)  # type: ignore[arg-type]
        row.append(total.rate)  # type: ignore[arg-type]
        rates.append(row)
        for cell in rates[rates.max_row][1:]:
            cell.number_format = PERCENT_FORMAT

    for unit_row in report.rows:
        name = unit_row.path if not unit_row.own else t(N_("{unit}（本级）")).format(unit=unit_row.path)
        add(name, dict(unit_row.by_month), unit_row.total())
    grand = Tally()
    for tally in report.total.values():
        grand.add(tally)
    add(t(N_("合计")), dict(report.total), grand)
    rates.column_dimensions["A"].width = 30

    sheet = workbook.create_sheet(t(ARREARS_SHEET))
    sheet.append([t(N_("工号")), t(N_("姓名")), t(N_("单位")), t(N_("欠缴月份")), t(N_("欠缴金额（元）"))])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for arrear in owing:
        sheet.append(
            [
                _text(arrear.employee_no),
                _text(arrear.name),
                _text(arrear.unit_path),
                "、".join(month_key(month) for month, _owed in arrear.months),
                arrear.owed_fen / 100,
            ]
        )
        sheet.cell(row=sheet.max_row, column=5).number_format = YUAN_FORMAT
    for column, width in zip("ABCDE", (12, 16, 30, 40, 14), strict=True):
        sheet.column_dimensions[column].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
