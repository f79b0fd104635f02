"""Redis stops and comes back while members chat: nobody notices but the log.

Each test starts its own redis-server (tests/reliability/redis_server.py) and
kills it; the machine's Redis is never touched. The stand-in's retry and
warning intervals run on a clock the test moves, so nothing sleeps.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.channels.telegram.adapter import TelegramChannel
from bot.delivery.liveness import Heartbeat
from bot.delivery.rates import ChannelLimit, RedisRates
from models.db import SessionFactory
from models.ephemeral import FallbackStore, RedisStore
from tests.bot.delivery.helpers import FakeTime
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.test_telegram import MEMBER_ID, make_channel
from tests.e2e.test_telegram import bind as bind_on_telegram
from tests.e2e.test_wechat import MEMBER, bind, running
from tests.factories import make_member
from tests.reliability.redis_server import FakeClock, ThrowawayRedis

UNREACHABLE = "Redis is unreachable"


def warnings_about(caplog: pytest.LogCaptureFixture, fragment: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and fragment in r.getMessage()]


async def reply_to(stub: TelegramStub, text: str, expect: str) -> dict[str, Any]:
    """Send ``text`` as the member; the update, once a message of the answer holds ``expect``.

    The count is taken before the update goes in, and the answer may come in several messages
    (the help is long): each is looked at as it arrives, up to five.
    """
    sent = len(stub.sent("sendMessage", chat_id=MEMBER_ID))
    update = stub.push_message(user_id=MEMBER_ID, text=text)
    for more in range(1, 6):
        answer = await stub.wait_for("sendMessage", count=sent + more, chat_id=MEMBER_ID)
        if any(expect in message["text"] for message in answer[sent:]):
            return update
    raise AssertionError(f"no answer to {text!r} holds {expect!r}")


def stand_in_store(server: ThrowawayRedis, clock: FakeClock) -> FallbackStore:
    return FallbackStore(RedisStore.from_url(server.url), clock=clock)


async def test_wechat_goes_on_while_redis_is_away_and_goes_back_to_it(
    db: SessionFactory, tmp_path: Path, redis_server: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    with db() as session:
        make_member(session)
    clock = FakeClock()
    shared = redis_server.client()
    async with running(db, stand_in_store(redis_server, clock), tmp_path / "media") as run:
        wx = run.client
        await bind(wx)

        redis_server.stop()
        me = await wx.send_text(MEMBER, "/me")
        assert "工号：1001" in (me.content or "")
        await wx.send_text(MEMBER, "/lang")
        first = await wx.send_text(MEMBER, "3", msg_id=55_000_000_001)
        assert "OK, I'll write to you in English" in (first.content or "")
        retried = await wx.replay()  # WeChat's retry, and the replay check, on the stand-in
        assert retried.content == first.content
        # Handled twice, the "3" would have opened the menu's third item (Unbind).
        assert "Nothing is in progress" in ((await wx.send_text(MEMBER, "取消")).content or "")
        assert len(warnings_about(caplog, UNREACHABLE)) == 1

        redis_server.start()
        clock.advance(5)
        back = await wx.send_text(MEMBER, "/me")
        assert "1001" in (back.content or "")
        # What the stand-in remembered went back to Redis: a retry reaching another process
        # after the outage is still answered from the record, not handled again.
        assert shared.get("unionbot:wx:seen:msg:55000000001") == "1"
        assert warnings_about(caplog, "Redis answers again")
    shared.close()
    assert "Traceback" not in caplog.text


async def test_wechat_never_sees_a_500_even_from_a_store_that_fails(
    db: SessionFactory, tmp_path: Path, redis_server: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """A store without a stand-in (as before): the member hears nothing, but WeChat gets no 500."""
    async with running(db, RedisStore.from_url(redis_server.url), tmp_path / "media") as run:
        redis_server.stop()
        answer = await run.client.send_text(MEMBER, "你好")
        assert (answer.status, answer.body) == (200, b"success")
    assert "incident wx-" in caplog.text


async def test_telegram_goes_on_and_still_answers_an_update_once_while_redis_is_away(
    db: SessionFactory, tmp_path: Path, redis_server: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    with db() as session:
        make_member(session)
    clock = FakeClock()
    stub = TelegramStub()
    await stub.start()
    channel: TelegramChannel = make_channel(db, stand_in_store(redis_server, clock), stub, tmp_path / "media")
    await channel.start()
    try:
        await bind_on_telegram(stub)
        redis_server.stop()
        update = await reply_to(stub, "/me", "工号：1001")
        await channel.feed(update)  # the same update again, as after a crash before the offset moved
        await reply_to(stub, "/help", "工会助手可以帮您办理这些事项")
        answers = [m for m in stub.sent("sendMessage", chat_id=MEMBER_ID) if "工号：1001" in m["text"]]
        assert len(answers) == 1
        assert len(warnings_about(caplog, UNREACHABLE)) == 1

        redis_server.start()
        clock.advance(5)
        later = await reply_to(stub, "/me", "工号：1001")
        shared = redis_server.client()
        assert shared.get(f"unionbot:tg:update:{update['update_id']}") == "1"  # handed back
        assert shared.get(f"unionbot:tg:update:{later['update_id']}") == "1"  # and Redis in use again
        shared.close()
    finally:
        await channel.stop()
        await channel.core.close()
        await stub.stop()


async def test_the_delivery_rates_keep_their_spacing_while_redis_is_away(
    redis_server: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTime()
    client = aioredis.Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    rates = RedisRates(
        client, {"telegram": ChannelLimit(10, chat_interval=1.0)}, clock=fake, sleep=fake.sleep
    )
    try:
        redis_server.stop()
        granted = []
        for chat in ("a", "b", "c", "a"):
            await rates.acquire("telegram", chat)
            granted.append(round(fake.now - 1000.0, 3))
        assert granted == [0.0, 0.1, 0.2, 1.0]  # the channel's rate and the chat's second, in memory
        assert len(warnings_about(caplog, UNREACHABLE)) == 1

        redis_server.start()
        fake.now += 5
        await rates.acquire("telegram", "d")
        shared = redis_server.client()
        assert shared.exists("unionbot:rate:telegram:next")  # slots are Redis's again
        shared.close()
        assert warnings_about(caplog, "Redis answers again")
    finally:
        await rates.close()


def test_while_redis_is_away_no_worker_is_taken_for_dead(redis_server: ThrowawayRedis) -> None:
    """Memory cannot tell whether a worker in another process beats: its pushes stay its own."""
    heartbeat = Heartbeat(stand_in_store(redis_server, FakeClock()), "this-worker", 20)
    assert not heartbeat.alive("another-worker")  # Redis up: no heartbeat there, so gone
    redis_server.stop()
    assert heartbeat.alive("another-worker")
