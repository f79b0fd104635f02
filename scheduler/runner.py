"""APScheduler wiring: the modules' jobs on the process's event loop.

The job store is in memory: the jobs are declared in code and added again at
every start, and what a stopped process missed is caught up by one run shortly
after start-up (each job is idempotent), not by a store that outlives the
process. A store shared by several processes would run each job once per
process anyway (docs/LIBRARIES.md, APScheduler).

A job's database work runs in a thread (``asyncio.to_thread``) so the channels
and the delivery worker on the same loop keep answering. A failing job is
logged and tried again at its next time; it never stops the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from handlers.core.module import Job, JobContext
from scheduler.jobs import trigger

log = logging.getLogger(__name__)

# APScheduler's default grace is one second: a loop busy for a moment, or a machine suspended at
# 08:30, would skip the day's run without a word. A run up to six hours late still reaches the
# cadres the same working day, and the jobs' keys make a late run harmless.
MISFIRE_GRACE = timedelta(hours=6)
# The catch-up run after start-up: long enough for the channels and the worker to come up first.
STARTUP_DELAY = timedelta(seconds=30)
# How long stopping waits for a job in the middle of its transaction.
STOP_TIMEOUT = 30.0


class Scheduler:
    """The process's scheduled jobs: :meth:`start` on a running loop, :meth:`stop` before it ends."""

    def __init__(
        self,
        context: JobContext,
        jobs: Sequence[Job],
        *,
        zone: tzinfo,
        startup_delay: timedelta | None = None,
        triggers: Mapping[str, BaseTrigger] | None = None,
    ) -> None:
        self.context = context
        self.jobs = tuple(jobs)
        self.zone = zone
        self.startup_delay = STARTUP_DELAY if startup_delay is None else startup_delay
        # By job id, in place of the job's own schedule: tests run a job every few milliseconds.
        self.triggers = dict(triggers or {})
        self._running: set[asyncio.Future[int]] = set()
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def scheduler(self) -> AsyncIOScheduler:
        """The APScheduler underneath, once started (tests listen to its events)."""
        assert self._scheduler is not None, "the scheduler is not started"
        return self._scheduler

    async def start(self) -> None:
        """Add the jobs and start; needs the running loop (docs/LIBRARIES.md: ``start()``)."""
        scheduler = AsyncIOScheduler(
            timezone=self.zone,
            jobstores={"default": MemoryJobStore()},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
            },
        )
        for job in self.jobs:
            options: dict[str, object] = {}
            if job.catch_up:
                # The first run soon after start-up, the following ones at the trigger's times.
                options["next_run_time"] = datetime.now(self.zone) + self.startup_delay
            scheduler.add_job(
                self.run,
                trigger=self.triggers.get(job.id) or trigger(job, self.zone),
                args=[job],
                id=job.id,
                name=job.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
                replace_existing=True,
                **options,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(job.id for job in self.jobs) or "no jobs")

    async def run(self, job: Job) -> int | None:
        """Run one job in a thread; log what it did, or why it failed.

        Returns:
            How many pushes it queued; None when it failed.
        """
        work: asyncio.Future[int] = asyncio.ensure_future(asyncio.to_thread(job.run, self.context))
        self._running.add(work)
        work.add_done_callback(self._running.discard)
        try:
            # Shielded: stopping cancels this coroutine, not the transaction under way in the thread.
            added = await asyncio.shield(work)
        except asyncio.CancelledError:
            # Only stop() cancels (APScheduler's executor shutdown); it waits for the thread itself.
            log.info("scheduled job %s still running while the scheduler stops", job.id)
            return None
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next time", job.id)
            return None
        log.info("scheduled job %s done: %d pushes queued", job.id, added)
        return added

    async def stop(self) -> None:
        """Stop firing jobs and let a job under way finish its transaction."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        running = set(self._running)
        if running:
            done, pending = await asyncio.wait(running, timeout=STOP_TIMEOUT)
            for work in done:
                if not work.cancelled() and work.exception() is not None:
                    log.error("scheduled job failed while stopping", exc_info=work.exception())
            if pending:
                log.warning("stopped with %d scheduled jobs still running", len(pending))
        await asyncio.sleep(0)  # APScheduler's shutdown runs on the loop: let it
        log.info("scheduler stopped")
