"""Roster files: .xlsx and .csv in, .xlsx and .csv out.

The roster lives in the 厂工会 office's spreadsheet, so the files are whatever
Excel (or WPS) writes in China: CSV in GBK as often as in UTF-8, headers in
Chinese with full-width brackets, 工号 and phone numbers stored as numbers.
This module turns all of that into plain :class:`RosterRow` text and leaves
every rule about the values to :mod:`models.roster`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException

from models.errors import N_, InvalidInput, NotFound
from models.names import visible
from models.roster import RosterRow

# The fields of RosterRow a column can fill, and the header words that mean each.
_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "employee_no": ("工号", "职工号", "员工号", "employee_no", "employee no", "employee number"),
    "name": ("姓名", "name"),
    "unit": ("单位", "所在单位", "unit"),
    "phone": ("手机", "手机号", "手机号码", "phone", "mobile"),
    "roles": ("角色", "role", "roles"),
    "monthly_dues": ("月会费", "月会费(元)", "monthly_dues", "monthly dues", "dues"),
    "status": ("状态", "会员状态", "status"),
}
REQUIRED_COLUMNS: dict[str, str] = {"employee_no": "工号", "name": "姓名", "unit": "单位"}

# What an export writes, in this order; an import reads it back unchanged.
EXPORT_HEADERS: tuple[tuple[str, str], ...] = (
    ("employee_no", "工号"),
    ("name", "姓名"),
    ("unit", "单位"),
    ("phone", "手机"),
    ("roles", "角色"),
    ("monthly_dues", "月会费（元）"),
    ("status", "状态"),
)

# A title row ("某某厂工会会员花名册") often sits above the header: look a little further.
_HEADER_SEARCH_ROWS = 10

# Excel and WPS treat a cell starting with these as a formula (CSV injection):
# an export quotes them with an apostrophe, and an import drops that apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class UnsupportedFile(InvalidInput):
    """The file is not .xlsx or .csv: a mistake in the command, not in the data."""


def _header_key(text: str) -> str:
    """ "月会费（元）", " Employee_No " → comparable keys, forgiving width, case and spaces."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text)).lower()


_FIELD_BY_HEADER: dict[str, str] = {
    _header_key(word): field for field, words in _HEADER_WORDS.items() for word in words
}


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise UnsupportedFile(
            "roster.file_type",
            N_("只支持 .xlsx 和 .csv 格式的花名册，“{name}”不是。旧版 .xls 请在 Excel 中另存为 .xlsx。"),
            name=path.name,
        )
    return suffix


def read_roster(path: Path) -> list[RosterRow]:
    """The data rows of a roster file, numbered as the spreadsheet numbers them.

    Fully blank rows are skipped; columns we do not know (性别, 备注…) are ignored.

    Raises:
        UnsupportedFile: neither .xlsx nor .csv.
        NotFound: there is no such file.
        InvalidInput: the file cannot be read, or a required column is missing.
    """
    suffix = _suffix(path)
    try:
        if suffix == ".csv":
            return _rows(_csv_lines(path.read_bytes()))
        return _read_xlsx(path)
    except FileNotFoundError:
        raise NotFound("roster.file_missing", N_("找不到文件“{path}”。"), path=str(path)) from None
    except (OSError, csv.Error, zipfile.BadZipFile, InvalidFileException, KeyError):
        # A workbook renamed to .csv trips the csv module; openpyxl reports a
        # damaged or mislabelled workbook with any of the others.
        raise InvalidInput(
            "roster.file_unreadable",
            N_("无法读取文件“{path}”，它可能已损坏，或不是真正的 {suffix} 文件。"),
            path=str(path),
            suffix=suffix,
        ) from None


def _decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel adds), else GB18030, which covers GBK."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(
            "roster.encoding",
            N_("无法识别 CSV 文件的编码，请在 Excel 中另存为“CSV UTF-8”后再导入。"),
        ) from None


def _csv_lines(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" where the decimal mark is a comma, and some exports use tabs.
    delimiter = max(",;\t", key=first_line.count)
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [_unquote_formula(cell) for cell in record]


def _unquote_formula(cell: str) -> str:
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS):
        return cell[1:]
    return cell


