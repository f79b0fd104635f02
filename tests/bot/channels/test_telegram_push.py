"""Pushing to Telegram for the delivery worker, against the stand-in Bot API: each answer named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.channels.telegram.push import TelegramPusher, push_bot
from bot.channels.telegram.render import CallbackCodec
from bot.delivery.results import Job, Outcome, Target
from handlers.core.messages import Button, Reply
from handlers.core.pushes import Push
from models.ephemeral import MemoryStore
from models.outbox import PushKind
from tests.e2e.telegram_stub import TelegramStub

CHAT = 4242
TARGET = Target("telegram", str(CHAT), None)


def job(text: str = "通知：明天停水", *, edit: bool = False, previous: str | None = None) -> Job:
    return Job(
        row_id=1,
        key="notice:1:member:1",
        kind=PushKind.NOTICE,
        topic="notice",
        subject_id=1,
        push=Push(
            title="通知",
            reply=Reply(text, buttons=(Button("查看", "go:notice:1"), Button("回执", "ack:1"))),
            edit_in_place=edit,
        ),
        targets=(TARGET,),
        attempts=0,
        time=datetime(2026, 11, 23, tzinfo=UTC),
        previous_channel="telegram" if previous else None,
        previous_ref=previous,
    )


async def no_wait() -> None:
    return None


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    async with TelegramStub() as server:
        yield server


@pytest.fixture
async def pusher(stub: TelegramStub) -> AsyncIterator[tuple[TelegramPusher, list[int]]]:
    blocked: list[int] = []

    async def on_blocked(chat_id: int) -> None:
        blocked.append(chat_id)

    bot = push_bot(stub.url, stub.token, connections=4)
    telegram = TelegramPusher(bot, codec=CallbackCodec(MemoryStore()), on_blocked=on_blocked)
    await telegram.start()
    yield telegram, blocked
    await telegram.close()


async def test_a_push_goes_out_as_text_with_its_buttons(
    stub: TelegramStub, pusher: tuple[TelegramPusher, list[int]]
) -> None:
    telegram, _ = pusher
    result = await telegram.send(job(), TARGET, no_wait)
    assert result.outcome is Outcome.SENT
    [sent] = stub.sent("sendMessage", chat_id=CHAT)
    assert sent["text"] == "通知：明天停水"
    labels = [button["text"] for row in sent["reply_markup"]["inline_keyboard"] for button in row]
    assert labels == ["查看", "回执"]
    assert result.external_ref is not None


async def test_a_progress_message_is_edited_in_place(
    stub: TelegramStub, pusher: tuple[TelegramPusher, list[int]]
) -> None:
    telegram, _ = pusher
    first = await telegram.send(job("已送达 10 人", edit=True), TARGET, no_wait)
    again = await telegram.send(job("已送达 20 人", edit=True, previous=first.external_ref), TARGET, no_wait)
    assert (again.outcome, again.external_ref) == (Outcome.SENT, first.external_ref)
    assert len(stub.sent("sendMessage")) == 1
    [edit] = stub.sent("editMessageText")
    assert edit["text"] == "已送达 20 人"
    same = await telegram.send(job("已送达 20 人", edit=True, previous=first.external_ref), TARGET, no_wait)
    assert same.outcome is Outcome.SENT  # "message is not modified" is no failure


@pytest.mark.parametrize(
    ("status", "description", "outcome"),
    [
        (403, "Forbidden: bot was blocked by the user", Outcome.UNREACHABLE),
        (400, "Bad Request: chat not found", Outcome.UNREACHABLE),
        (400, "Bad Request: can't parse entities", Outcome.FAILED),
        (502, "Bad Gateway", Outcome.RETRY),
    ],
)
async def test_telegrams_refusals_are_named(
    stub: TelegramStub,
    pusher: tuple[TelegramPusher, list[int]],
    status: int,
    description: str,
    outcome: Outcome,
) -> None:
    telegram, blocked = pusher
    stub.fail_next("sendMessage", status=status, description=description)
    result = await telegram.send(job(), TARGET, no_wait)
    assert result.outcome is outcome
    assert blocked == ([CHAT] if status == 403 else [])


async def test_flood_control_asks_every_worker_to_wait(
    stub: TelegramStub, pusher: tuple[TelegramPusher, list[int]]
) -> None:
    telegram, _ = pusher
    stub.fail_next("sendMessage", status=429, retry_after=7)
    result = await telegram.send(job(), TARGET, no_wait)
    assert (result.outcome, result.retry_after, result.pause) == (Outcome.RETRY, 7.0, True)


async def test_nothing_went_out_when_the_server_cannot_be_reached() -> None:
    server = TelegramStub()
    await server.start()
    url = server.url
    await server.stop()  # the port is closed: the connection is refused before anything is sent

    async def on_blocked(chat_id: int) -> None:
        raise AssertionError("not blocked")

    telegram = TelegramPusher(
        push_bot(url, "123456:TEST-TOKEN", connections=2),
        codec=CallbackCodec(MemoryStore()),
        on_blocked=on_blocked,
    )
    result = await telegram.send(job(), TARGET, no_wait)
    assert result.outcome is Outcome.RETRY
