"""Several processes run the scheduler: one computes each run, and another takes over when it dies.

Two :class:`Scheduler` objects stand for two processes sharing one lease backend: Redis
(UNIONBOT_TEST_REDIS_URL) and PostgreSQL's advisory lock (UNIONBOT_TEST_DATABASE_URL). A Redis
lease is expired by moving the clock it is taken by, never by waiting; a PostgreSQL holder dies
by having its connection's server process ended.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
import sqlalchemy as sa
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlmodel import select

from handlers.core.context import CoreConfig
from handlers.core.module import Job, JobContext
from models.db import SessionFactory, make_engine
from models.jobs import JobRun, RunStatus
from scheduler.lease import LEASE_TTL, AdvisoryLease, Lease, LocalLease, RedisLease
from scheduler.runner import Scheduler
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the day after the month's first working day
WAIT = 10.0
CONFIG = CoreConfig()


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Counted:
    """A monthly job that records the time each run stood for, in whichever process ran it."""

    dues: list[datetime]

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, context: JobContext) -> int:
        with self.lock:
            self.dues.append(context.due_at())
        return 1


def monthly(counted: Counted) -> Job:
    return Job(
        id="monthly_call",
        run=counted,
        schedule="0 9 1W * *",
        catch_up_window=timedelta(days=3),
        monthly=True,
    )


def redis_pair() -> Iterator[tuple[Lease, Lease]]:
    assert TEST_REDIS_URL
    client = redis.Redis.from_url(TEST_REDIS_URL)
    key = f"unionbot-test:{uuid.uuid4().hex}:lease"
    yield RedisLease(client, holder="one", key=key), RedisLease(client, holder="two", key=key)
    client.delete(key)
    client.close()


def advisory_pair() -> Iterator[tuple[Lease, Lease]]:
    assert TEST_DATABASE_URL
    engine = make_engine(TEST_DATABASE_URL)
    key = uuid.uuid4().int % 2**62
    one, two = AdvisoryLease(engine, holder="one", key=key), AdvisoryLease(engine, holder="two", key=key)
    yield one, two
    one.release()
    two.release()
    engine.dispose()


BACKENDS = [
    *([pytest.param(redis_pair, id="redis")] if TEST_REDIS_URL else []),
    *([pytest.param(advisory_pair, id="advisory")] if TEST_DATABASE_URL else []),
]


@pytest.fixture(params=BACKENDS)
def leases(request: pytest.FixtureRequest) -> Iterator[tuple[Lease, Lease]]:
    yield from request.param()


def two_processes(
    db: SessionFactory, job: Job, leases: tuple[Lease, Lease], clock: Clock
) -> tuple[Scheduler, Scheduler]:
    context = JobContext(sessions=db, config=CONFIG, clock=lambda: T0)
    return tuple(  # type: ignore[return-value]
        Scheduler(context, [job], zone=SHANGHAI, lease=lease, lease_clock=clock, startup_delay=timedelta(0))
        for lease in leases
    )


async def test_two_schedulers_one_computes(db: SessionFactory, leases: tuple[Lease, Lease]) -> None:
    counted = Counted([])
    job = monthly(counted)
    first, second = two_processes(db, job, leases, Clock(T0))
    due = datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)
    results = await asyncio.gather(first.run(job, due=due), second.run(job, due=due))
    assert sorted(results, key=str) == [1, None]
    assert counted.dues == [due]
    # The holder computes the next run too; the other still skips it.
    holder, other = (first, second) if results[0] == 1 else (second, first)
    assert await holder.run(job, due=due) == 1
    assert await other.run(job, due=due) is None
    with db() as session:
        runs = session.exec(select(JobRun)).all()
    assert [(run.job, run.period, run.status, run.queued, run.holder) for run in runs] == [
        ("monthly_call", "2026-10", RunStatus.DONE, 1, holder.lease.holder)
    ] * 2
    await asyncio.gather(first.stop(), second.stop())


def ended_backend(lease: AdvisoryLease) -> None:
    """End the server process of the connection holding ``lease``, as when its machine is lost."""
    assert lease._connection is not None
    pid = lease._connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    assert TEST_DATABASE_URL
    admin = make_engine(TEST_DATABASE_URL)
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()
        # Waits until the ended process has let the lock go (not a sleep: the server says when).
        connection.execute(sa.text("SET lock_timeout = '10s'"))
        connection.execute(sa.select(sa.func.pg_advisory_lock(lease.key)))
        connection.execute(sa.select(sa.func.pg_advisory_unlock(lease.key)))
        connection.commit()
    admin.dispose()


async def test_when_the_holder_dies_the_other_takes_over_and_catches_up(
    db: SessionFactory, leases: tuple[Lease, Lease]
) -> None:
    counted = Counted([])
    job = monthly(counted)
    clock = Clock(T0)
    first, second = two_processes(db, job, leases, clock)
    assert await first.tick()
    # The second process starts while the first holds the lease: it catches up on nothing yet.
    await second.start()
    done = asyncio.Event()
    events: list[JobExecutionEvent] = []

    def executed(event: JobExecutionEvent) -> None:
        events.append(event)
        done.set()

    second.scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        assert not second.held
        clock.now = T0 + LEASE_TTL / 2
        assert await first.tick()  # renewed
        assert not await second.tick()
        # The first process dies: it renews no more.
        if isinstance(leases[0], AdvisoryLease):
            ended_backend(leases[0])
        else:
            clock.now = T0 + LEASE_TTL / 2 + LEASE_TTL + timedelta(seconds=1)
        assert await second.tick()
        await asyncio.wait_for(done.wait(), WAIT)
        # The dead holder, back, no longer holds it.
        assert not await first.tick()
    finally:
        await second.stop()
        await first.stop()
    # Taking over, it ran the month's call it found missed: 1W of October, 09:00 on the 8th.
    assert [event.retval for event in events] == [1]
    assert counted.dues == [datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)]


async def test_a_missed_run_is_caught_up_once_for_its_period(db: SessionFactory) -> None:
    counted = Counted([])
    job = monthly(counted)
    context = JobContext(sessions=db, config=CONFIG, clock=lambda: T0)

    async def start_and_stop() -> list[object]:
        scheduler = Scheduler(context, [job], zone=SHANGHAI, lease=LocalLease(), startup_delay=timedelta(0))
        done = asyncio.Event()
        results: list[object] = []
        await scheduler.start()
        try:
            if any(queued.id.endswith(":catch-up") for queued in scheduler.scheduler.get_jobs()):

                def executed(event: JobExecutionEvent) -> None:
                    results.append(event.retval)
                    done.set()

                scheduler.scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
                await asyncio.wait_for(done.wait(), WAIT)
        finally:
            await scheduler.stop()
        return results

    # Down on the 8th at 09:00, up on the 9th: the run for the 8th comes now, for October.
    assert await start_and_stop() == [1]
    assert counted.dues == [datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)]
    # Restarted again: that time is covered, nothing runs.
    assert await start_and_stop() == []
    assert len(counted.dues) == 1


async def test_past_its_window_a_missed_run_is_left(db: SessionFactory) -> None:
    counted = Counted([])
    job = monthly(counted)
    late = JobContext(sessions=db, config=CONFIG, clock=lambda: T0 + timedelta(days=5))
    scheduler = Scheduler(late, [job], zone=SHANGHAI, startup_delay=timedelta(0))
    await scheduler.start()
    try:
        assert [queued.id for queued in scheduler.scheduler.get_jobs()] == ["monthly_call"]
    finally:
        await scheduler.stop()
    assert counted.dues == []


async def test_a_job_the_settings_turn_off_is_not_scheduled(db: SessionFactory) -> None:
    job = monthly(Counted([]))
    context = JobContext(sessions=db, config=CONFIG, clock=lambda: T0)
    scheduler = Scheduler(context, [job], zone=SHANGHAI, schedules={"monthly_call": "off"})
    await scheduler.start()
    try:
        assert scheduler.scheduler.get_jobs() == []
    finally:
        await scheduler.stop()


def test_without_redis_nobody_computes_rather_than_everybody() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    assert not RedisLease(client, holder="one").hold(T0)


async def test_the_call_fires_at_nine_in_shanghai_on_a_server_clock_in_utc(db: SessionFactory) -> None:
    """The real scheduler, the real job: a second before 01:00 UTC on 8 October, the first working day."""
    from handlers.suggestions.collection import CALL_JOB
    from models.outbox import Outbox
    from tests.factories import make_member

    with db() as session:
        make_member(session, employee_no="2101", name="张伟")
    fired = asyncio.Event()
    results: list[object] = []
    with time_machine.travel(datetime(2026, 10, 8, 0, 59, 59, tzinfo=UTC), tick=True):
        scheduler = Scheduler(JobContext(sessions=db, config=CONFIG), [CALL_JOB], zone=SHANGHAI)
        await scheduler.start()
        try:
            # Nothing to catch up: the last first working day (1 September) is past the window.
            assert [queued.id for queued in scheduler.scheduler.get_jobs()] == ["collect_call"]

            def executed(event: JobExecutionEvent) -> None:
                results.append(event.retval if event.exception is None else event.exception)
                fired.set()

            scheduler.scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            await asyncio.wait_for(fired.wait(), WAIT)
        finally:
            await scheduler.stop()
    assert results == [1]
    with db() as session:
        assert [row.key.split(":member:")[0] for row in session.exec(select(Outbox))] == ["collect:2026-10"]
        [run] = session.exec(select(JobRun)).all()
    assert (run.period, run.due_at) == ("2026-10", datetime(2026, 10, 8, 1, 0, tzinfo=UTC))
