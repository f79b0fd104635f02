"""``python -m bot dues …``: payroll deduction files into the dues ledger, and rate changes.

``dues import FILE`` reads a payroll deduction file (.xlsx or .csv, as Excel or
WPS writes it: GBK or UTF-8 with its BOM, a title row above the header) with
the columns 工号, 月份, 金额 and optionally 姓名. Every row is checked first; one
bad row means nothing is recorded, and each bad row is listed with its line and
what is wrong. Importing the same file again records nothing new.

``dues rate 工号 2027-01 30`` changes what a member owes each month from that
month on; the months before keep their amount.

Like every command here it runs as the union office (:attr:`System.COMMAND_LINE`).
Exit codes: 0 done, 1 bad data or not found, 2 wrong use of the command.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.app import App
from bot.roster_files import _cell_text, _csv_lines, _header_key
from handlers.core.i18n import Translator
from models.base import utcnow
from models.dues.imports import PaymentRow, ProgressCallback, check_payments, import_payments
from models.dues.ledger import System, set_dues_rate
from models.dues.months import month_key, parse_month
from models.dues.tables import DuesPolicy
from models.errors import N_, DomainError, InvalidInput, NotFound
from models.members import format_yuan, get_member_by_employee_no, parse_yuan

PROGRESS_MIN_ROWS = 1000
_HEADER_SEARCH_ROWS = 10

_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "employee_no": ("工号", "职工号", "员工号", "employee_no", "employee no"),
    "name": ("姓名", "name"),
    "month": ("月份", "所属月份", "扣款月份", "会费月份", "month"),
    "amount": ("金额", "会费", "扣款金额", "代扣会费", "实扣会费", "会费金额", "金额(元)", "amount"),
}
_REQUIRED: dict[str, str] = {"employee_no": "工号", "month": "月份", "amount": "金额"}
_FIELD_BY_HEADER = {_header_key(word): field for field, words in _HEADER_WORDS.items() for word in words}

Action = Callable[[App, argparse.Namespace, Translator], int]


class WrongFile(InvalidInput):
    """The file is not .xlsx or .csv: a mistake in the command, not in the data."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    dues = subparsers.add_parser("dues", help="会费: import payroll deductions, change a member's rate")
    actions = dues.add_subparsers(dest="action", required=True, metavar="ACTION")
    imports = actions.add_parser(
        "import",
        help="record a payroll deduction file (.xlsx/.csv: 工号, 月份, 金额[, 姓名]); rows checked first",
    )
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.set_defaults(func=_run(_import))
    rate = actions.add_parser("rate", help="change what a member owes each month, from a month on")
    rate.add_argument("employee_no", metavar="工号")
    rate.add_argument("from_month", metavar="YYYY-MM", help="the first month at the new amount, e.g. 2027-01")
    rate.add_argument("amount", metavar="元", help="the new monthly amount in yuan, e.g. 30.00; 0 exempts")
    rate.set_defaults(func=_run(_rate))


def _run(action: Action) -> Callable[[App, argparse.Namespace], int]:
    def run(app: App, args: argparse.Namespace) -> int:
        app.prepare()
        _ = app.translator
        try:
            return action(app, args, _)
        except WrongFile as error:
            print(_.error(error), file=sys.stderr)
            return 2
        except DomainError as error:
            print(_.error(error), file=sys.stderr)
            return 1

    return run


# ----------------------------------------------------------------------------- reading the file


def read_payments(path: Path) -> list[PaymentRow]:
    """The data rows of a payroll file, numbered as the spreadsheet numbers them.

    Raises:
        WrongFile: neither .xlsx nor .csv.
        NotFound: there is no such file.
        InvalidInput: the file cannot be read, or a required column is missing.
    """
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise WrongFile(
            "dues.file_type",
            N_("只支持 .xlsx 和 .csv 格式的代扣文件，“{name}”不是。旧版 .xls 请在 Excel 中另存为 .xlsx。"),
            name=path.name,
        )
    try:
        if suffix == ".csv":
            return _rows(_csv_lines(path.read_bytes()))
        return _rows(_xlsx_lines(path))
    except FileNotFoundError:
        raise NotFound("dues.file_missing", N_("找不到文件“{path}”。"), path=str(path)) from None
    except (OSError, csv.Error, zipfile.BadZipFile, InvalidFileException, KeyError):
        raise InvalidInput(
            "dues.file_unreadable",
            N_("无法读取文件“{path}”，它可能已损坏，或不是真正的 {suffix} 文件。"),
            path=str(path),
            suffix=suffix,
        ) from None


