"""Keeping our sends within Telegram's flood limits, and spacing retries.

Telegram asks bots to send at most about 30 messages a second in all, at
most one a second to one chat (short bursts are tolerated) and 20 a minute
to one group; beyond that it answers 429 with ``retry_after``, and that wait
applies to the whole bot.

Why not python-telegram-bot's ``AIORateLimiter`` (see docs/LIBRARIES.md): it has
no per-chat limit for private chats, it retries nothing by default
(``max_retries=0``), and one ``RetryAfter`` pauses every request of the
process, answers to button presses and polling included (#3765). Its
bucket also lets twice the rate through in the first second after a quiet
spell. :class:`SendLimiter` is called by the adapter only around sends:
:meth:`SendLimiter.acquire` before each one, :meth:`SendLimiter.pause`
when a 429 arrives, so the adapter decides what waits and what is retried.

Like ``AIORateLimiter`` it counts in this process only: N processes send N
times the rate. Run the Telegram sender in one process, or divide
``per_second`` among them.

Clock and sleep are injectable so tests run in fake time, instantly.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PRUNE_AT_LEAST = 1024


class _Window:
    """At most ``limit`` events in any ``span`` seconds: the times of the latest ``limit`` events.

    This is a token bucket of ``limit`` tokens in which a spent token comes back
    exactly ``span`` seconds after it was spent. Unlike a bucket that refills
    continuously, it never lets more than ``limit`` through in any window of
    ``span``: a continuously refilled bucket of 30 at 30/s passes 60 messages in
    the first second after an idle spell, twice what Telegram allows.
    """

    __slots__ = ("limit", "span", "times")

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def next_free(self, now: float) -> float:
        """When one more event may happen: ``now`` if at once, else a later time."""
        times = self.times
        while times and times[0] + self.span <= now:
            times.popleft()
        return now if len(times) < self.limit else times[0] + self.span

    def record(self, now: float) -> None:
        """Count an event at ``now``; only after :meth:`next_free` allowed it."""
        self.times.append(now)

    def idle(self, now: float) -> bool:
        return not self.times or self.times[-1] + self.span <= now


@dataclass(eq=False)
class _Waiter:
    seq: int
    future: asyncio.Future[None]


class SendLimiter:
    """Waits until a send to a chat is within the global rate, the chat's spacing and any pause.

    Rules:

    - globally at most ``burst`` sends (default: ``per_second`` rounded down, at least 1)
      in any ``burst / per_second`` seconds, i.e. 30 at once and then 30 a second;
    - per private chat at most ``per_chat_burst`` sends in any
      ``per_chat_burst × per_chat_interval`` seconds (the default, 1, spaces them
      ``per_chat_interval`` apart); a group or channel (negative chat id) uses
      ``group_interval``, 3 s by default for Telegram's 20 a minute;
    - ``acquire(None)`` is for calls that are not a message in a chat (answering a
      button press): global rate and pause only;
    - :meth:`pause` holds everything until its time has passed.

    Fairness: callers waiting for different chats are served in the order they
    arrived, among those whose chat may receive now; a chat still within its
    spacing steps aside instead of holding up the queue, so one busy chat never
    delays others beyond the global rate. Calls for one chat go in arrival order.

    A caller cancelled while waiting gives its turn up. Callers wait on futures and
    a timer task sleeps until the next deadline, so thousands of queued sends cost
    a heap entry each, not a sleeping task each.
    """

    def __init__(
        self,
        per_second: float = 30,
        per_chat_interval: float = 1.0,
        *,
        per_chat_burst: int = 1,
        group_interval: float = 3.0,
        burst: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        if per_chat_interval < 0 or group_interval < 0:
            raise ValueError("intervals cannot be negative")
        burst = max(1, math.floor(per_second)) if burst is None else burst
        if burst < 1 or per_chat_burst < 1:
            raise ValueError("bursts must be at least 1")
        self._global = _Window(burst, burst / per_second)
        self._per_chat_interval = per_chat_interval
        self._group_interval = group_interval
        self._per_chat_burst = per_chat_burst
        self._clock = clock
        self._sleep = sleep
        self._paused_until = -math.inf
        self._seq = itertools.count()
        # Waiting callers by chat, oldest first. Every chat in here has exactly one
        # entry in one of the heaps below, keyed by the seq of its oldest waiter
        # when it was pushed (cancelled waiters are dropped lazily).
        self._queues: dict[int | None, deque[_Waiter]] = {}
        self._ready: list[tuple[int, int | None]] = []  # (seq, chat): may send now, oldest first
        self._blocked: list[tuple[float, int, int | None]] = []  # (when, seq, chat): within spacing
        self._chats: dict[int | None, _Window] = {}
        self._prune_at = _PRUNE_AT_LEAST
        self._timers: dict[asyncio.Task[None], float] = {}

    async def acquire(self, chat_id: int | None) -> None:
        """Return when a message to ``chat_id`` may be sent (``None``: not a chat message)."""
        waiter = _Waiter(next(self._seq), asyncio.get_running_loop().create_future())
        queue = self._queues.get(chat_id)
        if queue is None:
            self._queues[chat_id] = deque([waiter])
            self._schedule(chat_id, self._clock())
        else:
            queue.append(waiter)
        self._pump()
        await waiter.future

    def pause(self, seconds: float | timedelta) -> None:
        """Hold every send for ``seconds`` from now: Telegram's 429 ``retry_after`` is per bot.

        Takes PTB's ``RetryAfter.retry_after`` as it comes, a number or (with
        ``PTB_TIMEDELTA``) a timedelta. A shorter pause never shortens a longer one.
        """
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        if seconds > 0:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    @property
    def waiting(self) -> int:
        """How many callers are queued (cancelled ones may still be counted until their turn)."""
        return sum(len(queue) for queue in self._queues.values())

    # -- scheduling -----------------------------------------------------------------------------

    def _interval(self, chat_id: int | None) -> float:
        if chat_id is None:
            return 0.0
        return self._group_interval if chat_id < 0 else self._per_chat_interval

    def _schedule(self, chat_id: int | None, now: float) -> None:
        """Put a chat with waiters into the ready or the blocked heap; forget it if none are left."""
        queue = self._queues[chat_id]
        while queue and queue[0].future.done():
            queue.popleft()
        if not queue:
            del self._queues[chat_id]
            return
        window = self._chats.get(chat_id)
        free_at = now if window is None else window.next_free(now)
        if free_at <= now:
            heapq.heappush(self._ready, (queue[0].seq, chat_id))
        else:
            heapq.heappush(self._blocked, (free_at, queue[0].seq, chat_id))

    def _grant(self, chat_id: int | None, now: float) -> None:
        self._global.record(now)
        interval = self._interval(chat_id)
        if interval <= 0:
            return
        window = self._chats.get(chat_id)
        if window is None:
            window = self._chats[chat_id] = _Window(self._per_chat_burst, self._per_chat_burst * interval)
        window.next_free(now)
        window.record(now)
        if len(self._chats) > self._prune_at:
            self._chats = {
                chat: window
                for chat, window in self._chats.items()
                if not window.idle(now) or chat in self._queues
            }
            self._prune_at = max(_PRUNE_AT_LEAST, 2 * len(self._chats))

    def _pump(self) -> None:
        """Grant every turn that is due now, then make sure a timer wakes us for the next one."""
        now = self._clock()
        while self._blocked and self._blocked[0][0] <= now:
            _, _, chat_id = heapq.heappop(self._blocked)
            self._schedule(chat_id, now)
        if self._paused_until > now:
            due = self._paused_until
        else:
            due = math.inf
            while self._ready:
                seq, chat_id = self._ready[0]
                queue = self._queues[chat_id]
                if queue[0].seq != seq or queue[0].future.done():  # its oldest waiter was cancelled
                    heapq.heappop(self._ready)
                    self._schedule(chat_id, now)
                    continue
                free_at = self._global.next_free(now)
                if free_at > now:
                    due = free_at
                    break
                heapq.heappop(self._ready)
                waiter = queue.popleft()
                self._grant(chat_id, now)
                waiter.future.set_result(None)
                self._schedule(chat_id, now)
            if self._blocked:
                due = min(due, self._blocked[0][0])
        if not self._queues:
            self._disarm()
        elif due < math.inf:
            self._arm(due)

    def _arm(self, due: float) -> None:
        if any(armed <= due for armed in self._timers.values()):
            return  # an earlier timer will pump, and arm again for what is still waiting then
        task = asyncio.get_running_loop().create_task(self._wake_at(due))
        self._timers[task] = due
        task.add_done_callback(self._forget_timer)

    def _forget_timer(self, task: asyncio.Task[None]) -> None:
        self._timers.pop(task, None)

    def _disarm(self) -> None:
        # Forget them at once: a cancelled timer must not stop _arm from arming a live one.
        current = asyncio.current_task()
        for task in list(self._timers):
            if task is not current:
                del self._timers[task]
                task.cancel()

    async def _wake_at(self, due: float) -> None:
        delay = due - self._clock()
        if delay > 0:
            await self._sleep(delay)
        task = asyncio.current_task()
        if task is not None:
            self._timers.pop(task, None)
        self._pump()


_RANDOM = random.Random()  # noqa: S311  jitter, not cryptography


def backoff(attempt: int, base: float = 0.5, cap: float = 30, *, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first): exponential with full jitter.

    A uniform draw from ``[0, min(cap, base × 2**attempt)]``. The jitter spreads
    the retries of many sends that failed together (a network blip), so they do
    not hit Telegram again in the same instant; the cap keeps a member waiting
    seconds, not minutes. Pass ``rng`` (a seeded ``random.Random``) for
    repeatable values in tests.
    """
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    ceiling = cap if attempt >= 64 else min(cap, base * 2**attempt)
    return (rng or _RANDOM).uniform(0, ceiling)
