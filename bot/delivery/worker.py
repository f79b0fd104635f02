"""The delivery worker: claim due pushes, render each for its member, send within the limits, record.

One row's way through a worker::

    claim (committed) → render in the member's language → pick the accounts (models.reach)
      → wait for the channel's rate → SENDING (committed) → one request → outcome (committed)

The SENDING mark is committed after the rate wait, as the request is about to
leave, and the outcome after it comes back: a row waiting for its rate slot is
still only claimed. So a worker killed at any instant leaves as SENDING only
the rows whose requests may really have reached the channel (at most
``in_flight``); they become UNCERTAIN when the worker is found dead
(models.outbox.recover), and every other row is either recorded or still
claimed, which is safe to take back. Every write is fenced by the
worker's id: a worker wrongly presumed dead cannot overwrite what another
did with its rows.

Database writes of many rows in flight are gathered into one transaction
(group commit), so a worker keeps up with a limit of a thousand a second on
SQLite too; the next batch is claimed and rendered while the current one is
still going out.

Urgent rows (a sender's progress message) are claimed ahead of the others, and
once a batch's after-batch hooks have run (which re-queue progress messages)
the worker looks for urgent rows at once rather than at its next claim, which
was prefetched while the batch was still going out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time as clock_time
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.delivery.liveness import Heartbeat, SingleWorkerLock, new_worker_id
from bot.delivery.quiet import quiet_until
from bot.delivery.rates import Rates, Stopped
from bot.delivery.results import Job, Outcome, Pusher, SendResult, Target
from handlers import modules
from handlers.core.i18n import Catalogues
from handlers.core.pushes import PushRenderers
from models.accounts import ChatAccount
from models.base import utcnow
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.facts import keep_loaded
from models.members import Member
from models.outbox import (
    ClaimedRow,
    FailureCode,
    Sent,
    claim_ids,
    claimants,
    claimed_rows,
    defer_until,
    mark_sending,
    next_due,
    record_failed,
    record_retry,
    record_sent,
    record_sent_many,
    record_uncertain,
    record_withdrawn,
    recover,
    release,
)
from models.reach import push_accounts, routes

log = logging.getLogger(__name__)

# Rows rendered per transaction.
RENDER_CHUNK = 50
# How long the writer lets marks and outcomes gather before it commits them together.
GROUP_COMMIT_SECONDS = 0.002
# When no channel that could reach a member is configured in this worker, look again after this long.
NOT_CONFIGURED_RETRY = timedelta(hours=1)
# While a batch goes out, its after-batch hooks also run this often (by the worker's clock): a batch
# takes minutes at a channel's 30 a second, and a sender's progress must move in the meantime.
HOOK_INTERVAL = timedelta(seconds=1)


# Built once, not per chunk: building and cache-keying a statement costs more than running it.
_MEMBERS = select(Member).where(col(Member.id).in_(sa.bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker behaves; :func:`bot.delivery.runner.worker_config` fills it from the settings.

    Attributes:
        batch: rows claimed at a time.
        in_flight: requests on their way at once; also the most rows a killed worker leaves uncertain.
        quiet_window: quiet hours as wall-clock (start, end) in ``zone``; None: none.
        resend_uncertain: queue a push again when the worker cannot know whether it arrived.
        template_kinds: kinds of push a WeChat template is configured for (models.reach).
        max_attempts: tries before a push that keeps failing transiently is given up.
        heartbeat_ttl: seconds without a heartbeat after which a worker counts as dead.
        recover_every: seconds between looks for dead workers' rows.
        idle_poll: longest sleep when nothing is due, seconds.
    """

    batch: int = 200
    in_flight: int = 16
    quiet_window: tuple[time, time] | None = None
    zone: tzinfo = UTC
    resend_uncertain: bool = False
    default_locale: str = "zh_CN"
    template_kinds: frozenset[str] = frozenset()
    max_attempts: int = 10
    heartbeat_ttl: int = 20
    recover_every: float = 10.0
    idle_poll: float = 1.0


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> timedelta:
    """How long a push waits after its ``attempts``-th failed try (0 for the first).

    What the channel asked for when it said (a 429's retry_after: the channel
    knows). Otherwise exponential from 15 s to an hour, jittered so that pushes
    which failed together (a network blip) do not come back in the same instant.
    """
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1.0))
    return timedelta(seconds=min(3600.0, 15.0 * 2 ** min(attempts, 16)) * rng.uniform(0.5, 1.0))


