"""``python -m bot calendar …``: the holidays and make-up days working days are counted by.

The State Council announces the coming year's holidays each November, and the
chinesecalendar package has them only in a later release, while December's
"三及时" deadlines already reach into that year. So the admin writes the notice
into a small file (the format: ``calendar import --help``, and
``models.workdays.read_calendar``) and imports it here; the years it has are
then taken from it ahead of the package, by every process that reads the same
file, within half a minute and without a restart.
Exit codes: 0 done, 1 a bad file, 2 wrong use of the command.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.app import App
from handlers.core.i18n import Translator
from handlers.core.steps import WEEKDAY_NAMES
from models.workdays import (
    FIRST_YEAR,
    KIND_LABELS,
    LAST_YEAR,
    CalendarDay,
    DayKind,
    HolidayCalendar,
    RowError,
    calendar_csv,
    decode_calendar,
    package_version,
    package_year,
    read_calendar,
    use_calendar_file,
)

# Piped into a file, a table is not squeezed into 80 columns.
PIPE_WIDTH = 200

FILE_FORMAT = """\
The file: one day a line, date,kind,name; kind is holiday (a day off, weekend days
within the break too) or workday (a Saturday or Sunday worked, 调休上班). A header
line, blank lines and lines starting with # are skipped. UTF-8 or GBK.

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-06,holiday,春节
    2027-02-14,workday,春节调休

Each year in the file replaces what was imported for that year before, and is
used ahead of the chinesecalendar package."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    calendar = subparsers.add_parser(
        "calendar", help="holidays and make-up days: import the coming year's, show a year's"
    )
    actions = calendar.add_subparsers(dest="action", required=True, metavar="ACTION")
    imports = actions.add_parser(
        "import",
        help="import holidays and make-up days from a CSV file (date,kind,name); every line is checked first",
        epilog=FILE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument("--check", action="store_true", help="only check the file; import nothing")
    imports.set_defaults(func=_import)
    show = actions.add_parser("show", help="a year's holidays and make-up days, and where each comes from")
    show.add_argument("year", type=_year, metavar="YEAR")
    show.set_defaults(func=_show)


def _year(text: str) -> int:
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"a year from {FIRST_YEAR} to {LAST_YEAR}, e.g. 2027")
    return int(text)


def _problems(_: Translator, problems: list[RowError]) -> None:
    for line, error in problems:
        print(_("第 {line} 行：{reason}").format(line=line, reason=_.error(error)), file=sys.stderr)


