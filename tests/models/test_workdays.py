"""Working days follow China's official calendar, make-up days included, and survive a year it lacks."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from models.workdays import add_workdays, is_workday, next_workday, previous_workday, workdays_between


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2026, 2, 14), True),  # Saturday worked before the Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival holiday, a Monday
        (date(2026, 9, 25), False),  # 中秋, a Friday
        (date(2026, 10, 5), False),  # National Day week, a Monday
        (date(2026, 10, 10), True),  # Saturday worked after National Day
        (date(2026, 11, 23), True),  # an ordinary Monday
        (date(2026, 11, 28), False),  # an ordinary Saturday
    ],
)
def test_the_official_calendar_decides(day: date, works: bool) -> None:
    assert is_workday(day) is works


def test_counting_skips_the_holiday_week_and_takes_the_make_up_saturday() -> None:
    # Handed in on Wednesday 30 September with three working days: Thursday 8, Friday 9, Saturday 10 October.
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert previous_workday(date(2026, 10, 8)) == date(2026, 9, 30)
    assert next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="models.workdays"):
        # Friday 2 July 2100 + 1 working day: the next Monday.
        assert add_workdays(date(2100, 7, 2), 1) == date(2100, 7, 5)
        assert is_workday(date(2100, 7, 3)) is False
    warnings = [record for record in caplog.records if "2100" in record.getMessage()]
    assert len(warnings) == 1
