"""The scheduled jobs, declared in code: what runs, when, in the union's own time.

Each job only queues outbox rows under keys of its own period (the suggestion,
its stage, its due date), so a job that runs twice — a second process, a
restart, the catch-up run after start-up — sends nothing twice. Jobs are plain
functions of a :class:`JobContext`: tests call them directly, with their clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from models.base import utcnow
from models.db import SessionFactory
from models.suggestion_deadlines import enqueue_deadline_pushes
from models.suggestions import SuggestionPolicy

log = logging.getLogger(__name__)

# Before the working day starts in earnest: a cadre reads "due tomorrow" with the morning's messages.
DEADLINES_AT = time(8, 30)


@dataclass(frozen=True)
class JobContext:
    """What a job needs from the process: the database, the union's policy, and a clock tests can set."""

    sessions: SessionFactory
    policy: SuggestionPolicy
    clock: Callable[[], datetime] = field(default=utcnow)


@dataclass(frozen=True)
class Job:
    """A job as the scheduler takes it.

    Attributes:
        id: stable name, for the logs.
        run: does the work, in a thread, with a fresh session; returns how many pushes it queued.
        trigger: when it runs, in the union's zone.
        catch_up: also run shortly after start-up, for what a stopped process missed.
    """

    id: str
    run: Callable[[JobContext], int]
    trigger: BaseTrigger
    catch_up: bool = True


def suggestion_deadlines(context: JobContext) -> int:
    """ "三及时": queue today's deadline reminders and escalations (models.suggestion_deadlines)."""
    now = context.clock()
    with context.sessions() as session:
        added = enqueue_deadline_pushes(session, now=now, policy=context.policy)
    log.info("suggestion deadlines: %d reminders and escalations queued", added)
    return added


def default_jobs(zone: tzinfo) -> list[Job]:
    """Every job the bot runs, its times in ``zone`` (the settings' time zone)."""
    return [
        Job(
            id="suggestion_deadlines",
            run=suggestion_deadlines,
            trigger=CronTrigger(hour=DEADLINES_AT.hour, minute=DEADLINES_AT.minute, timezone=zone),
        ),
    ]
