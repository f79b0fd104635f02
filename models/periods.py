"""Reporting periods — a month, a quarter, a year — as union reports name them and people type them.

Figures of every feature (suggestions, activities, dues, rankings) are asked for
and shown by the same periods, so "2026Q4" means the same everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import Any

from models.errors import N_, InvalidInput

YEAR_MIN, YEAR_MAX = 2000, 2099


def utc_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant a local calendar day starts: period bounds for figures."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_TITLES: dict[PeriodKind, str] = {
    PeriodKind.MONTH: N_("{year}年{number}月"),
    PeriodKind.YEAR: N_("{year}年"),
}
# A quarter as a whole phrase, as union reports write it (第四季度), so a language may put the
# year where it belongs ("Q4 2026"); the appraisal names its quarters the same way.
QUARTER_TITLES: dict[int, str] = {
    1: N_("{year}年第一季度"),
    2: N_("{year}年第二季度"),
    3: N_("{year}年第三季度"),
    4: N_("{year}年第四季度"),
}


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a month ("2026-11"), a quarter ("2026Q4") or a year ("2026").

    ``number`` is the month (1–12) or the quarter (1–4); 0 for a year.
    """

    year: int
    kind: PeriodKind
    number: int = 0

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.MONTH, day.month)

    @classmethod
    def quarter_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.QUARTER, (day.month - 1) // 3 + 1)

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.YEAR)

    @property
    def key(self) -> str:
        """The compact spelling, for file names and typing back: 2026-11, 2026Q4, 2026."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}Q{self.number}"
        return str(self.year)

    @property
    def first_day(self) -> date:
        if self.kind is PeriodKind.MONTH:
            return date(self.year, self.number, 1)
        if self.kind is PeriodKind.QUARTER:
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end_day(self) -> date:
        """The first day after the period (bounds are half-open)."""
        if self.kind is PeriodKind.YEAR:
            return date(self.year + 1, 1, 1)
        month = self.first_day.month + (1 if self.kind is PeriodKind.MONTH else 3)
        return date(self.year + 1, 1, 1) if month > 12 else date(self.year, month, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end_day.toordinal() - 1)

    def previous(self) -> Period:
        return _period_containing(self.kind, date.fromordinal(self.first_day.toordinal() - 1))

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as UTC instants, [start, end): local midnights in the union's zone."""
        return utc_midnight(self.first_day, zone), utc_midnight(self.end_day, zone)

    @property
    def title(self) -> tuple[str, dict[str, Any]]:
        """The readable name as a msgid and its parameters: "2026年第四季度"."""
        if self.kind is PeriodKind.QUARTER:
            return QUARTER_TITLES[self.number], {"year": self.year, "number": self.number}
        return PERIOD_TITLES[self.kind], {"year": self.year, "number": self.number}


def _period_containing(kind: PeriodKind, day: date) -> Period:
    if kind is PeriodKind.MONTH:
        return Period.month_of(day)
    if kind is PeriodKind.QUARTER:
        return Period.quarter_of(day)
    return Period.year_of(day)


_CHINESE_NUMBERS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}
_NUMBER = r"(\d{1,2}|十[一二]?|[一二两三四五六七八九])"
_QUARTER = re.compile(rf"(\d{{4}})(?:年度?|-|/|\.)?(?:q|第?{_NUMBER}季度?)(\d{{1,2}})?")
_MONTH = re.compile(rf"(\d{{4}})(?:年|-|/|\.){_NUMBER}月?(?:份)?")
_YEAR = re.compile(r"(\d{4})(?:年度?|年全年|全年)?")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _CHINESE_NUMBERS[text]


def parse_period(text: str) -> Period:
    """A period as people type it: "2026Q4", "2026 Q4", "2026年第四季度", "2026-11", "2026年11月", "2026".

    Full-width digits and spaces are forgiven.

    Raises:
        InvalidInput: ``period.unknown`` (not a period), ``period.quarter`` (not 1–4),
            ``period.month`` (not 1–12), ``period.year`` (not a plausible year).
    """
    said = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    quarter = _QUARTER.fullmatch(said)
    month = _MONTH.fullmatch(said)
    year = _YEAR.fullmatch(said)
    if quarter is not None:
        written = quarter.group(2) or quarter.group(3)
        if written is None:
            raise _unknown(text)
        period = Period(int(quarter.group(1)), PeriodKind.QUARTER, _number(written))
        if not 1 <= period.number <= 4:
            raise InvalidInput(
                "period.quarter", N_("季度只能是 1 到 4，例如 {example}。"), example=f"{period.year}Q4"
            )
    elif month is not None:
        period = Period(int(month.group(1)), PeriodKind.MONTH, _number(month.group(2)))
        if not 1 <= period.number <= 12:
            raise InvalidInput(
                "period.month", N_("月份只能是 1 到 12，例如 {example}。"), example=f"{period.year}-11"
            )
    elif year is not None:
        period = Period(int(year.group(1)), PeriodKind.YEAR)
    else:
        raise _unknown(text)
    if not YEAR_MIN <= period.year <= YEAR_MAX:
        raise InvalidInput(
            "period.year", N_("年份请填 {first} 到 {last} 之间。"), first=YEAR_MIN, last=YEAR_MAX
        )
    return period


def _unknown(text: str) -> InvalidInput:
    return InvalidInput(
        "period.unknown",
        N_("没看懂“{text}”。请按“2026Q4”（季度）、“2026-11”（月份）或“2026”（全年）的样子输入。"),
        text=text.strip(),
    )
