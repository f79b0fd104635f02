"""Working days as China's offices keep them: the State Council's holidays and make-up days (调休).

"三及时" deadlines are counted in working days. A week of National Day
holidays is not five working days, and the Saturday worked to make up for it
is one, so a plain Monday-to-Friday count would tell a cadre they are late
during the holiday and early after it.

The calendar comes from two places. The ``chinesecalendar`` package follows
each year's notice, but the notice comes out each November and a release of
the package some time later, so December's deadlines already reach into a
year it does not know. For that the admin writes the coming year's holidays
into a small file (:func:`read_calendar` says its format) and imports it
(``python -m bot calendar import``); a year the file has is taken from the
file alone, ahead of the package. A year neither knows counts Monday to
Friday, and says so once in the log.

The file is the process's, named once at start-up (:func:`use_calendar_file`)
and read again when it changes, so an import reaches a running bot within
:data:`RELOAD_SECONDS` without a restart. A file that turns out wrong is
logged and the calendar read before it kept.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import chinese_calendar

from models.errors import N_, InvalidInput

log = logging.getLogger(__name__)

# The years the installed calendar has the State Council's notice for (2004 to the latest one).
_COVERED = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)

RELOAD_SECONDS = 30.0
"""How often, at most, the calendar file is looked at again for changes."""

FIRST_YEAR, LAST_YEAR = 2000, 2100
NAME_MAX = 20


class DayKind(StrEnum):
    """What a listed day is: off (a holiday, weekend days within it included) or worked (调休上班)."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"


KIND_LABELS: dict[DayKind, str] = {DayKind.HOLIDAY: N_("放假"), DayKind.WORKDAY: N_("调休上班")}
_KIND_WORDS: dict[str, DayKind] = {
    "holiday": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "放假": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "班": DayKind.WORKDAY,
    "上班": DayKind.WORKDAY,
}


@dataclass(frozen=True)
class CalendarDay:
    """One day of a holiday calendar: a holiday or a make-up working day, and what it is for."""

    day: date
    kind: DayKind
    name: str = ""


@dataclass(frozen=True)
class HolidayCalendar:
    """The admin's holidays and make-up days; each year it has replaces the package's for that year."""

    days: Mapping[date, CalendarDay] = field(default_factory=dict)

    @classmethod
    def of(cls, days: Iterable[CalendarDay]) -> HolidayCalendar:
        return cls({entry.day: entry for entry in sorted(days, key=lambda entry: entry.day)})

    @property
    def years(self) -> frozenset[int]:
        return frozenset(day.year for day in self.days)

    def year(self, year: int) -> list[CalendarDay]:
        return [entry for day, entry in self.days.items() if day.year == year]

    def replaced_by(self, other: HolidayCalendar) -> HolidayCalendar:
        """This calendar with the years ``other`` has taken from ``other``: an import replaces whole years."""
        kept = [entry for day, entry in self.days.items() if day.year not in other.years]
        return HolidayCalendar.of([*kept, *other.days.values()])

    def is_workday(self, day: date) -> bool:
        entry = self.days.get(day)
        return entry.kind is DayKind.WORKDAY if entry is not None else day.weekday() < 5


# ------------------------------------------------------------------------------------------ the file

CSV_HEADER = ("date", "kind", "name")
_HEADER_WORDS = frozenset({"date", "日期"})
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")

RowError = tuple[int, InvalidInput]


