"""Dues months as the ledger keeps them: one integer, 202612 for December 2026.

An integer sorts, compares and indexes as the calendar does and costs four bytes
in a table of millions of rows; people read and type it as "2026-12".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, tzinfo

from models.errors import N_, InvalidInput

Month = int

_TYPED = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*)?(\d{1,2})\s*月?\s*(?:份)?\s*$")
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


def month_of(day: date) -> Month:
    return day.year * 100 + day.month


def local_month(moment: datetime, zone: tzinfo) -> Month:
    """The month ``moment`` falls in on the union's clocks."""
    return month_of(moment.astimezone(zone).date())


def month_key(month: Month) -> str:
    """202612 → "2026-12"."""
    return f"{month // 100:04d}-{month % 100:02d}"


def first_day(month: Month) -> date:
    return date(month // 100, month % 100, 1)


def next_month(month: Month) -> Month:
    year, number = divmod(month, 100)
    return (year + 1) * 100 + 1 if number == 12 else month + 1


def previous_month(month: Month) -> Month:
    year, number = divmod(month, 100)
    return (year - 1) * 100 + 12 if number == 1 else month - 1


def add_months(month: Month, count: int) -> Month:
    year, number = divmod(month, 100)
    index = year * 12 + number - 1 + count
    return (index // 12) * 100 + index % 12 + 1


def months_between(first: Month, last: Month) -> Iterator[Month]:
    """``first`` to ``last``, both included; nothing when ``last`` comes first."""
    month = first
    while month <= last:
        yield month
        month = next_month(month)


def parse_month(text: str) -> Month:
    """A month as people type it: "2026-12", "2026年12月", "２０２６/12", "202612".

    Raises:
        InvalidInput: not a month, or a year far outside the ledger's.
    """
    typed = unicodedata.normalize("NFKC", text)
    found = _TYPED.match(typed)
    if found is None:
        raise InvalidInput("dues.month_invalid", N_("没看懂这个月份，请按“2026-12”的样子输入。"))
    year, number = int(found.group(1)), int(found.group(2))
    if not 1 <= number <= 12:
        raise InvalidInput("dues.month_invalid", N_("没看懂这个月份，请按“2026-12”的样子输入。"))
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise InvalidInput(
            "dues.month_year",
            N_("年份应在 {earliest} 到 {latest} 之间。"),
            earliest=EARLIEST_YEAR,
            latest=LATEST_YEAR,
        )
    return year * 100 + number


def month_middle(month: Month) -> datetime:
    """The 15th at noon UTC: inside the month on every union's clocks, whatever its zone."""
    return datetime(month // 100, month % 100, 15, 12, tzinfo=UTC)
