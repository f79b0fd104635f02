"""The sender keeps few Bot API requests running at once."""

from __future__ import annotations

import asyncio
from typing import cast

from telegram import Bot as TelegramBot

from bot.channels.telegram.limits import SendLimiter
from bot.channels.telegram.render import CallbackCodec
from bot.channels.telegram.sender import TelegramSender
from models.ephemeral import MemoryStore


async def _nobody_blocked(chat_id: int) -> None:
    raise AssertionError("nobody blocked the bot")


async def test_at_most_max_in_flight_requests_run_at_once() -> None:
    sender = TelegramSender(
        cast(TelegramBot, None),
        limiter=SendLimiter(per_second=100_000, per_chat_interval=0),
        codec=CallbackCodec(MemoryStore()),
        on_blocked=_nobody_blocked,
        max_in_flight=2,
    )
    running = most = 0

    async def request() -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return 1

    results = await asyncio.gather(*(sender.call(chat, request) for chat in range(6)))
    assert results == [1] * 6
    assert most == 2
