"""When a job runs: its crontab line, working days included, read in the union's time zone.

The jobs themselves are declared by the feature modules (``Module.jobs``, handlers.core.module);
each only queues outbox rows under keys of its own period, so a job that runs
twice — a second process, a restart, the catch-up run after start-up — sends
nothing twice. The line is the module's default, or the admin's
(``UNIONBOT_JOB_SCHEDULES``); its grammar is in handlers.core.schedule.

``1W`` and ``LW`` need a trigger of our own: APScheduler's cron knows weekdays
but not the State Council's holidays and make-up days. :class:`WorkdayTrigger`
asks APScheduler's for the times of day and month, and keeps the days that are
the named working days of their month (models.workdays, read afresh each time,
so an imported calendar counts from the next computation on).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from handlers.core.module import Job
from handlers.core.schedule import OFF, Schedule, ScheduleError, WorkdayToken, parse_schedule
from models.workdays import is_workday

# How many candidate days a working-day trigger looks at before giving up: more than a year's.
_MAX_CANDIDATES = 800


def month_workdays(year: int, month: int) -> list[date]:
    """The working days of a month, in order, by the union's calendar."""
    days = calendar.monthrange(year, month)[1]
    return [date(year, month, day) for day in range(1, days + 1) if is_workday(date(year, month, day))]


def named_days(year: int, month: int, tokens: Sequence[WorkdayToken]) -> frozenset[date]:
    """The days of a month that ``tokens`` name; a token beyond the month's working days names none."""
    workdays = month_workdays(year, month)
    found: set[date] = set()
    for token in tokens:
        if token.count <= len(workdays):
            found.add(workdays[-token.count] if token.last else workdays[token.count - 1])
    return frozenset(found)


class WorkdayTrigger(BaseTrigger):
    """A crontab trigger whose days are working days of the month: ``0 9 1W * *``, ``0 9 LW * *``."""

    def __init__(self, schedule: Schedule, zone: tzinfo) -> None:
        self.schedule = schedule
        self.zone = zone
        self._times = CronTrigger(
            minute=schedule.minute, hour=schedule.hour, month=schedule.month, timezone=zone
        )

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = now
        if previous_fire_time is not None:
            # As APScheduler's cron: from just after the previous time, so a missed time is still found.
            start = previous_fire_time + timedelta(microseconds=1)
        months: dict[tuple[int, int], frozenset[date]] = {}
        for _ in range(_MAX_CANDIDATES):
            candidate = self._times.get_next_fire_time(None, start)
            if candidate is None:
                return None
            local = candidate.astimezone(self.zone)
            key = (local.year, local.month)
            if key not in months:
                months[key] = named_days(local.year, local.month, self.schedule.workdays)
            if local.date() in months[key]:
                return candidate
            # The next candidate day: the first time of day on the day after.
            start = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.zone)
        return None

    def __str__(self) -> str:
        days = ",".join(str(token) for token in self.schedule.workdays)
        return f"workday[{self.schedule.minute} {self.schedule.hour} {days} {self.schedule.month} *]"

    def __repr__(self) -> str:
        return f"<WorkdayTrigger ({self}, timezone={self.zone!s})>"


def build_trigger(line: str, zone: tzinfo) -> BaseTrigger:
    """The trigger for a schedule line, its hours those of ``zone``.

    Raises:
        ScheduleError: the line is no schedule we run (see handlers.core.schedule), or a field
            is out of range ("61 9 * * *").
    """
    schedule = parse_schedule(line)
    try:
        if schedule.workdays:
            return WorkdayTrigger(schedule, zone)
        return CronTrigger(
            minute=schedule.minute,
            hour=schedule.hour,
            day=schedule.day,
            month=schedule.month,
            day_of_week=schedule.weekday,
            timezone=zone,
        )
    except ValueError as error:
        raise ScheduleError(f"has a field out of range in {line!r} ({error})") from None


def schedule_of(job: Job, schedules: Mapping[str, str] | None = None) -> str:
    """The line the job runs by: the admin's (``UNIONBOT_JOB_SCHEDULES``), else its module's."""
    return (schedules or {}).get(job.id, job.schedule)


def trigger(job: Job, zone: tzinfo, schedules: Mapping[str, str] | None = None) -> BaseTrigger | None:
    """The job's trigger in ``zone``; None when the settings turn the job off (``"off"``).

    Raises:
        ScheduleError: the schedule is no crontab line we run.
    """
    line = schedule_of(job, schedules)
    if line.strip().lower() == OFF:
        return None
    return build_trigger(line, zone)


def check_schedules(schedules: Mapping[str, str], jobs: Sequence[Job], zone: tzinfo) -> None:
    """Refuse a schedule setting naming no job, or no line we run: what start-up checks.

    Raises:
        ValueError: naming the job and what is wrong.
    """
    known = {job.id for job in jobs}
    for job_id, line in schedules.items():
        if job_id not in known:
            raise ValueError(f"no job is called {job_id!r}; the jobs are {', '.join(sorted(known))}")
        if line.strip().lower() == OFF:
            continue
        try:
            build_trigger(line, zone)
        except ScheduleError as error:
            raise ValueError(f"job {job_id!r} {error}") from None


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime, limit: int = 10_000) -> list[datetime]:
    """The trigger's times from ``start`` up to ``end``, both included, at most ``limit``."""
    found: list[datetime] = []
    previous: datetime | None = None
    moment = start
    while len(found) < limit:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > end:
            break
        found.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return found


def last_fire_time(trigger: BaseTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The trigger's latest time within ``window`` before ``now``: what a catch-up run stands for."""
    times = fire_times(trigger, now - window, now)
    return times[-1] if times else None


__all__ = [
    "ScheduleError",
    "WorkdayTrigger",
    "build_trigger",
    "check_schedules",
    "fire_times",
    "last_fire_time",
    "month_workdays",
    "named_days",
    "schedule_of",
    "trigger",
]