def _date(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _cells(line: str) -> list[str]:
    delimiter = "\t" if "\t" in line and "," not in line else ","
    return [
        unicodedata.normalize("NFKC", cell).strip() for cell in next(csv.reader([line], delimiter=delimiter))
    ]


def _check_row(cells: list[str]) -> tuple[CalendarDay | None, list[InvalidInput]]:
    if len(cells) < 2 or len(cells) > 3:
        return None, [
            InvalidInput(
                "calendar.columns",
                N_("每行写日期、类别和名称三项，用逗号隔开，例如“2027-01-01,holiday,元旦”。"),
            )
        ]
    errors: list[InvalidInput] = []
    day = _date(cells[0])
    if day is None:
        errors.append(
            InvalidInput("calendar.date", N_("“{value}”不是日期，请写成 2027-01-01 这样。"), value=cells[0])
        )
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors.append(InvalidInput("calendar.year", N_("年份 {year} 不在可用的范围内。"), year=day.year))
    kind = _KIND_WORDS.get(cells[1].casefold())
    if kind is None:
        errors.append(
            InvalidInput(
                "calendar.kind",
                N_("类别“{value}”不对：放假写 holiday，调休上班写 workday。"),
                value=cells[1],
            )
        )
    elif kind is DayKind.WORKDAY and day is not None and day.weekday() < 5:
        errors.append(
            InvalidInput(
                "calendar.workday_on_weekday",
                N_("{date} 不是周末，本来就上班；workday 只用来写调休上班的周六、周日。"),
                date=day.isoformat(),
            )
        )
    name = cells[2] if len(cells) == 3 else ""
    if len(name) > NAME_MAX or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        errors.append(
            InvalidInput("calendar.name", N_("名称最多 {limit} 个字，且不能有控制字符。"), limit=NAME_MAX)
        )
    if errors or day is None or kind is None:
        return None, errors
    return CalendarDay(day, kind, name), []


def read_calendar(text: str) -> tuple[HolidayCalendar, list[RowError]]:
    """Read a holiday file, checking every line before any of it is used.

    The format, one day a line, as the State Council's notice lists them::

        # 2027 年节假日安排（国务院办公厅通知）
        date,kind,name
        2027-01-01,holiday,元旦
        2027-02-06,holiday,春节
        2027-02-14,workday,春节调休

    ``kind`` is ``holiday`` (放假: every day off, weekend days within the break
    too) or ``workday`` (调休上班: a Saturday or Sunday worked); 休 and 班 are
    accepted too. ``name`` may be left out. The header line, blank lines and
    lines starting with ``#`` are skipped; dates may also be written 2027/1/1
    as spreadsheets save them; tabs may separate the columns.

    Returns:
        The calendar of the lines that passed, and every problem by line number
        (counting every line of the file), in file order. A date listed twice
        is an error on the later line, naming the first.
    """
    days: list[CalendarDay] = []
    problems: list[RowError] = []
    first_line: dict[date, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped or stripped.startswith("#"):
            continue
        try:
            cells = _cells(stripped)
        except csv.Error:
            cells = []
        if cells and cells[0].casefold() in _HEADER_WORDS and not days and not problems:
            continue
        entry, errors = _check_row(cells)
        if entry is not None and entry.day in first_line:
            errors.append(
                InvalidInput(
                    "calendar.duplicate",
                    N_("{date} 与第 {first_line} 行重复。"),
                    date=entry.day.isoformat(),
                    first_line=first_line[entry.day],
                )
            )
        elif entry is not None:
            first_line[entry.day] = number
        problems.extend((number, error) for error in errors)
        if entry is not None and not errors:
            days.append(entry)
    return HolidayCalendar.of(days), problems


def calendar_csv(calendar: HolidayCalendar) -> str:
    """The calendar as a file :func:`read_calendar` reads back, a year's days together."""
    lines = [
        "# Holidays and make-up working days, used ahead of the chinesecalendar package for these years.",
        "# Written by `python -m bot calendar import`; import a corrected file rather than editing this one.",
        ",".join(CSV_HEADER),
    ]
    lines.extend(
        f"{entry.day.isoformat()},{entry.kind.value},{entry.name}" for entry in calendar.days.values()
    )
    return "\n".join(lines) + "\n"


def decode_calendar(data: bytes) -> str | None:
    """A holiday file's text: UTF-8 (with or without Excel's BOM), else GB18030 (GBK); None if neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


# ------------------------------------------------------------------------------ the process's calendar


@dataclass
class _Source:
    """The calendar file this process reads, what it last read from it, and which years it warned of."""

    path: Path | None = None
    stamp: tuple[int, int, int] | None = None
    calendar: HolidayCalendar = field(default_factory=HolidayCalendar)
    checked_at: float = float("-inf")
    refused_stamp: tuple[int, int, int] | None = None
    warned_years: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


_source = _Source()


def use_calendar_file(path: Path | None) -> None:
    """Read the admin's holidays from ``path`` from now on (None: the package's alone), and read it now.

    A missing file is an empty calendar: there is nothing imported yet.
    """
    with _source.lock:
        _source.path = path
        _source.stamp = None
        _source.refused_stamp = None
        _source.calendar = HolidayCalendar()
        _source.warned_years.clear()
        _reload()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


def _reload() -> None:
    """Read the file again if it changed since it was last read; the caller holds the lock."""
    _source.checked_at = time.monotonic()
    path = _source.path
    if path is None:
        return
    stamp = _stamp(path)
    if stamp == _source.stamp or (stamp is not None and stamp == _source.refused_stamp):
        return
    if stamp is None:
        _source.stamp, _source.calendar = None, HolidayCalendar()
        return
    try:
        text = decode_calendar(path.read_bytes())
    except OSError as error:
        log.error("cannot read the holiday calendar %s (%s); keeping the one read before", path, error)
        _source.refused_stamp = stamp
        return
    calendar, problems = read_calendar(text) if text is not None else (HolidayCalendar(), [])
    if text is None or problems:
        reason = (
            f"line {problems[0][0]}: {problems[0][1].msgid.format(**problems[0][1].params)}"
            if problems
            else "neither UTF-8 nor GBK"
        )
        log.error(
            "the holiday calendar %s is not valid (%s); keeping the one read before. "
            "`python -m bot calendar show YEAR` lists what is wrong",
            path,
            reason,
        )
        _source.refused_stamp = stamp
        return
    changed = _source.stamp is not None or _source.refused_stamp is not None
    _source.stamp, _source.calendar = stamp, calendar
    # Read at start-up it is no news; read again while running, it is what an admin waits to see.
    log.log(
        logging.INFO if changed else logging.DEBUG,
        "holiday calendar %s read: %s",
        path,
        ", ".join(str(year) for year in sorted(calendar.years)) or "no years",
    )


def admin_calendar() -> HolidayCalendar:
    """The admin's calendar as the process has it now, read again if the file changed."""
    if time.monotonic() - _source.checked_at >= RELOAD_SECONDS:
        with _source.lock:
            if time.monotonic() - _source.checked_at >= RELOAD_SECONDS:
                _reload()
    return _source.calendar


def package_version() -> str:
    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover - installed with the bot
        return "?"


def package_year(year: int) -> list[CalendarDay] | None:
    """The package's holidays and make-up days of ``year``, or None when it does not know the year."""
    if year not in _COVERED:
        return None
    listed = [
        *(
            CalendarDay(day, DayKind.HOLIDAY, _holiday_name(name))
            for day, name in chinese_calendar.holidays.items()
        ),
        *(
            CalendarDay(day, DayKind.WORKDAY, _holiday_name(name))
            for day, name in chinese_calendar.workdays.items()
        ),
    ]
    return sorted((entry for entry in listed if entry.day.year == year), key=lambda entry: entry.day)


def _holiday_name(name: object) -> str:
    """The package's English holiday name in Chinese (春节), as the notice says it."""
    for holiday in chinese_calendar.Holiday:
        if holiday.value == name:
            return str(holiday.chinese)
    return ""


# ------------------------------------------------------------------------------------------ counting


def is_workday(day: date) -> bool:
    """True when offices work on ``day``: a weekday that is no holiday, or a make-up Saturday or Sunday."""
    calendar = admin_calendar()
    if day.year in calendar.years:
        return calendar.is_workday(day)
    if day.year in _COVERED:
        return bool(chinese_calendar.is_workday(day))
    with _source.lock:
        if day.year not in _source.warned_years:
            _source.warned_years.add(day.year)
            log.warning(
                "the holiday calendar does not cover %s yet: counting Monday to Friday as working days; "
                "import that year's holidays with `python -m bot calendar import FILE`",
                day.year,
            )
    return day.weekday() < 5


def add_workdays(start: date, count: int) -> date:
    """The day ``count`` working days after ``start``; ``start`` itself does not count.

    A suggestion handed in on a Friday evening with 3 days to register is due
    on the following Wednesday, not on Monday.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    left = count
    while left:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def previous_workday(day: date) -> date:
    """The last working day before ``day``: when "tomorrow is the deadline" is worth saying."""
    day -= timedelta(days=1)
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def next_workday(day: date) -> date:
    """The first working day after ``day``."""
    return add_workdays(day, 1)


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
