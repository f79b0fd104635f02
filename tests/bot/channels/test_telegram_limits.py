"""The send limiter in fake time: global rate, per-chat spacing, pauses, fairness; and backoff."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from bot.channels.telegram.limits import SendLimiter, backoff

T = TypeVar("T")


class FakeTime:
    """Virtual time for one event loop: sleepers wake in deadline order, instantly.

    :meth:`run` lets every task run until all of them wait, then jumps the clock to
    the earliest sleeper's deadline and wakes it; so a test of minutes takes
    milliseconds, and times are exact.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(delay, 0.0), next(self._order), future))
        await future

    async def run(self, *awaitables: Awaitable[T]) -> list[T]:
        tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
        while True:
            await self._settle()
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
                heapq.heappop(self._sleepers)
            assert self._sleepers, "deadlock: tasks are waiting but nothing sleeps"
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)

    @staticmethod
    async def _settle() -> None:
        for _ in range(10):
            await asyncio.sleep(0)


def limiter_in(fake: FakeTime, *args: Any, **kwargs: Any) -> SendLimiter:
    return SendLimiter(*args, clock=fake.clock, sleep=fake.sleep, **kwargs)


Log = list[tuple[float, int | None]]


def recorder(
    fake: FakeTime, limiter: SendLimiter, log: Log
) -> Callable[[int | None], Coroutine[Any, Any, None]]:
    """A send that records (fake time, chat) when the limiter lets it through."""

    async def send(chat_id: int | None) -> None:
        await limiter.acquire(chat_id)
        log.append((fake.now, chat_id))

    return send


def most_in_any_window(times: list[float], span: float) -> int:
    times = sorted(times)
    return max(
        sum(1 for other in times[index:] if other < start + span - 1e-9) for index, start in enumerate(times)
    )


async def test_a_hundred_chats_at_thirty_a_second() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(*(send(chat) for chat in range(1, 101)))
    times = [when for when, _ in log]
    assert [chat for _, chat in log] == list(range(1, 101))  # arrival order
    # 30 at once, then 30 a second: the 100th goes at 3.0 s.
    assert times.count(0.0) == 30
    assert times[-1] == pytest.approx(3.0)
    assert most_in_any_window(times, 1.0) == 30


async def test_the_rate_holds_after_a_quiet_spell() -> None:
    """A bucket refilled continuously would pass 60 in the first second here."""
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)

    async def later(delay: float, chats: range) -> None:
        await fake.sleep(delay)
        await asyncio.gather(*(send(chat) for chat in chats))

    await fake.run(later(0.0, range(1, 31)), later(0.5, range(31, 61)), later(10.0, range(61, 131)))
    assert most_in_any_window([when for when, _ in log], 1.0) == 30
    assert [when for when, chat in log if chat == 60] == [pytest.approx(1.0)]


async def test_one_chat_gets_one_message_a_second() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(*(send(7) for _ in range(5)))
    assert [when for when, _ in log] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])


async def test_groups_are_spaced_for_twenty_a_minute() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(*(send(-1001234) for _ in range(3)))
    assert [when for when, _ in log] == pytest.approx([0.0, 3.0, 6.0])


async def test_a_chat_burst_allows_a_short_reply_in_several_parts() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0, per_chat_burst=3)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(*(send(7) for _ in range(7)))
    assert [when for when, _ in log] == pytest.approx([0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 6.0])


async def test_calls_outside_a_chat_only_count_globally() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(send(7), send(None), send(None), send(7))
    assert sorted(log, key=lambda entry: entry[0]) == [(0.0, 7), (0.0, None), (0.0, None), (1.0, 7)]


async def test_pause_holds_every_chat() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(send(1))
    limiter.pause(5)
    limiter.pause(2)  # a shorter pause does not shorten the longer one
    await fake.run(send(2), send(3), send(1), send(None))
    assert [when for when, _ in log] == [0.0, 5.0, 5.0, 5.0, 5.0]


async def test_pause_while_callers_wait() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 1, 1.0)  # one a second: callers queue up
    log: Log = []
    send = recorder(fake, limiter, log)

    async def flood_control() -> None:
        await fake.sleep(0.5)
        limiter.pause(timedelta(seconds=10))  # PTB_TIMEDELTA hands retry_after as a timedelta

    await fake.run(send(1), send(2), send(3), flood_control())
    assert log == [(0.0, 1), (10.5, 2), (11.5, 3)]


