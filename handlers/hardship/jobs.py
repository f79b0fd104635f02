"""The hardship scheduled jobs: the stage time limits' reminders and escalations, and the retention erasure.

Both only queue or change rows in one transaction and are safe to run again:
the reminders are keyed by case, deadline, due date and recipient; the erasure
takes only what is not erased yet.
"""

from __future__ import annotations

import logging

from handlers.core.module import Job, JobContext
from models.hardship.deadlines import enqueue_deadline_pushes
from models.hardship.photos import sweep_view_copies
from models.hardship.policy import HardshipPolicy
from models.hardship.retention import erase_expired_cases

log = logging.getLogger(__name__)


def queue_deadline_pushes(context: JobContext) -> int:
    """Queue today's time-limit reminders and escalations (models.hardship.deadlines)."""
    now = context.clock()
    with context.sessions() as session:
        added = enqueue_deadline_pushes(session, now=now, policy=context.policy(HardshipPolicy))
    log.info("hardship deadlines: %d reminders and escalations queued", added)
    return added


def erase_expired(context: JobContext) -> int:
    """Erase the sensitive fields of cases closed longer than the retention period, and the clear copies
    of photos made for cadres to look at that nobody swept since; queues nothing."""
    now = context.clock()
    with context.sessions() as session:
        erased = erase_expired_cases(session, now=now, policy=context.policy(HardshipPolicy))
    swept = sweep_view_copies()
    log.info("hardship retention: %d cases erased, %d viewing copies of photos removed", erased, swept)
    return 0


# 08:30 like the suggestion deadlines: a cadre reads "due tomorrow" with the morning's work.
DEADLINES_JOB = Job(id="hardship_deadlines", run=queue_deadline_pushes, schedule="30 8 * * *")
# At night, once a day: nothing waits on it.
RETENTION_JOB = Job(id="hardship_retention", run=erase_expired, schedule="30 2 * * *")