def _read_xlsx(path: Path) -> list[RosterRow]:
    with warnings.catch_warnings():
        # Workbooks saved by WPS and other tools trip openpyxl's style warnings,
        # which say nothing about the data.
        warnings.simplefilter("ignore", UserWarning)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            # Some writers store a wrong sheet size; read until the data ends instead.
            sheet.reset_dimensions()
            return _rows([_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()


def _cell_text(value: Any) -> str:
    """A cell as the text the user typed: 1001 not "1001.0", 12.5 not "12.500000001"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _rows(lines: Iterable[Sequence[str]]) -> list[RosterRow]:
    """Find the header, then turn each non-blank line below it into a RosterRow."""
    columns: dict[str, int] | None = None
    rows: list[RosterRow] = []
    seen = 0
    for number, cells in enumerate(lines, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        seen += 1
        if columns is None:
            columns = _columns(cells, last_chance=seen >= _HEADER_SEARCH_ROWS)
            continue
        rows.append(_row(number, cells, columns))
    if seen == 0:
        raise InvalidInput(
            "roster.empty", N_("文件是空的：第 1 行应为表头（工号、姓名、单位……），其下每行一名会员。")
        )
    if columns is None:
        _columns([], last_chance=True)
    return rows


def _columns(cells: Sequence[str], *, last_chance: bool) -> dict[str, int] | None:
    """Map fields to column positions, or None when this may be a title above the header.

    Raises:
        InvalidInput: a header row without one of 工号, 姓名, 单位, or no header at all.
    """
    columns: dict[str, int] = {}
    for position, cell in enumerate(cells):
        field = _FIELD_BY_HEADER.get(_header_key(cell))
        if field is not None and field not in columns:
            columns[field] = position
    if not columns and not last_chance:
        return None
    for field, label in REQUIRED_COLUMNS.items():
        if field not in columns:
            raise InvalidInput(
                "roster.missing_column",
                N_("表头缺少“{column}”列。花名册第 1 行应为表头，至少包括工号、姓名、单位三列。"),
                column=label,
            )
    return columns


def _row(number: int, cells: Sequence[str], columns: dict[str, int]) -> RosterRow:
    def cell(field: str) -> str | None:
        position = columns.get(field)
        if position is None:
            return None
        return cells[position] if position < len(cells) else ""

    return RosterRow(
        line=number,
        employee_no=cell("employee_no") or "",
        name=cell("name") or "",
        unit=cell("unit") or "",
        phone=cell("phone"),
        roles=cell("roles"),
        monthly_dues=cell("monthly_dues"),
        status=cell("status"),
    )


def write_roster(path: Path, rows: Iterable[RosterRow]) -> int:
    """Write rows to .xlsx or .csv (chosen by the suffix), with the Chinese headers.

    The CSV carries a UTF-8 BOM, without which Excel in China reads it as GBK
    and garbles every name. Hidden characters are written as visible marks (see
    :func:`_export_value`), so no row can stop the export. Returns the number of rows written.

    Raises:
        UnsupportedFile: neither .xlsx nor .csv.
        InvalidInput: the file cannot be written (missing folder, no permission).
    """
    suffix = _suffix(path)
    table = ([_export_value(row, field) for field, _ in EXPORT_HEADERS] for row in rows)
    try:
        if suffix == ".csv":
            return _write_csv(path, table)
        return _write_xlsx(path, table)
    except OSError:
        raise InvalidInput("roster.file_unwritable", N_("无法写入文件“{path}”。"), path=str(path)) from None


def _export_value(row: RosterRow, field: str) -> str:
    """The cell's text, a control or format character shown by its code point (``<U+200B>``) (models.names).

    Imports refuse such characters, but rows written before that rule may hold them:
    openpyxl would refuse the whole workbook over one, and a CSV would carry an escape
    sequence to whoever opens it. The mark is refused by an import in turn, so the
    admin corrects the cell rather than carrying the mark along.
    """
    value: str | None = getattr(row, field)
    return visible(value or "")


def _write_csv(path: Path, table: Iterable[list[str]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header for _, header in EXPORT_HEADERS])
        for values in table:
            writer.writerow([f"'{value}" if value.startswith(_FORMULA_STARTS) else value for value in values])
            count += 1
    return count


def _write_xlsx(path: Path, table: Iterable[list[str]]) -> int:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append([header for _, header in EXPORT_HEADERS])
    count = 0
    for values in table:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            # Text, always: keeps 工号 "0012" and phone numbers intact, and a
            # name starting with "=" is not turned into a formula.
            cell.data_type = "s"
            cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(path)
    return count
