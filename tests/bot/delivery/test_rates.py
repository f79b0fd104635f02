"""The channels' limits, in this process and shared through Redis."""

from __future__ import annotations

import itertools
import os
import uuid

import pytest
import redis.asyncio as aioredis

from bot.delivery.rates import ChannelLimit, MemoryRates, RedisRates
from tests.bot.delivery.helpers import FakeTime

LIMITS = {"telegram": ChannelLimit(10, chat_interval=1.0), "wechat": ChannelLimit(5)}


async def _times(
    rates: MemoryRates, fake: FakeTime, chats: list[str], channel: str = "telegram"
) -> list[float]:
    granted: list[float] = []
    for chat in chats:
        await rates.acquire(channel, chat)
        granted.append(round(fake.now - 1000.0, 3))
    return granted


async def test_requests_are_spaced_by_the_channel_rate() -> None:
    fake = FakeTime()
    rates = MemoryRates(LIMITS, clock=fake, sleep=fake.sleep)
    assert await _times(rates, fake, [f"c{n}" for n in range(5)]) == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_one_chat_waits_its_interval_without_holding_up_the_others() -> None:
    fake = FakeTime()
    rates = MemoryRates(LIMITS, clock=fake, sleep=fake.sleep)
    assert await _times(rates, fake, ["a", "a", "b"]) == [0.0, 1.0, 1.1]
    # Its wait took no channel slot: "b" went one interval after the second "a", not later.


async def test_a_429_pauses_the_channel_and_not_the_others() -> None:
    fake = FakeTime()
    rates = MemoryRates(LIMITS, clock=fake, sleep=fake.sleep)
    await rates.acquire("telegram", "a")
    await rates.pause("telegram", 30)
    await rates.acquire("wechat", "x")
    assert fake.now == 1000.0
    await rates.acquire("telegram", "b")
    assert fake.now >= 1030.0


async def test_waiters_asking_at_once_get_consecutive_slots() -> None:
    fake = FakeTime()
    rates = MemoryRates({"wechat": ChannelLimit(5)}, clock=fake, sleep=fake.sleep)
    delays = [await rates._reserve("wechat", str(n)) for n in range(11)]
    # Slots 0.2 s apart: no second ever holds more than five.
    assert delays == pytest.approx([n * 0.2 for n in range(11)])


REDIS_URL = os.environ.get("UNIONBOT_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="needs UNIONBOT_TEST_REDIS_URL")
async def test_two_processes_sharing_redis_get_interleaved_slots() -> None:
    assert REDIS_URL
    prefix = f"unionbot-test:{uuid.uuid4().hex}:"
    first = RedisRates(
        aioredis.Redis.from_url(REDIS_URL), {"telegram": ChannelLimit(100, 1.0)}, prefix=prefix
    )
    second = RedisRates(
        aioredis.Redis.from_url(REDIS_URL), {"telegram": ChannelLimit(100, 1.0)}, prefix=prefix
    )
    try:
        delays = []
        for n in range(10):
            rates = first if n % 2 else second
            delays.append(await rates._reserve("telegram", f"chat{n}"))
        # One slot every 10 ms whichever process asks: ten reservations reach about 90 ms ahead.
        assert delays[-1] == pytest.approx(0.09, abs=0.02)
        assert all(later > earlier for earlier, later in itertools.pairwise(delays))
        assert await first._reserve("telegram", "chat1") < 0  # that chat must wait its second
        await second.pause("telegram", 5)
        assert await first._reserve("telegram", "chat99") > 4
    finally:
        await first.close()
        await second.close()


async def test_a_slot_woken_up_to_late_is_taken_again_without_the_chats_wait() -> None:
    fake = FakeTime()
    overslept = False

    async def late_sleep(seconds: float) -> None:
        nonlocal overslept
        await fake.sleep(seconds + (0.0 if overslept else 0.5))  # the process was busy once
        overslept = True

    rates = MemoryRates(LIMITS, clock=fake, sleep=late_sleep)
    await rates.acquire("telegram", "a")  # slot at 0.0
    await rates.acquire("telegram", "b")  # slot at 0.1, woken at 0.6: given up, a new one at once
    assert fake.now == pytest.approx(1000.6)
    await rates.acquire("telegram", "b")  # the chat's second counts from the slot it used
    assert fake.now == pytest.approx(1001.6)
