"""One chat's messages one at a time, and no lock kept for a chat that went quiet."""

from __future__ import annotations

import asyncio

from bot.channels.turns import Turns


async def test_a_chat_is_served_one_message_at_a_time_and_then_forgotten() -> None:
    turns = Turns()
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with turns.turn(1):
            order.append("first in")
            inside.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        async with turns.turn(1):
            order.append("second in")

    holder = asyncio.create_task(first())
    await inside.wait()
    waiter = asyncio.create_task(second())
    async with asyncio.timeout(5), turns.turn(2):  # another chat does not wait for chat 1
        order.append("other chat")
    for _ in range(3):
        await asyncio.sleep(0)
    assert "second in" not in order
    release.set()
    await asyncio.gather(holder, waiter)
    assert order == ["first in", "other chat", "first out", "second in"]
    assert len(turns) == 0