def _read(_: Translator, path: Path) -> tuple[HolidayCalendar, list[RowError]] | None:
    """The calendar in ``path`` and its problems; None (said on stderr) when the file cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        print(_("找不到文件“{path}”。").format(path=path), file=sys.stderr)
        return None
    except OSError as error:
        print(_("无法读取文件“{path}”：{reason}").format(path=path, reason=error.strerror), file=sys.stderr)
        return None
    text = decode_calendar(data)
    if text is None:
        print(_("无法识别文件“{path}”的编码，请存为 UTF-8 后再导入。").format(path=path), file=sys.stderr)
        return None
    return read_calendar(text)


def _stored(app: App) -> tuple[HolidayCalendar, list[RowError]] | None:
    """The calendar imported so far: empty before the first import."""
    path = app.settings.holidays_path
    if not path.exists():
        return HolidayCalendar(), []
    return _read(app.translator, path)


def _write(path: Path, calendar: HolidayCalendar) -> None:
    """Write the whole file under another name, then put it in place: a bot reading it never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        draft.write_text(calendar_csv(calendar), encoding="utf-8")
        os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def _import(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    read = _read(_, args.file)
    if read is None:
        return 1
    calendar, problems = read
    if problems:
        _problems(_, problems)
        bad_lines = len({line for line, _error in problems})
        print(
            _.ngettext(
                "有 {count} 行有误，没有导入任何日期。", "有 {count} 行有误，没有导入任何日期。", bad_lines
            ).format(count=bad_lines),
            file=sys.stderr,
        )
        print(_("请改正后重新导入。"), file=sys.stderr)
        return 1
    if not calendar.days:
        print(_("文件里没有日期。每行写一天，例如“2027-01-01,holiday,元旦”。"), file=sys.stderr)
        return 1
    for year in sorted(calendar.years):
        days = calendar.year(year)
        print(
            _("{year} 年：放假 {holidays} 天，调休上班 {workdays} 天。").format(
                year=year,
                holidays=sum(entry.kind is DayKind.HOLIDAY for entry in days),
                workdays=sum(entry.kind is DayKind.WORKDAY for entry in days),
            )
        )
        if package_year(year) is not None:
            print(_("chinesecalendar 里也有 {year} 年的安排，导入后以这份文件为准。").format(year=year))
    if args.check:
        print(_("文件没有问题，这次只检查、没有导入；去掉 --check 即可导入。"))
        return 0
    stored = _stored(app)
    if stored is None:
        return 1
    if stored[1]:
        _problems(_, stored[1])
        print(
            _("已有的日历文件 {path} 有误，请改正或删除它后再导入。").format(path=app.settings.holidays_path),
            file=sys.stderr,
        )
        return 1
    path = app.settings.holidays_path
    _write(path, stored[0].replaced_by(calendar))
    use_calendar_file(path)
    print(
        _("已导入，保存在 {path}。正在运行的工会助手半分钟内就会按它计算工作日，不用重启。").format(path=path)
    )
    return 0


def _runs(days: list[CalendarDay]) -> list[list[CalendarDay]]:
    """Days side by side of the same kind and name, together: 春节 is one line, not nine."""
    runs: list[list[CalendarDay]] = []
    for entry in days:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and entry.day - last.day == timedelta(days=1)
            and (entry.kind, entry.name) == (last.kind, last.name)
        ):
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return runs


def _day_text(_: Translator, day: date) -> str:
    return _("{date}（{weekday}）").format(date=day.isoformat(), weekday=_(WEEKDAY_NAMES[day.weekday()]))


def _show(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    year: int = args.year
    path = app.settings.holidays_path
    stored = _stored(app)
    if stored is None:
        return 1
    imported, problems = stored
    if problems:
        _problems(_, problems)
        print(
            _("日历文件 {path} 有误，工会助手没有用它；请改正后重新导入。").format(path=path), file=sys.stderr
        )
        imported = HolidayCalendar()
    package = package_year(year)
    if year in imported.years:
        days, source = imported.year(year), _("导入的日历（{path}）").format(path=path)
    elif package is not None:
        days, source = package, _("chinesecalendar {version}").format(version=package_version())
    else:
        print(_("{year} 年还没有节假日安排，工作日暂按周一到周五计算。").format(year=year))
        print(_("国务院办公厅公布安排后，请把它写成文件，用 python -m bot calendar import 文件 导入。"))
        return 0
    print(_("{year} 年的节假日和调休上班日：").format(year=year))
    table = Table(show_lines=False)
    for header in (_("日期"), _("天数"), _("安排"), _("名称"), _("来源")):
        table.add_column(header)
    for run in _runs(days):
        first, last = run[0].day, run[-1].day
        when = _day_text(_, first)
        if last != first:
            when = _("{first} 至 {last}").format(first=when, last=_day_text(_, last))
        table.add_row(
            Text(when),
            Text(str(len(run))),
            Text(_(KIND_LABELS[run[0].kind])),
            Text(run[0].name),
            Text(source),
        )
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    console.print(table)
    print(
        _("共放假 {holidays} 天，调休上班 {workdays} 天。").format(
            holidays=sum(entry.kind is DayKind.HOLIDAY for entry in days),
            workdays=sum(entry.kind is DayKind.WORKDAY for entry in days),
        )
    )
    if year in imported.years and package is not None:
        print(_("chinesecalendar 里也有这一年的安排，以导入的为准。"))
    return 0
