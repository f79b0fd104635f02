"""When a job runs: its module's crontab line, read in the union's time zone.

The jobs themselves are declared by the feature modules (``Module.jobs``, handlers.core.module);
each only queues outbox rows under keys of its own period, so a job that runs
twice — a second process, a restart, the catch-up run after start-up — sends
nothing twice.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from handlers.core.module import Job


def trigger(job: Job, zone: tzinfo) -> BaseTrigger:
    """The APScheduler trigger for ``job``'s schedule, its hours those of ``zone``.

    Raises:
        ValueError: the schedule is not a crontab line.
    """
    return CronTrigger.from_crontab(job.schedule, timezone=zone)
