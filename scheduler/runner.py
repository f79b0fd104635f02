"""APScheduler wiring: the modules' jobs on the process's event loop, computed by one process at a time.

The job store is in memory: the jobs are declared in code and added again at
every start. What a stopped process missed is caught up from the job's own
period: at start-up, and when this process takes the lease over from one
that died, each job runs once shortly after — for the present when it works
out from the clock what is due, or, with a catch-up window, for its
schedule's latest time within the window that no run finished after
(``job_run``, models.jobs), so its pushes carry the missed period's keys. A
store shared by several processes would run each job once per process anyway
(docs/LIBRARIES.md, APScheduler); instead every process schedules every job
and asks the lease (scheduler.lease) before each run: the holder computes.

A job's database work runs in a thread (``asyncio.to_thread``) so the channels
and the delivery worker on the same loop keep answering. A failing job is
logged and tried again at its next time; it never stops the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from handlers.core.module import Job, JobContext
from models.base import utcnow
from models.jobs import finish_run, ran_since, start_run
from scheduler.jobs import last_fire_time, trigger
from scheduler.lease import RENEW_EVERY, Lease, LocalLease

log = logging.getLogger(__name__)

# APScheduler's default grace is one second: a loop busy for a moment, or a machine suspended at
# 08:30, would skip the day's run without a word. A run up to six hours late still reaches the
# cadres the same working day, and the jobs' keys make a late run harmless (UNIONBOT_JOB_MISFIRE_HOURS).
MISFIRE_GRACE = timedelta(hours=6)
# The catch-up run after start-up: long enough for the channels and the worker to come up first.
STARTUP_DELAY = timedelta(seconds=30)
# How long stopping waits for a job in the middle of its transaction.
STOP_TIMEOUT = 30.0
CATCH_UP_SUFFIX = ":catch-up"


def period_of(job: Job, due: datetime, zone: tzinfo) -> str:
    """What a run covers, as its keys name it: the month for a monthly job, the day otherwise."""
    local = due.astimezone(zone)
    return f"{local:%Y-%m}" if job.monthly else local.date().isoformat()


def run_recorded(job: Job, context: JobContext, *, holder: str, zone: tzinfo) -> int:
    """Run ``job`` for ``context.due`` and record the run in ``job_run``: what every run goes through.

    Raises:
        Exception: whatever the job raised, after recording it as failed.
    """
    due = context.due_at()
    with context.sessions() as session:
        run_id = start_run(
            session,
            job=job.id,
            due_at=due,
            period=period_of(job, due, zone),
            holder=holder,
            now=context.clock(),
        )
    try:
        added = job.run(context)
    except Exception as error:
        with context.sessions() as session:
            finish_run(session, run_id, now=context.clock(), error=f"{type(error).__name__}: {error}")
        raise
    with context.sessions() as session:
        finish_run(session, run_id, now=context.clock(), queued=added)
    return added


class Scheduler:
    """The process's scheduled jobs: :meth:`start` on a running loop, :meth:`stop` before it ends.

    Args:
        context: what every job gets; each run gets a copy with its own ``due``.
        jobs: the registry's jobs.
        zone: the union's time zone, which the schedules are read in.
        schedules: the admin's lines by job id (``UNIONBOT_JOB_SCHEDULES``); "off" turns a job off.
        lease: who computes among several processes; by default this process alone.
        misfire_grace: how late APScheduler may still start a run it could not start on time.
        lease_clock: the time the lease is taken and renewed by (tests move it).
        startup_delay: how long after start-up (or taking the lease over) the catch-up runs come.
        triggers: by job id, in place of the job's schedule: tests run a job every few milliseconds.
    """

    def __init__(
        self,
        context: JobContext,
        jobs: Sequence[Job],
        *,
        zone: tzinfo,
        schedules: Mapping[str, str] | None = None,
        lease: Lease | None = None,
        misfire_grace: timedelta = MISFIRE_GRACE,
        lease_clock: Callable[[], datetime] = utcnow,
        startup_delay: timedelta | None = None,
        triggers: Mapping[str, BaseTrigger] | None = None,
        renew_every: timedelta = RENEW_EVERY,
    ) -> None:
        self.context = context
        self.jobs = tuple(jobs)
        self.zone = zone
        self.schedules = dict(schedules or {})
        self.lease = lease or LocalLease()
        self.misfire_grace = misfire_grace
        self.lease_clock = lease_clock
        self.startup_delay = STARTUP_DELAY if startup_delay is None else startup_delay
        self.renew_every = renew_every
        self.triggers: dict[str, BaseTrigger] = {}
        for job in self.jobs:
            chosen = (triggers or {}).get(job.id) or trigger(job, zone, self.schedules)
            if chosen is not None:
                self.triggers[job.id] = chosen
        self.held = False
        # The time APScheduler last submitted each job for: the ``due`` of the run it starts.
        self._submitted: dict[str, datetime] = {}
        self._running: set[asyncio.Future[int]] = set()
        self._scheduler: AsyncIOScheduler | None = None
        self._renewal: asyncio.Task[None] | None = None

    @property
    def scheduler(self) -> AsyncIOScheduler:
        """The APScheduler underneath, once started (tests listen to its events)."""
        assert self._scheduler is not None, "the scheduler is not started"
        return self._scheduler

    async def start(self) -> None:
        """Add the jobs and start; needs the running loop (docs/LIBRARIES.md: ``start()``).

        The lease is asked and the missed runs found before APScheduler starts, so that once this
        returns nothing runs that a caller could not have listened for.
        """
        missed = await asyncio.to_thread(self._missed, self.context.clock()) if await self.tick() else []
        grace = int(self.misfire_grace.total_seconds())
        scheduler = AsyncIOScheduler(
            timezone=self.zone,
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        )
        for job in self.jobs:
            chosen = self.triggers.get(job.id)
            if chosen is None:
                log.info("scheduled job %s is turned off (UNIONBOT_JOB_SCHEDULES)", job.id)
                continue
            scheduler.add_job(
                self.run,
                trigger=chosen,
                args=[job],
                id=job.id,
                name=job.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=grace,
                replace_existing=True,
            )
        self._scheduler = scheduler
        scheduler.add_listener(self._note_submitted, EVENT_JOB_SUBMITTED)
        self._add_catch_ups(missed)
        scheduler.start()
        on = [job.id for job in self.jobs if job.id in self.triggers]
        log.info("scheduler started: %s", ", ".join(on) or "no jobs")
        self._renewal = asyncio.create_task(self._renew())

    def _note_submitted(self, event: JobSubmissionEvent) -> None:
        # Called on the loop right after the run is handed to the executor, before it starts.
        if event.scheduled_run_times and not event.job_id.endswith(CATCH_UP_SUFFIX):  # those carry their own
            self._submitted[event.job_id] = event.scheduled_run_times[-1]

    async def tick(self) -> bool:
        """Take or renew the lease now; on taking it over, catch up. Whether this process holds it.

        Called every ``renew_every`` by the scheduler itself; tests call it with the lease's clock set.
        """
        held = await asyncio.to_thread(self.lease.hold, self.lease_clock())
        gained = held and not self.held
        self.held = held
        if gained and self._renewal is not None:
            log.info("scheduler lease taken by %s: catching up on missed runs", self.lease.holder)
            await self._catch_up()
        return held

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every.total_seconds())
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler lease: renewing failed; trying again")

    async def _catch_up(self) -> None:
        """Schedule a run for each job's latest time that no run finished after (see the module)."""
        self._add_catch_ups(await asyncio.to_thread(self._missed, self.context.clock()))

    def _add_catch_ups(self, missed: Sequence[tuple[Job, datetime]]) -> None:
        when = datetime.now(self.zone) + self.startup_delay
        for job, due in missed:
            log.info("scheduled job %s: catching up on its run of %s", job.id, due.astimezone(self.zone))
            self.scheduler.add_job(
                self.run,
                trigger=DateTrigger(run_date=when, timezone=self.zone),
                args=[job],
                kwargs={"due": due},
                id=job.id + CATCH_UP_SUFFIX,
                name=job.id + CATCH_UP_SUFFIX,
                misfire_grace_time=int(self.misfire_grace.total_seconds()),
                replace_existing=True,
            )

    def _missed(self, now: datetime) -> list[tuple[Job, datetime]]:
        missed: list[tuple[Job, datetime]] = []
        with self.context.sessions() as session:
            for job in self.jobs:
                chosen = self.triggers.get(job.id)
                if not job.catch_up or chosen is None:
                    continue
                if job.catch_up_window is None:
                    missed.append((job, now))
                    continue
                due = last_fire_time(chosen, now, job.catch_up_window)
                if due is not None and not ran_since(session, job.id, due):
                    missed.append((job, due))
        return missed

    async def run(self, job: Job, due: datetime | None = None) -> int | None:
        """Run one job in a thread if this process holds the lease; log what it did, or why it failed.

        Returns:
            How many pushes it queued; None when it failed or another process computes it.
        """
        if not await self.tick():
            self._submitted.pop(job.id, None)
            log.info("scheduled job %s: another process holds the lease and computes it", job.id)
            return None
        scheduled = self._submitted.pop(job.id, None)
        context = JobContext(
            sessions=self.context.sessions,
            config=self.context.config,
            clock=self.context.clock,
            due=due or scheduled or self.context.clock(),
        )
        work: asyncio.Future[int] = asyncio.ensure_future(
            asyncio.to_thread(run_recorded, job, context, holder=self.lease.holder, zone=self.zone)
        )
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
        """Stop firing jobs, let a job under way finish its transaction, and give up the lease."""
        renewal, self._renewal = self._renewal, None
        if renewal is not None:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
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
        await asyncio.to_thread(self.lease.release)
        self.held = False
        await asyncio.sleep(0)  # APScheduler's shutdown runs on the loop: let it
        log.info("scheduler stopped")
