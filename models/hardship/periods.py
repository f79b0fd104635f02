"""The periods hardship work is reported and published by: a month, a quarter or a year.

Written and read as unions write them ("2026-11", "2026Q4", "2026", "2026年11月",
"2026年第四季度"); the titles are the msgids the other figures use, so a period
reads the same everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any

from models.errors import N_, InvalidInput

YEAR_MIN, YEAR_MAX = 2000, 2100


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_TITLES: dict[PeriodKind, str] = {
    PeriodKind.MONTH: N_("{year}年{number}月"),
    PeriodKind.YEAR: N_("{year}年"),
}
_QUARTER_TITLES: dict[int, str] = {
    1: N_("{year}年第一季度"),
    2: N_("{year}年第二季度"),
    3: N_("{year}年第三季度"),
    4: N_("{year}年第四季度"),
}


@dataclass(frozen=True, order=True)
class Period:
    """A month ("2026-11"), a quarter ("2026Q4") or a year ("2026"); ``number`` 0 for a year."""

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
        day = date.fromordinal(self.first_day.toordinal() - 1)
        if self.kind is PeriodKind.MONTH:
            return Period.month_of(day)
        if self.kind is PeriodKind.QUARTER:
            return Period.quarter_of(day)
        return Period.year_of(day)

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as instants, [start, end): local midnights in the union's zone."""
        return (
            datetime.combine(self.first_day, time(), zone),
            datetime.combine(self.end_day, time(), zone),
        )

    @property
    def title(self) -> tuple[str, dict[str, Any]]:
        """The readable name as a msgid and its parameters: "2026年第四季度"."""
        if self.kind is PeriodKind.QUARTER:
            return _QUARTER_TITLES[self.number], {"year": self.year, "number": self.number}
        return _TITLES[self.kind], {"year": self.year, "number": self.number}


_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBERS |= {"十": 10, "十一": 11, "十二": 12}
_NUMBER = r"(\d{1,2}|十[一二]?|[一二两三四五六七八九])"
_QUARTER = re.compile(rf"(\d{{4}})(?:年度?|-|/|\.)?(?:q(\d)|第?{_NUMBER}季度?)")
_MONTH = re.compile(rf"(\d{{4}})(?:年|-|/|\.){_NUMBER}月?(?:份)?")
_YEAR = re.compile(r"(\d{4})(?:年度?|年全年|全年)?")


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBERS[text]


def parse_period(text: str) -> Period:
    """A period as people type it; full-width digits and spaces forgiven.

    Raises:
        InvalidInput: ``period.unknown``, ``period.quarter``, ``period.month`` or ``period.year``.
    """
    said = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    if (match := _QUARTER.fullmatch(said)) is not None:
        period = Period(int(match[1]), PeriodKind.QUARTER, _number(match[2] or match[3]))
        if not 1 <= period.number <= 4:
            raise InvalidInput(
                "period.quarter", N_("季度只能是 1 到 4，例如 {example}。"), example=f"{period.year}Q4"
            )
    elif (match := _MONTH.fullmatch(said)) is not None:
        period = Period(int(match[1]), PeriodKind.MONTH, _number(match[2]))
        if not 1 <= period.number <= 12:
            raise InvalidInput(
                "period.month", N_("月份只能是 1 到 12，例如 {example}。"), example=f"{period.year}-11"
            )
    elif (match := _YEAR.fullmatch(said)) is not None:
        period = Period(int(match[1]), PeriodKind.YEAR)
    else:
        raise InvalidInput(
            "period.unknown",
            N_("没看懂“{text}”。请按“2026Q4”（季度）、“2026-11”（月份）或“2026”（全年）的样子输入。"),
            text=text.strip(),
        )
    if not YEAR_MIN <= period.year <= YEAR_MAX:
        raise InvalidInput(
            "period.year", N_("年份请填 {first} 到 {last} 之间。"), first=YEAR_MIN, last=YEAR_MAX
        )
    return period
