"""Each channel's speed limits, kept by every worker together.

Telegram allows a bot about 30 messages a second and about one a second to
one chat, and answers 429 with a wait that holds for the whole bot; WeChat has
its own quotas. N workers that each counted for themselves would send N times
the limit (python-telegram-bot's AIORateLimiter does, docs/LIBRARIES.md), so the
count lives in Redis when it is configured: one Lua script reserves a time
slot for each request atomically, and every process sleeps until its slot.

The rule is GCRA without burst, i.e. requests of one channel are spaced at
least ``1 / per_second`` apart and never more than ``per_second`` fall into
any second; a chat's requests at least ``chat_interval`` apart. A chat still
within its spacing is told how long to wait *without* taking a channel slot,
so one busy chat never holds back the others. A 429 pauses the channel for
every worker. While Redis cannot be reached, :class:`RedisRates` keeps the rule
in this process (each worker then counts for itself) and goes back to Redis
when it answers again.

:class:`MemoryRates` keeps the same rule in this process only, for the
embedded default (one worker). Its clock and sleep are injectable, so tests
run in fake time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from models.ephemeral import Outage, StoreUnreachable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PRUNE_AT_LEAST = 4096


@dataclass(frozen=True)
class ChannelLimit:
    """At most ``per_second`` requests a second to the channel, ``chat_interval`` seconds apart per chat."""

    per_second: float
    chat_interval: float = 0.0

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.chat_interval < 0:
            raise ValueError("per_second must be positive and chat_interval not negative")


# A slot woken up to later than this is given up and a new one taken (see _Base.acquire).
LATE = 0.02


class Stopped(Exception):
    """``stop`` was set while a caller waited long for its turn (a 429's pause): it did not get one."""


# Waits shorter than this are slept through even when a stop comes: racing every
# millisecond-long wait against the stop costs more CPU than the wait itself.
_STOPPABLE_AFTER = 0.25


class Rates(Protocol):
    """What the worker asks before each request, and tells after a 429."""

    async def acquire(self, channel: str, chat: str, stop: asyncio.Event | None = None) -> None:
        """Return when one more request to ``chat`` on ``channel`` is within the limits.

        Raises:
            Stopped: ``stop`` was set during a long wait.
        """

    async def pause(self, channel: str, seconds: float) -> None:
        """Hold every request to ``channel`` for ``seconds`` from now."""

    async def close(self) -> None: ...


class _Base(ABC):
    """The waiting loop both backends share: reserve, sleep, re-check a pause heard meanwhile."""

    def __init__(self, limits: Mapping[str, ChannelLimit], *, clock: Clock, sleep: Sleep) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._sleep = sleep
        # A 429 this process heard: seen at once by its own waiters, by others at their next reservation.
        self._paused_until: dict[str, float] = {}

    def _limit(self, channel: str) -> ChannelLimit:
        try:
            return self.limits[channel]
        except KeyError:
            raise LookupError(f"no rate limit configured for channel {channel!r}") from None

    @abstractmethod
    async def _reserve(self, channel: str, chat: str, *, again: bool = False) -> float:
        """Seconds until our slot (≥ 0), or minus the seconds until the chat may be asked again.

        ``again``: the caller gives up a slot it woke up to late and asks for a new one;
        the chat's spacing counts from the new slot, not against it.
        """

    async def acquire(self, channel: str, chat: str, stop: asyncio.Event | None = None) -> None:
        again = False
        while True:
            paused = self._paused_until.get(channel, -math.inf) - self._clock()
            if paused > 0:
                await self._wait(paused, stop)
                continue
            asked = self._clock()
            delay = await self._reserve(channel, chat, again=again)
            if delay < 0:
                await self._wait(-delay, stop)
                continue
            if delay > 0:
                await self._wait(delay, stop)
            now = self._clock()
            if self._paused_until.get(channel, -math.inf) > now:
                continue  # a 429 arrived while we slept: our slot fell into the pause
            if now - (asked + delay) > LATE:
                # We woke long after our slot (the process was busy): going now would bunch
                # with the requests of the slots after it, a burst the channel may refuse.
                again = True
                continue
            return

    async def _wait(self, seconds: float, stop: asyncio.Event | None) -> None:
        if stop is None or seconds < _STOPPABLE_AFTER:
            await self._sleep(seconds)
            return
        if stop.is_set():
            raise Stopped
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        if stop.is_set():
            raise Stopped

    def _pause_locally(self, channel: str, seconds: float) -> None:
        until = self._clock() + seconds
        self._paused_until[channel] = max(self._paused_until.get(channel, -math.inf), until)


class MemoryRates(_Base):
    """The limits in this process only: right for one worker (the embedded default)."""

    def __init__(
        self,
        limits: Mapping[str, ChannelLimit],
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(limits, clock=clock, sleep=sleep)
        self._next_slot: dict[str, float] = {}
        self._chat_free: dict[tuple[str, str], float] = {}
        self._prune_at = _PRUNE_AT_LEAST

    async def _reserve(self, channel: str, chat: str, *, again: bool = False) -> float:
        limit = self._limit(channel)
        now = self._clock()
        chat_free = self._chat_free.get((channel, chat), -math.inf)
        if chat_free > now and not again:
            return -(chat_free - now)
        slot = max(now, self._next_slot.get(channel, -math.inf))
        self._next_slot[channel] = slot + 1 / limit.per_second
        if limit.chat_interval > 0:
            self._chat_free[(channel, chat)] = slot + limit.chat_interval
            if len(self._chat_free) > self._prune_at:
                self._chat_free = {key: free for key, free in self._chat_free.items() if free > now}
                self._prune_at = max(_PRUNE_AT_LEAST, 2 * len(self._chat_free))
        return slot - now

    async def pause(self, channel: str, seconds: float) -> None:
        if seconds > 0:
            self._pause_locally(channel, seconds)
            now = self._clock()
            self._next_slot[channel] = max(self._next_slot.get(channel, -math.inf), now + seconds)

    async def close(self) -> None:
        return None


# KEYS: the channel's next slot, the chat's next free time, the channel's pause.
# ARGV: microseconds between two requests of the channel, and of the chat; 1 when the caller
# gives up a slot it woke up to late (the chat's spacing then counts from the new slot).
# Times are Redis's own clock (TIME), so processes on hosts whose clocks differ still agree.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local chat_interval = tonumber(ARGV[2])
if chat_interval > 0 and ARGV[3] ~= '1' then
  local free = tonumber(redis.call('GET', KEYS[2]) or '0')
  if free > now then
    return -(free - now)
  end
end
local slot = now
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > slot then slot = nxt end
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > slot then slot = paused end
local function keep(key, value)
  redis.call('SET', key, string.format('%d', value), 'PX', math.floor((value - now) / 1000) + 1000)
end
keep(KEYS[1], slot + interval)
if chat_interval > 0 then
  keep(KEYS[2], slot + chat_interval)
end
return slot - now
"""

# KEYS: the channel's pause. ARGV: its length in microseconds. A shorter pause never shortens a longer one.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused < untl then
  redis.call('SET', KEYS[1], string.format('%d', untl), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""


class RedisRates(_Base):
    """The limits shared by every process that uses the same Redis (and key prefix)."""

    def __init__(
        self,
        client: aioredis.Redis,
        limits: Mapping[str, ChannelLimit],
        *,
        prefix: str = "unionbot:",
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(limits, clock=clock, sleep=sleep)
        self._client = client
        self._prefix = prefix + "rate:"
        self._reserve_script: Any = client.register_script(_RESERVE)
        self._pause_script: Any = client.register_script(_PAUSE)
        # While Redis is away: the same rule in this process, so sending goes on.
        self._standin = MemoryRates(limits, clock=clock, sleep=sleep)
        self._outage = Outage("the delivery rates", clock=clock)

    @classmethod
    def from_url(
        cls, url: str, limits: Mapping[str, ChannelLimit], *, prefix: str = "unionbot:"
    ) -> RedisRates:
        client = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=1.0,
            socket_timeout=1.0,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 1),
        )
        return cls(client, limits, prefix=prefix)

    def _on_redis(self) -> bool:
        """Whether to ask Redis: yes while it answers, and now and then while it is away."""
        return not self._outage.down or self._outage.due()

    async def _reserve(self, channel: str, chat: str, *, again: bool = False) -> float:
        if not self._on_redis():
            return await self._standin._reserve(channel, chat, again=again)
        try:
            delay = await self._reserve_shared(channel, chat, again=again)
        except StoreUnreachable as error:
            self._outage.failed(error)
            return await self._standin._reserve(channel, chat, again=again)
        if self._outage.down:
            self._outage.recovered()
        return delay

    async def _reserve_shared(self, channel: str, chat: str, *, again: bool) -> float:
        limit = self._limit(channel)
        keys = [
            f"{self._prefix}{channel}:next",
            f"{self._prefix}{channel}:chat:{chat}",
            f"{self._prefix}{channel}:pause",
        ]
        interval = max(1, round(1_000_000 / limit.per_second))
        chat_interval = round(limit.chat_interval * 1_000_000)
        micros = await self._reserve_script(keys=keys, args=[interval, chat_interval, 1 if again else 0])
        return int(micros) / 1_000_000

    async def pause(self, channel: str, seconds: float) -> None:
        if seconds > 0:
            self._pause_locally(channel, seconds)
            await self._standin.pause(channel, seconds)
            if not self._on_redis():
                return
            try:
                await self._pause_script(
                    keys=[f"{self._prefix}{channel}:pause"], args=[round(seconds * 1_000_000)]
                )
            except StoreUnreachable as error:
                self._outage.failed(error)

    async def close(self) -> None:
        await self._client.aclose()
