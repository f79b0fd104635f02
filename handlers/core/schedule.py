"""When a job runs, as an admin writes it: a crontab line with working days in the day-of-month field.

A reminder that arrives on a Sunday, or in the middle of 国庆, is read by
nobody. So besides plain crontab (``"30 8 * * *"``, ``"0 9 * * mon"``), the
day-of-month field takes working days of the union's calendar
(models.workdays: the State Council's holidays and make-up days, and the
admin's own import):

* ``1W``, ``2W`` … ``23W``: the first, second … working day of the month;
* ``LW``: the last working day of the month; ``L2W``, ``L3W`` …: the second,
  third … working day counted back from the month's end.

Several may be listed, ``1W,LW``; they are not mixed with plain days, and
with working days the weekday field stays ``*`` (a working day already says
which weekdays count). Weekdays are given by name (mon-sun): the scheduler
reads weekday numbers from 0 = Monday, a day off from crontab's 0 = Sunday.

This module only reads the line; ``scheduler.jobs`` turns it into a trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A month has at most 23 working days (a 31-day month with no holiday and 23 weekdays).
MAX_WORKDAY = 23
OFF = "off"
_TOKEN = re.compile(r"(?P<last>L)?(?P<count>\d*)W", re.IGNORECASE)


@dataclass(frozen=True)
class WorkdayToken:
    """One working day of a month: the ``count``-th from its start, or from its end when ``last``."""

    count: int
    last: bool

    def __str__(self) -> str:
        if self.last:
            return "LW" if self.count == 1 else f"L{self.count}W"
        return f"{self.count}W"


@dataclass(frozen=True)
class Schedule:
    """A crontab line read: its five fields, with the working days of the day field taken out.

    Attributes:
        minute, hour, day, month, weekday: the fields as APScheduler's ``CronTrigger`` takes them;
            ``day`` is ``*`` when the line names working days.
        workdays: the working days the line names; empty for plain crontab.
    """

    minute: str
    hour: str
    day: str
    month: str
    weekday: str
    workdays: tuple[WorkdayToken, ...] = ()


class ScheduleError(ValueError):
    """A schedule that is no crontab line we can run; the message says what is wrong, after its owner."""


def _workday(token: str) -> WorkdayToken | None:
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    last = match.group("last") is not None
    count_text = match.group("count")
    if not count_text and not last:
        raise ScheduleError(f"names no working day by {token!r}: write 1W for the first, LW for the last")
    count = int(count_text) if count_text else 1
    if not 1 <= count <= MAX_WORKDAY:
        raise ScheduleError(f"names working day {token!r}, but a month has working days 1 to {MAX_WORKDAY}")
    return WorkdayToken(count=count, last=last)


def parse_schedule(line: str) -> Schedule:
    """Read a crontab line, with working days allowed in the day-of-month field (see the module).

    Only the shape is checked here: minutes or hours out of range are refused when the
    trigger is built (``scheduler.jobs.trigger``), which the settings check does at start-up.

    Raises:
        ScheduleError: not five fields; weekdays by number; working days mixed with plain
            days or with a weekday; a working day beyond the month's.
    """
    fields = line.split()
    if len(fields) != 5:
        raise ScheduleError(f"has no crontab line of five fields: {line!r}")
    minute, hour, day, month, weekday = fields
    if any(character.isdigit() for character in weekday):
        raise ScheduleError(
            f"gives weekdays by number ({weekday!r}), which the scheduler reads a day off from"
            " crontab; give them by name (mon-sun)"
        )
    tokens = day.split(",")
    workdays = [found for found in map(_workday, tokens) if found is not None]
    if not workdays:
        return Schedule(minute, hour, day, month, weekday)
    if len(workdays) != len(tokens):
        raise ScheduleError(f"mixes working days (1W, LW) with plain days in {day!r}; use one or the other")
    if weekday != "*":
        raise ScheduleError(f"names working days ({day!r}) and weekdays ({weekday!r}); leave the weekday *")
    return Schedule(minute, hour, "*", month, "*", tuple(dict.fromkeys(workdays)))