def _xlsx_lines(path: Path) -> Iterator[list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in row]
        finally:
            workbook.close()


def _rows(lines: Iterable[Sequence[str]]) -> list[PaymentRow]:
    columns: dict[str, int] | None = None
    rows: list[PaymentRow] = []
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
            "dues.file_empty", N_("文件是空的：第 1 行应为表头（工号、月份、金额），其下每行一笔代扣。")
        )
    if columns is None:
        _columns([], last_chance=True)
    return rows


def _row(number: int, cells: Sequence[str], columns: dict[str, int]) -> PaymentRow:
    def cell(field: str) -> str | None:
        position = columns.get(field)
        if position is None:
            return None
        return cells[position] if position < len(cells) else ""

    return PaymentRow(
        line=number,
        employee_no=cell("employee_no") or "",
        month=cell("month") or "",
        amount=cell("amount") or "",
        name=cell("name"),
    )


def _columns(cells: Sequence[str], *, last_chance: bool) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for position, text in enumerate(cells):
        field = _FIELD_BY_HEADER.get(_header_key(text))
        if field is not None and field not in columns:
            columns[field] = position
    if not columns and not last_chance:
        return None
    for field, label in _REQUIRED.items():
        if field not in columns:
            raise InvalidInput(
                "dues.missing_column",
                N_("表头缺少“{column}”列。代扣文件第 1 行应为表头，至少包括工号、月份、金额三列。"),
                column=label,
            )
    return columns


# ----------------------------------------------------------------------------- the commands


def _console() -> Console:
    return Console(highlight=False, stderr=True)


@contextmanager
def _progress(description: str, total: int) -> Iterator[ProgressCallback]:
    """A progress bar on the terminal for large files; silent in pipes, logs and tests."""
    console = _console()
    if total < PROGRESS_MIN_ROWS or not console.is_terminal:
        yield lambda done: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


def _busy(description: str) -> AbstractContextManager[object]:
    console = _console()
    return console.status(description) if console.is_terminal else nullcontext()


def _import(app: App, args: argparse.Namespace, _: Translator) -> int:
    now = utcnow()
    current = app.core_config.policy(DuesPolicy).month(now)
    with _busy(_("正在读取 {file}……").format(file=args.file.name)):
        rows = read_payments(args.file)
        with app.sessions() as session:
            checked, problems = check_payments(session, rows, current=current)
    for line, error in problems:
        print(_("第 {line} 行：{reason}").format(line=line, reason=_.error(error)), file=sys.stderr)
    if problems:
        bad = len({line for line, _error in problems})
        print(
            _.ngettext(
                "有 {count} 行数据有误，没有记录任何会费。请改正后重新导入。",
                "有 {count} 行数据有误，没有记录任何会费。请改正后重新导入。",
                bad,
            ).format(count=bad),
            file=sys.stderr,
        )
        return 1
    with _progress(_("正在记录"), total=len(checked.payments)) as report, app.sessions() as session:
        added = import_payments(session, checked.payments, now=now, progress=report)
    total = sum(payment.amount_fen for payment in checked.payments)
    print(
        _("导入完成：记录 {added} 笔，共 {total} 元；已在账上而跳过 {already} 笔。").format(
            added=added, total=format_yuan(total), already=checked.already + len(checked.payments) - added
        )
    )
    return 0


def _rate(app: App, args: argparse.Namespace, _: Translator) -> int:
    from_month = parse_month(args.from_month)
    amount = parse_yuan(args.amount)
    with app.sessions() as session:
        member = get_member_by_employee_no(session, args.employee_no)
        set_dues_rate(
            session,
            actor=System.COMMAND_LINE,
            member=member,
            from_month=from_month,
            amount_fen=amount,
            now=utcnow(),
        )
        name, employee_no = member.name, member.employee_no
    print(
        _("{name}（工号 {employee_no}）自 {month} 起月会费为 {amount} 元。").format(
            name=name, employee_no=employee_no, month=month_key(from_month), amount=format_yuan(amount)
        )
    )
    return 0
