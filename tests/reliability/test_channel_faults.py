"""The channels' APIs misbehave: retried with backoff, nobody gets two, the worker goes on, one log line each.

The real pushers (python-telegram-bot through PushRequest, the WeChat client)
talk to the stand-ins, which fail as told: 5xx answers, a proxy's HTML error
page, an answer that is not JSON, 429 storms with retry_after, an answer later
than the read timeout, WeChat's "system busy" and an XML page where JSON was
due. The worker's clock is the test's: after each round the test moves it past
the backoff, so retries come at once and their waits can be read off the rows.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import select

from bot.channels.telegram.push import TelegramPusher, push_bot
from bot.channels.telegram.render import CallbackCodec
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.push import WeChatDeliveryPusher, WeChatPusher
from bot.delivery.rates import ChannelLimit, MemoryRates
from bot.delivery.results import Pusher
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from handlers.core.i18n import Catalogues
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from models.outbox import Outbox, OutboxStatus
from tests.bot.delivery.helpers import TEST_REGISTRY, FakeTime, member_with, queue
from tests.e2e.wechat_stub import WeChatStub
from tests.reliability.harness import HoldingStub

pytestmark = pytest.mark.slow

APP_ID = "wx0123456789abcdef"
SECRET = "s"
CUSTOM_SEND = "/cgi-bin/message/custom/send"
MEMBERS = 5
FIRST_CHAT = 6_000_000
ROUNDS = 12


class GarblingTelegram(HoldingStub):
    """Telegram, or the proxy in front of it, answering the next calls with a body of its choosing."""

    def __init__(self) -> None:
        super().__init__()
        self._garbled: list[tuple[int, str, str]] = []  # (status, content type, body)

    def garble_next(self, status: int, body: str, *, content_type: str = "text/html", times: int = 1) -> None:
        self._garbled += [(status, content_type, body)] * times

    async def _handle_api(self, request: web.Request) -> web.Response:
        if self._garbled and request.match_info.get("method", "").lower() == "sendmessage":
            status, content_type, body = self._garbled.pop(0)
            self.garbled_answers += 1
            return web.Response(status=status, text=body, content_type=content_type)
        return await super()._handle_api(request)

    garbled_answers = 0


class GarblingWeChat(WeChatStub):
    """The WeChat API answering the next customer-service calls with a page of its choosing."""

    def __init__(self) -> None:
        super().__init__(app_id=APP_ID, secret=SECRET)
        self._garbled: list[tuple[int, str]] = []
        self.garbled_answers = 0

    def garble_next(self, status: int, body: str, *, times: int = 1) -> None:
        self._garbled += [(status, body)] * times

    async def _handle(self, request: web.Request) -> web.Response:
        if self._garbled and request.path == CUSTOM_SEND:
            status, body = self._garbled.pop(0)
            self.garbled_answers += 1
            return web.Response(status=status, text=body, content_type="text/xml")
        return await super()._handle(request)


@dataclass
class Clock:
    """The worker's clock: from now on (the rows are due now), moved by the test past each wait."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    waits: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def telegram() -> AsyncIterator[GarblingTelegram]:
    server = GarblingTelegram()
    await server.start()
    yield server
    server.release()
    await server.stop()


@pytest.fixture
async def wechat() -> AsyncIterator[GarblingWeChat]:
    async with GarblingWeChat() as server:
        yield server


async def deliver_all(
    db: SessionFactory, pushers: dict[str, Pusher], clock: Clock, *, read_timeout: float = 5.0
) -> list[Outbox]:
    """Run the worker round after round, the clock moved past each wait, until nothing waits."""
    fake = FakeTime()
    worker = DeliveryWorker(
        sessions=db,
        store=MemoryStore(),
        rates=MemoryRates(
            {"telegram": ChannelLimit(1000), "wechat": ChannelLimit(1000)}, clock=fake, sleep=fake.sleep
        ),
        pushers=pushers,
        catalogues=Catalogues(),
        config=WorkerConfig(in_flight=4),
        clock=clock,
        pushes=TEST_REGISTRY.pushes,
    )
    for _ in range(ROUNDS):
        await worker.run_once()
        with db() as session:
            waiting = session.exec(select(Outbox).where(Outbox.status == OutboxStatus.QUEUED)).all()
        if not waiting:
            break
        later = max(row.next_attempt_at for row in waiting)
        clock.waits.append((later - clock.now).total_seconds())
        clock.now = later + timedelta(seconds=1)
    with db() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)))  # type: ignore[arg-type]


async def telegram_pusher(stub: HoldingStub, *, read_timeout: float = 5.0) -> TelegramPusher:
    pusher = TelegramPusher(
        push_bot(stub.url, stub.token, connections=4, read_timeout=read_timeout),
        codec=CallbackCodec(MemoryStore()),
        on_blocked=_ignore,
    )
    await pusher.start()
    return pusher


async def _ignore(_: Any) -> None:
    return None


def seed(db: SessionFactory, *, channel: str) -> None:
    with db() as session:
        members = [
            member_with(session, f"F{n}", telegram=FIRST_CHAT + n)
            if channel == "telegram"
            else member_with(session, f"F{n}", wechat=f"openid-{n}", seen=datetime.now(UTC))
            for n in range(MEMBERS)
        ]
        queue(session, members)