class TakenBack(Exception):
    """The row was taken back from this worker (presumed dead) before its request left: not sent."""


@dataclass
class _Batch:
    """Rows claimed together; ``after`` runs once every one of them is recorded."""

    jobs: list[Job]
    subjects: dict[str, set[int]]
    hooked_at: datetime | None = None  # when its hooks last ran (or it was claimed)
    hooking: bool = False
    open: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.open = len(self.jobs)
        if not self.open:
            self.done.set()

    def finished_one(self) -> None:
        self.open -= 1
        if self.open <= 0:
            self.done.set()


class _Turns:
    """One transaction of this worker at a time, in the order they asked (a FIFO lock).

    SQLite lets one writer in and makes the others retry with growing sleeps
    (its busy handler): a batch being claimed and rendered, 50 rows to a
    transaction, would keep the lock while the outcomes of the rows in flight
    slept, and sending stalled for the whole batch. Taking turns here hands the
    lock to the oldest asker at once.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._next = 0
        self._serving = 0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._condition:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._serving += 1
                self._condition.notify_all()


class _Writer:
    """Gathers the SENDING marks and outcomes of the rows in flight into one transaction at a time."""

    def __init__(
        self, sessions: SessionFactory, worker_id: str, clock: Callable[[], datetime], turns: _Turns
    ) -> None:
        self.sessions = sessions
        self.worker_id = worker_id
        self.clock = clock
        self.turns = turns
        self._marks: list[tuple[int, str | None, asyncio.Future[bool]]] = []
        self._settles: list[tuple[Callable[[Session], None], asyncio.Future[None]]] = []
        self._sent: list[tuple[Sent, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="delivery-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def mark_sending(self, row_id: int, channel: str | None = None) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._marks.append((row_id, channel, future))
        self._wake.set()
        return await future

    async def settle(self, write: Callable[[Session], None]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._settles.append((write, future))
        self._wake.set()
        await future

    async def sent(self, sent: Sent) -> None:
        """Record a push the channel accepted (the common case, recorded many to a statement)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((sent, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            # A moment for the other rows in flight to join: one transaction for several.
            await asyncio.sleep(GROUP_COMMIT_SECONDS)
            self._wake.clear()
            marks, self._marks = self._marks, []
            settles, self._settles = self._settles, []
            sent, self._sent = self._sent, []
            if not marks and not settles and not sent:
                continue
            waiting: list[asyncio.Future[None]] = [done for _, done in [*settles, *sent]]
            args = (
                [(row_id, channel) for row_id, channel, _ in marks],
                [write for write, _ in settles],
                [item for item, _ in sent],
                self.clock(),
            )
            try:
                try:
                    marked = await asyncio.to_thread(self._apply, *args)
                except sa.exc.DBAPIError as lost:
                    if not lost.connection_invalidated:
                        raise
                    # The connection died (a database restart, a killed backend): the transaction
                    # rolled back whole, and its writes are fenced, so once more on a new one.
                    # Failing here would leave requests that went out to be declared uncertain.
                    log.warning("database connection lost while recording pushes; trying a new one")
                    marked = await asyncio.to_thread(self._apply, *args)
            except Exception as error:
                for _, _, mark in marks:
                    if not mark.done():
                        mark.set_exception(error)
                for done in waiting:
                    if not done.done():
                        done.set_exception(error)
                continue
            for row_id, _, mark in marks:
                if not mark.done():
                    mark.set_result(row_id in marked)
            for done in waiting:
                if not done.done():
                    done.set_result(None)

    def _apply(
        self,
        marks: list[tuple[int, str | None]],
        settles: list[Callable[[Session], None]],
        sent: list[Sent],
        now: datetime,
    ) -> set[int]:
        by_channel: dict[str | None, list[int]] = defaultdict(list)
        for row_id, channel in marks:
            by_channel[channel].append(row_id)
        marked: set[int] = set()
        with self.turns.turn(), self.sessions() as session:
            record_sent_many(session, sent, worker_id=self.worker_id, now=now)
            for write in settles:
                write(session)
            for channel, ids in by_channel.items():
                marked |= mark_sending(session, ids, worker_id=self.worker_id, channel=channel)
            return marked


class DeliveryWorker:
    """Takes pushes from the outbox and sends them through the channels' pushers.

    Args:
        pushers: by channel name ("telegram", "wechat"); a member reachable only on a
            channel without a pusher here waits (NOT_CONFIGURED_RETRY) instead of failing.
        rates: the channels' shared limits (bot.delivery.rates).
        lock: held while running where only one worker may run (liveness.SingleWorkerLock).
        clock: now, aware UTC (time-machine moves it in tests).
    """

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        store: EphemeralStore,
        rates: Rates,
        pushers: Mapping[str, Pusher],
        catalogues: Catalogues,
        config: WorkerConfig,
        lock: SingleWorkerLock | None = None,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        pushes: PushRenderers | None = None,
    ) -> None:
        self.sessions = sessions
        # How each topic reads: the modules' renderers (a test may bring its own topic).
        self.pushes = pushes if pushes is not None else modules.REGISTRY.pushes
        self.rates = rates
        self.pushers = dict(pushers)
        self.catalogues = catalogues
        self.config = config
        self.lock = lock
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock
        self.heartbeat = Heartbeat(store, self.worker_id, config.heartbeat_ttl)
        self._rng = rng or random.Random()  # noqa: S311  jitter, not cryptography
        self._turns = _Turns()
        self._writer = _Writer(sessions, self.worker_id, clock, self._turns)
        self._slots = asyncio.Semaphore(config.in_flight)
        self._running: set[asyncio.Task[None]] = set()
        self._fatal: BaseException | None = None

    # -- running -----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; then finish the requests on their way and give back the rest.

        Raises:
            WorkerAlreadyRunning: only one worker may run on this database, and one does.
        """
        await self._start()
        beats = asyncio.get_running_loop().create_task(self._beat_forever(), name="delivery-heartbeat")
        try:
            await self._loop(stop)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats
            await self._stop()

    async def run_once(self) -> int:
        """Claim one batch, send it all, record it: one step of :meth:`run`, for tests and tools.

        Returns:
            How many rows were claimed.
        """
        await self._start()
        try:
            batch, claimed = await self._prepare()
            for job in batch.jobs:
                await self._slots.acquire()
                self._launch(job, batch, None)
            await self._finish(batch)
            if self._fatal is not None:
                raise self._fatal
            return claimed
        finally:
            await self._stop()

    async def recover_dead(self) -> None:
        """Take back what workers without a heartbeat left behind (at start-up, then now and then)."""
        await asyncio.to_thread(self._recover_sync, self.clock())

    async def _start(self) -> None:
        if self.lock is not None:
            await asyncio.to_thread(self.lock.acquire)
        await asyncio.to_thread(self.heartbeat.beat)  # before claiming: others must see us alive
        self._writer.start()
        await self.recover_dead()

    async def _stop(self) -> None:
        while self._running:  # hooks may launch urgent rows meanwhile: wait for those too
            await asyncio.gather(*list(self._running), return_exceptions=True)
        await self._writer.close()
        await asyncio.to_thread(self.heartbeat.stop)
        if self.lock is not None:
            await asyncio.to_thread(self.lock.release)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_ttl / 3)
            try:
                await asyncio.to_thread(self.heartbeat.beat)
            except Exception:  # the store is down: keep trying, the rows stay fenced by our id
                log.exception("delivery worker %s could not renew its heartbeat", self.worker_id)

    async def _loop(self, stop: asyncio.Event) -> None:
        pending: deque[Job] = deque()
        batch: _Batch | None = None
        prefetch: asyncio.Task[tuple[_Batch, int]] | None = None
        last_recovery = clock_time.monotonic()
        try:
            while not stop.is_set():
                if self._fatal is not None:
                    raise self._fatal
                if clock_time.monotonic() - last_recovery >= self.config.recover_every:
                    await self.recover_dead()
                    last_recovery = clock_time.monotonic()
                if not pending:
                    if prefetch is None:
                        prefetch = asyncio.get_running_loop().create_task(self._prepare())
                    batch, claimed = await prefetch
                    prefetch = None
                    self._after_later(batch, stop)
                    if not claimed:
                        await self._idle(stop)
                        continue
                    pending.extend(batch.jobs)
                    continue
                await self._slots.acquire()
                if stop.is_set() or self._fatal is not None:
                    self._slots.release()
                    break
                assert batch is not None
                self._launch(pending.popleft(), batch, stop)
                if prefetch is None and len(pending) <= self.config.batch // 2:
                    # Claim and render the next batch while this one is still going out.
                    prefetch = asyncio.get_running_loop().create_task(self._prepare())
        finally:
            unsent = [job.row_id for job in pending]
            if batch is not None:
                for _ in pending:
                    batch.finished_one()  # given back, not sent: the batch's report need not wait for it
            if prefetch is not None:
                with contextlib.suppress(Exception):
                    extra, _ = await prefetch
                    unsent.extend(job.row_id for job in extra.jobs)
            if unsent:
                given_back = await asyncio.to_thread(self._release_sync, unsent)
                log.info("delivery worker stopping: %d claimed pushes given back", given_back)
        if self._fatal is not None:
            raise self._fatal

    async def _idle(self, stop: asyncio.Event) -> None:
        due = await asyncio.to_thread(self._next_due_sync)
        wait = self.config.idle_poll
        if due is not None:
            wait = min(wait, max(0.05, (due - self.clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)

    def _launch(self, job: Job, batch: _Batch, stop: asyncio.Event | None) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(job, batch, stop))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def _after_later(self, batch: _Batch, stop: asyncio.Event | None) -> None:
        if not batch.subjects:
            return
        task = asyncio.get_running_loop().create_task(self._finish(batch, stop))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _finish(self, batch: _Batch, stop: asyncio.Event | None = None) -> None:
        await batch.done.wait()
        if batch.subjects:
            await self._hooks(batch.subjects, stop)

    def _hook_meanwhile(self, batch: _Batch, stop: asyncio.Event | None) -> None:
        """Run the batch's hooks while it is still going out, every HOOK_INTERVAL of the worker's clock."""
        if not batch.subjects or batch.open <= 0 or batch.hooking:
            return
        now = self.clock()
        if batch.hooked_at is not None and now - batch.hooked_at < HOOK_INTERVAL:
            return
        batch.hooking, batch.hooked_at = True, now

        async def hooks() -> None:
            try:
                await self._hooks(batch.subjects, stop)
            finally:
                batch.hooking = False

        task = asyncio.get_running_loop().create_task(hooks())
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _hooks(self, subjects: dict[str, set[int]], stop: asyncio.Event | None) -> None:
        """The after-batch hooks; then what they re-queued (a progress message) goes at once.

        Not behind the batch prefetched meanwhile: urgent rows are claimed on their own here.
        """
        await asyncio.to_thread(self._after_sync, subjects)
        if (stop is not None and stop.is_set()) or self._fatal is not None:
            return
        urgent, claimed = await asyncio.to_thread(self._prepare_sync, self.clock(), True)
        if not claimed:
            return
        self._after_later(urgent, stop)
        for job in urgent.jobs:
            await self._slots.acquire()
            self._launch(job, urgent, stop)

    # -- one push ----------------------------------------------------------------------------------

    async def _deliver(self, job: Job, batch: _Batch, stop: asyncio.Event | None) -> None:
        """One row, holding one of the ``in_flight`` slots from its rate wait to its outcome."""
        try:
            result, channel, marked = await self._send(job, stop)
            if not marked and result is not None and result.outcome in (Outcome.SENT, Outcome.UNCERTAIN):
                # No request left (a pusher failed before asking for its slot): nobody has it.
                result = SendResult(Outcome.RETRY, error=result.error or "nothing went out")
            if result is not None and result.outcome is Outcome.SENT and channel is not None:
                await self._writer.sent(Sent(job.row_id, channel, result.external_ref, result.error))
            else:
                now = self.clock()
                await self._writer.settle(lambda session: self._settle(session, job, result, channel, now))
        except TakenBack:
            log.warning("push %s was taken back from this worker; not sending it", job.key)
        except Exception as error:  # the database failed: stop, and let the rows be recovered
            log.exception("delivery worker %s failed", self.worker_id)
            self._fatal = self._fatal or error
        finally:
            self._slots.release()
            batch.finished_one()
            self._hook_meanwhile(batch, stop)

    async def _send(self, job: Job, stop: asyncio.Event | None) -> tuple[SendResult | None, str | None, bool]:
        """Try the member's accounts in order until one takes the push or fails it for good.

        Returns the result, the channel it came from and whether the row was marked SENDING
        (a request may have left); (None, None, False) when the worker stopped before any did.

        Raises:
            TakenBack: the row is no longer this worker's; nothing was sent.
        """
        refused: list[tuple[str, str]] = []
        channel: str | None = None
        marked = False

        async def mark(channel: str) -> None:
            nonlocal marked
            if marked:
                return
            if not await self._writer.mark_sending(job.row_id, channel):
                raise TakenBack(job.key)
            marked = True

        for target in job.targets:
            pusher = self.pushers[target.channel]
            channel = target.channel
            acquire = self._acquirer(target, stop, mark)
            try:
                result = await pusher.send(job, target, acquire)
            except Stopped:  # only the first wait gives way to a stop: nothing went out
                return None, None, False
            except Exception as error:  # a bug in a pusher: the request may have gone out
                log.exception("pushing %s on %s failed unexpectedly", job.key, target.channel)
                result = SendResult(Outcome.UNCERTAIN, error=f"{type(error).__name__}: {error}")
            if result.pause and result.retry_after:
                await self.rates.pause(target.channel, result.retry_after)
            if result.outcome is Outcome.UNREACHABLE:
                refused.append((target.channel, result.error or "unreachable"))
                continue
            return result, target.channel, marked
        return SendResult(Outcome.FAILED, error=_refusal(refused)), channel, marked

    def _acquirer(
        self, target: Target, stop: asyncio.Event | None, mark: Callable[[str], Any]
    ) -> Callable[[], Any]:
        """The pusher's ``acquire``: the rate wait, then the SENDING mark, committed before the request.

        Its first wait gives way to a stop, later ones (parts) do not.
        """
        first = True

        async def acquire() -> None:
            nonlocal first
            if not first:
                await self.rates.acquire(target.channel, target.external_id)
                await mark(target.channel)
                return
            first = False
            if stop is not None and stop.is_set():
                raise Stopped
            await self.rates.acquire(target.channel, target.external_id, stop)
            await mark(target.channel)

        return acquire

    def _settle(
        self, session: Session, job: Job, result: SendResult | None, channel: str | None, now: datetime
    ) -> None:
        worker = self.worker_id
        if result is None:
            record_retry(
                session,
                job.row_id,
                worker_id=worker,
                channel=None,
                error="worker stopped",
                at=now,
                count=False,
            )
            return
        error = result.error or result.outcome.value
        if result.outcome is Outcome.SENT:
            assert channel is not None
            record_sent(
                session,
                job.row_id,
                worker_id=worker,
                channel=channel,
                external_ref=result.external_ref,
                now=now,
                note=result.error,
            )
        elif result.outcome is Outcome.RETRY:
            tries = job.attempts + 1
            if tries >= self.config.max_attempts:
                log.warning("push %s on %s failed %d times (%s); given up", job.key, channel, tries, error)
                record_failed(
                    session, job.row_id, worker_id=worker, channel=channel, error=f"gave up: {error}"
                )
            else:
                delay = retry_delay(job.attempts, result.retry_after, self._rng)
                log.warning(
                    "push %s on %s not sent (%s); try %d of %d in %.0f s",
                    job.key,
                    channel,
                    error,
                    tries + 1,
                    self.config.max_attempts,
                    delay.total_seconds(),
                )
                record_retry(
                    session, job.row_id, worker_id=worker, channel=channel, error=error, at=now + delay
                )
        elif result.outcome is Outcome.UNCERTAIN:
            assert channel is not None
            if self.config.resend_uncertain:
                delay = retry_delay(job.attempts, None, self._rng)
                log.warning(
                    "push %s on %s got no answer (%s); sent again in %.0f s as the settings allow",
                    job.key,
                    channel,
                    error,
                    delay.total_seconds(),
                )
                record_retry(
                    session, job.row_id, worker_id=worker, channel=channel, error=error, at=now + delay
                )
            else:
                log.warning(
                    "push %s on %s got no answer (%s); uncertain, not sent again", job.key, channel, error
                )
                record_uncertain(session, job.row_id, worker_id=worker, channel=channel, error=error)
        else:
            log.info("push %s failed for good on %s: %s", job.key, channel, error)
            record_failed(session, job.row_id, worker_id=worker, channel=channel, error=error)

    # -- the database side, on a thread ------------------------------------------------------------

    async def _prepare(self) -> tuple[_Batch, int]:
        return await asyncio.to_thread(self._prepare_sync, self.clock())

    def _prepare_sync(self, now: datetime, urgent_only: bool = False) -> tuple[_Batch, int]:
        """Claim a batch (committed on its own), then render it; rows that cannot go are settled here."""
        with self._turns.turn(), self.sessions() as session:
            until = quiet_until(now, self.config.quiet_window, self.config.zone)
            if until is not None and not urgent_only:
                defer_until(session, now=now, until=until)
            ids = claim_ids(
                session,
                worker_id=self.worker_id,
                now=now,
                limit=self.config.in_flight if urgent_only else self.config.batch,
                urgent_only=urgent_only,
            )
        if not ids:
            return _Batch([], {}, now), 0
        jobs: list[Job] = []
        subjects: dict[str, set[int]] = defaultdict(set)
        # Short transactions: on SQLite each holds the write lock, and the rows in flight
        # wait for it to record their outcomes.
        for start in range(0, len(ids), RENDER_CHUNK):
            # What the renderers load (a notice, its unit) is loaded once per chunk, not once per push.
            with self._turns.turn(), self.sessions() as session, keep_loaded(session):
                chunk = claimed_rows(session, ids[start : start + RENDER_CHUNK])
                member_ids = sorted({row.member_id for row in chunk})
                members = {member.id: member for member in session.exec(_MEMBERS, params={"ids": member_ids})}
                accounts = push_accounts(session, member_ids)
                for row in chunk:
                    if row.subject_id is not None:
                        subjects[row.topic].add(row.subject_id)
                    job = self._job_for(
                        session, row, members.get(row.member_id), accounts[row.member_id], now
                    )
                    if job is not None:
                        jobs.append(job)
        # In the order claimed: urgent rows (a sender's progress) ahead of the rows they report on.
        position = {row_id: index for index, row_id in enumerate(ids)}
        jobs.sort(key=lambda job: position[job.row_id])
        return _Batch(jobs, dict(subjects), now), len(ids)

    def _job_for(
        self,
        session: Session,
        row: ClaimedRow,
        member: Member | None,
        accounts: Collection[ChatAccount],
        now: datetime,
    ) -> Job | None:
        assert row.id is not None
        worker = self.worker_id
        found = (
            routes(member, accounts, kind=row.kind, now=now, template_kinds=self.config.template_kinds)
            if member is not None
            else []
        )
        if not found:
            error = f"{FailureCode.NO_ACCOUNT}: no active account"
            record_failed(session, row.id, worker_id=worker, channel=None, error=error)
            return None
        usable = [(account, reach) for account, reach in found if account.channel in self.pushers]
        if not usable:
            channels = ", ".join(sorted({account.channel for account, _ in found}))
            record_retry(
                session,
                row.id,
                worker_id=worker,
                channel=None,
                error=f"channel not configured in this worker: {channels}",
                at=now + NOT_CONFIGURED_RETRY,
                count=False,
            )
            return None
        assert member is not None
        translator = self.catalogues.get(member.locale or usable[0][0].locale or self.config.default_locale)
        try:
            push = self.pushes.render(session, row, translator, self.config.zone)
        except Exception as error:  # one broken renderer must not hold up every other push
            log.exception("push %s could not be rendered", row.key)
            record_failed(
                session, row.id, worker_id=worker, channel=None, error=f"not rendered: {type(error).__name__}"
            )
            return None
        if push is None:
            record_withdrawn(session, row.id, worker_id=worker)
            return None
        return Job(
            row_id=row.id,
            key=row.key,
            kind=row.kind,
            topic=row.topic,
            subject_id=row.subject_id,
            push=push,
            targets=tuple(
                Target(account.channel, account.external_id, account.last_seen_at) for account, _ in usable
            ),
            attempts=row.attempts,
            time=row.due_at,
            previous_channel=row.channel,
            previous_ref=row.external_ref,
        )

    def _recover_sync(self, now: datetime) -> None:
        with self._turns.turn(), self.sessions() as session:
            dead = {worker for worker in claimants(session) if not self.heartbeat.alive(worker)}
            if not dead:
                return
            recovered = recover(session, workers=dead, resend_uncertain=self.config.resend_uncertain, now=now)
        log.warning(
            "took back the pushes of %d stopped worker(s): %d queued again, %d uncertain",
            len(dead),
            recovered.requeued,
            recovered.uncertain,
        )

    def _release_sync(self, ids: list[int]) -> int:
        with self._turns.turn(), self.sessions() as session:
            return release(session, ids, worker_id=self.worker_id)

    def _next_due_sync(self) -> datetime | None:
        with self._turns.turn(), self.sessions() as session:
            return next_due(session)

    def _after_sync(self, subjects: dict[str, set[int]]) -> None:
        try:
            with self._turns.turn(), self.sessions() as session:
                self.pushes.after_batch(session, subjects, self.clock())
        except Exception:  # a feature's report must not stop deliveries
            log.exception("after-batch hook failed for %s", sorted(subjects))


__all__ = ["DeliveryWorker", "WorkerConfig", "retry_delay"]


def _refusal(refused: list[tuple[str, str]]) -> str:
    """Why no account took a push, led by its code (models.outbox.FailureCode) for reports.

    A member who blocked the bot or unfollowed counts as blocked even if another account
    had no template to offer; otherwise the member simply had no account that could take it.
    """
    reasons = {reason for _, reason in refused}
    if reasons & {"blocked", "unsubscribed"}:
        code = FailureCode.BLOCKED
    elif reasons and reasons <= {"no_template"}:
        code = FailureCode.NO_TEMPLATE
    else:
        code = FailureCode.NO_ACCOUNT
    details = "; ".join(f"{channel}: {reason}" for channel, reason in refused) or "no reachable account"
    return f"{code}: {details}"
