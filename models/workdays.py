"""Working days as China's offices keep them: the State Council's holidays and make-up days (调休).

"三及时" deadlines are counted in working days. A week of National Day
holidays is not five working days, and the Saturday worked to make up for it
is one, so a plain Monday-to-Friday count would tell a cadre they are late
during the holiday and early after it. The calendar comes from the
``chinesecalendar`` package, which follows each year's notice; a year it does
not know yet (the notice comes out each November) falls back to Monday to
Friday, with a warning in the log to update the package.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)

# The years the installed calendar has the State Council's notice for (2004 to the latest one).
_COVERED = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
_warned_years: set[int] = set()
_warned_lock = threading.Lock()


def is_workday(day: date) -> bool:
    """True when offices work on ``day``: a weekday that is no holiday, or a make-up Saturday or Sunday."""
    if day.year in _COVERED:
        return bool(chinese_calendar.is_workday(day))
    with _warned_lock:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "the holiday calendar does not cover %s yet: counting Monday to Friday as working days; "
                "update the chinesecalendar package",
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