def worker_lines(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.delivery.worker"
        and record.levelno == logging.WARNING
        and fragment in record.getMessage()
    ]


TelegramFault = Callable[[GarblingTelegram], None]
# name: (what goes wrong, how many requests fail, what becomes of them)
TELEGRAM_FAULTS: dict[str, tuple[TelegramFault, int, OutboxStatus]] = {
    "500s": (
        lambda stub: stub.fail_next("sendMessage", status=500, retry_after=None, times=3),
        3,
        OutboxStatus.SENT,
    ),
    "a 429 storm": (
        lambda stub: stub.fail_next("sendMessage", status=429, retry_after=7, times=6),
        6,
        OutboxStatus.SENT,
    ),
    # An answer nobody can read may come after Telegram took the message: uncertain, never sent twice.
    "a proxy's 502 page": (
        lambda stub: stub.garble_next(502, "<html><body>502 Bad Gateway</body></html>", times=2),
        2,
        OutboxStatus.UNCERTAIN,
    ),
    "an answer that is not JSON": (
        lambda stub: stub.garble_next(503, '{"ok": tru', content_type="application/json", times=2),
        2,
        OutboxStatus.UNCERTAIN,
    ),
}


@pytest.mark.parametrize("fault", list(TELEGRAM_FAULTS))
async def test_telegram_misbehaving_is_retried_with_backoff_and_nobody_gets_two(
    db: SessionFactory, telegram: GarblingTelegram, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.WARNING)
    seed(db, channel="telegram")
    make_fault, failures, becomes = TELEGRAM_FAULTS[fault]
    make_fault(telegram)
    pusher = await telegram_pusher(telegram)
    clock = Clock()
    try:
        rows = await deliver_all(db, {"telegram": pusher}, clock)
    finally:
        await pusher.close()
    statuses = [row.status for row in rows]
    received = telegram.per_chat()
    assert set(received.values()) == {1}, "a member got the push twice"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    # python-telegram-bot logs its own error for an answer it cannot parse; nothing of ours does.
    assert all(r.name.startswith("telegram.") and "invalid JSON" in r.getMessage() for r in errors), errors
    if becomes is OutboxStatus.UNCERTAIN:
        assert statuses.count(OutboxStatus.UNCERTAIN) == failures
        assert statuses.count(OutboxStatus.SENT) == len(received) == MEMBERS - failures
        lines = worker_lines(caplog, "uncertain, not sent again")
        assert len(lines) == failures, lines
        return
    assert statuses == [OutboxStatus.SENT] * MEMBERS
    assert sorted(received) == [FIRST_CHAT + n for n in range(MEMBERS)]
    # One line per failed request, naming the push and when it is tried again.
    lines = worker_lines(caplog, "not sent (")
    assert len(lines) == failures, lines
    assert all("push test:1:" in line and " on telegram " in line for line in lines)
    if fault == "a 429 storm":
        assert all(wait >= 7 for wait in clock.waits), clock.waits  # as long as Telegram asked
    else:
        assert all(wait >= 7.5 for wait in clock.waits), clock.waits  # backoff from 15 s, jittered


async def test_a_telegram_answer_later_than_the_read_timeout_is_uncertain_not_sent_twice(
    db: SessionFactory, telegram: GarblingTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    seed(db, channel="telegram")
    telegram.answer_late("sendMessage", chat_id=FIRST_CHAT + 2, seconds=30)
    pusher = await telegram_pusher(telegram, read_timeout=0.5)
    try:
        rows = await deliver_all(db, {"telegram": pusher}, Clock())
    finally:
        await pusher.close()
    assert [row.status for row in rows].count(OutboxStatus.UNCERTAIN) == 1
    assert [row.status for row in rows].count(OutboxStatus.SENT) == MEMBERS - 1
    assert set(telegram.per_chat().values()) == {1}  # it did arrive, once: not sent again
    [line] = worker_lines(caplog, "uncertain")
    assert " on telegram " in line


async def test_wechat_busy_is_retried_and_a_malformed_xml_answer_is_uncertain_not_resent(
    db: SessionFactory, wechat: GarblingWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    seed(db, channel="wechat")
    wechat.fail_next(CUSTOM_SEND, -1, "system error", times=3)  # "system busy": nothing was sent
    wechat.garble_next(200, "<xml><errcode>0</errcode><errmsg>ok", times=1)  # an answer nobody can read
    store = MemoryStore()
    api = WeChatApi(app_id=APP_ID, secret=SECRET, store=store, api_url=wechat.url)
    pusher = WeChatDeliveryPusher(WeChatPusher(api, templates={}, on_unsubscribed=_ignore, zone=UTC))
    try:
        rows = await deliver_all(db, {"wechat": pusher}, Clock())
    finally:
        await api.aclose()
    statuses = [row.status for row in rows]
    assert statuses.count(OutboxStatus.SENT) == MEMBERS - 1
    assert statuses.count(OutboxStatus.UNCERTAIN) == 1  # may have arrived: not sent again
    sent_to = [call.body["touser"] for call in wechat.sent(CUSTOM_SEND)]
    assert len(sent_to) == len(set(sent_to)) == MEMBERS - 1
    assert len(worker_lines(caplog, "not sent (")) == 3
    assert len(worker_lines(caplog, "uncertain")) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