async def test_waiting_chats_are_served_in_arrival_order() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 2, 1.0)  # two a second
    log: Log = []
    send = recorder(fake, limiter, log)
    chats = [5, 3, 9, 1, 8, 2, 7]
    await fake.run(*(send(chat) for chat in chats))
    assert [chat for _, chat in log] == chats
    assert [when for when, _ in log] == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0]


async def test_a_busy_chat_does_not_hold_up_the_others() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    busy = [send(1) for _ in range(5)]  # arrive first
    others = [send(chat) for chat in range(2, 12)]
    await fake.run(*busy, *others)
    assert [when for when, chat in log if chat != 1] == [0.0] * 10
    assert [when for when, chat in log if chat == 1] == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_a_chat_whose_spacing_ends_goes_before_later_arrivals() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 2, 1.0)  # two a second
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(send(1), send(1), send(2), send(3), send(4))
    # At 0 s chat 1's second message steps aside for chat 2; at 1 s it is free
    # again and, having arrived before chats 3 and 4, goes first.
    assert log == [(0.0, 1), (0.0, 2), (1.0, 1), (1.0, 3), (2.0, 4)]


async def test_a_later_arrival_with_an_earlier_deadline_is_woken_in_time() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(send(-5), send(7))
    group_again = asyncio.ensure_future(send(-5))  # free at 3.0: a timer sleeps until then

    async def chat_again() -> None:
        await fake.sleep(0.5)
        await send(7)  # free at 1.0, before that timer

    await fake.run(chat_again(), group_again)
    assert log[2:] == [(1.0, 7), (3.0, -5)]


async def test_a_cancelled_caller_gives_up_its_turn() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 1, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    await fake.run(send(1))
    gone = asyncio.ensure_future(send(2))
    await asyncio.sleep(0)
    assert limiter.waiting == 1
    gone.cancel()
    await fake.run(send(3), send(2))
    assert gone.cancelled()
    assert log == [(0.0, 1), (1.0, 3), (2.0, 2)]
    assert limiter.waiting == 0


async def test_thousands_of_queued_sends_stay_cheap() -> None:
    fake = FakeTime()
    limiter = limiter_in(fake, 30, 1.0)
    log: Log = []
    send = recorder(fake, limiter, log)
    started = time.perf_counter()
    await fake.run(*(send(chat % 2500) for chat in range(3000)))
    assert time.perf_counter() - started < 5
    assert len(log) == 3000
    assert log[-1][0] == pytest.approx(99.0)  # 3000 / 30 a second, the first 30 at once


async def test_real_time_defaults() -> None:
    limiter = SendLimiter(per_second=1000, per_chat_interval=0.02)
    started = time.monotonic()
    await limiter.acquire(1)
    await limiter.acquire(2)
    assert time.monotonic() - started < 0.02
    await limiter.acquire(1)
    assert time.monotonic() - started >= 0.02


@pytest.mark.parametrize(
    "arguments",
    [
        {"per_second": 0},
        {"per_chat_interval": -1},
        {"group_interval": -1},
        {"burst": 0},
        {"per_chat_burst": 0},
    ],
)
def test_bad_settings_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|cannot"):
        SendLimiter(**arguments)  # type: ignore[arg-type]


# -- backoff ---------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap() -> None:
    rng = random.Random(42)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (10, 30.0), (10_000, 30.0)]:
        draws = [backoff(attempt, rng=rng) for _ in range(2000)]
        assert all(0 <= draw <= ceiling for draw in draws)
        assert max(draws) > 0.95 * ceiling  # full jitter: the whole range is used ...
        assert min(draws) < 0.05 * ceiling  # ... from near zero
        assert sum(draws) / len(draws) == pytest.approx(ceiling / 2, rel=0.1)


def test_backoff_is_repeatable_with_a_seeded_generator_and_checks_its_input() -> None:
    assert [backoff(n, rng=random.Random(1)) for n in range(5)] == [
        backoff(n, rng=random.Random(1)) for n in range(5)
    ]
    assert backoff(2, base=1, cap=3, rng=random.Random(1)) <= 3
    assert 0 <= backoff(0) <= 0.5
    with pytest.raises(ValueError, match="attempt"):
        backoff(-1)
