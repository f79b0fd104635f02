"""The scheduler fires its jobs on the loop, runs them in a thread, survives their failures, stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import select

from handlers.core.context import CoreConfig
from handlers.core.module import Job, JobContext
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import SuggestionDraft, SuggestionPolicy, submit_suggestion
from models.suggestions.deadlines import DUE_TOPIC
from scheduler.runner import MISFIRE_GRACE, Scheduler
from tests.factories import HOSTILE_BODY, make_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = SuggestionPolicy()
CONFIG = CoreConfig()
WAIT = 10.0  # seconds before a test gives up waiting; the jobs fire within milliseconds
FRIDAY = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai; the reminder's day


def signal(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    """Set ``event`` from a job's thread."""
    loop.call_soon_threadsafe(event.set)


async def test_the_catch_up_run_after_start_up_queues_the_reminders(db: SessionFactory) -> None:
    with db() as session:
        proposer = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
        make_member(session, employee_no="C1", name="李委员", roles=[(Role.COMMITTEE, "厂工会/一车间")])
        draft = SuggestionDraft(category="节能降耗", title="余热回收", measure=HOSTILE_BODY)
        # Wednesday 18 November: due Monday 23rd, so Friday's run reminds.
        submit_suggestion(session, actor=proposer, draft=draft, policy=POLICY, now=FRIDAY - timedelta(days=2))
    context = JobContext(sessions=db, config=CONFIG, clock=lambda: FRIDAY)
    deadlines = [job for job in REGISTRY.jobs if job.id == "suggestion_deadlines"]
    scheduler = Scheduler(context, deadlines, zone=SHANGHAI, startup_delay=timedelta(0))
    done = asyncio.Event()
    results: list[object] = []
    await scheduler.start()
    try:

        def executed(event: object) -> None:
            # Other features' jobs catch up too; this test is about the suggestion deadlines.
            if str(getattr(event, "job_id", "")).startswith("suggestion_deadlines"):
                results.append(getattr(event, "retval", None))
                done.set()

        scheduler.scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        await asyncio.wait_for(done.wait(), WAIT)
        job = scheduler.scheduler.get_job("suggestion_deadlines")
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE.total_seconds() >= 3600
        # After the catch-up run, the next one is the trigger's: 08:30 in Shanghai, a later day.
        assert job.next_run_time.astimezone(SHANGHAI).time().isoformat() == "08:30:00"
    finally:
        await scheduler.stop()
    assert results == [1]
    with db() as session:  # committed, seen from a fresh session
        assert [row.topic for row in session.exec(select(Outbox).where(Outbox.topic == DUE_TOPIC))] == [
            DUE_TOPIC
        ]


async def test_a_failing_job_is_logged_and_the_scheduler_goes_on(
    db: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    second = asyncio.Event()
    calls: list[int] = []

    def flaky(context: JobContext) -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database unreachable")
        return 7

    job = Job(id="flaky", run=flaky, schedule="0 3 * * *")
    triggers = {"flaky": IntervalTrigger(seconds=0.05, timezone=SHANGHAI)}
    scheduler = Scheduler(
        JobContext(sessions=db, config=CONFIG),
        [job],
        zone=SHANGHAI,
        startup_delay=timedelta(0),
        triggers=triggers,
    )
    with caplog.at_level(logging.INFO, logger="scheduler"):
        await scheduler.start()

        def executed(event: object) -> None:
            # APScheduler reports the run once Scheduler.run has returned, its log line written: a
            # signal from inside the job would come before that line, and stopping in between lost it.
            if getattr(event, "retval", None) == 7:
                second.set()

        scheduler.scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
        try:
            await asyncio.wait_for(second.wait(), WAIT)
        finally:
            await scheduler.stop()
    assert calls[:2] == [0, 1]
    failed = [record for record in caplog.records if "flaky failed" in record.getMessage()]
    assert failed
    assert failed[0].exc_info is not None
    assert "database unreachable" in str(failed[0].exc_info[1])
    assert any("flaky done: 7 pushes queued" in record.getMessage() for record in caplog.records)


async def test_jobs_run_in_a_thread_and_stopping_lets_one_under_way_finish(db: SessionFactory) -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    release = threading.Event()
    finished = threading.Event()
    threads: list[str] = []

    def slow(context: JobContext) -> int:
        threads.append(threading.current_thread().name)
        signal(loop, started)
        release.wait(WAIT)
        time.sleep(0.2)  # still in its transaction when stop() is called
        finished.set()
        return 0

    # A daily job: only the catch-up run fires during the test.
    job = Job(id="slow", run=slow, schedule="0 3 * * *")
    triggers = {"slow": CronTrigger(hour=3, timezone=SHANGHAI)}
    scheduler = Scheduler(
        JobContext(sessions=db, config=CONFIG),
        [job],
        zone=SHANGHAI,
        startup_delay=timedelta(0),
        triggers=triggers,
    )
    await scheduler.start()
    await asyncio.wait_for(started.wait(), WAIT)
    assert threads != [threading.current_thread().name]  # the loop keeps serving meanwhile
    release.set()
    await asyncio.wait_for(scheduler.stop(), WAIT)
    assert finished.is_set()
