"""The WeChat pusher as the delivery worker sees it: WeChat's answers as channel-neutral outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.channels.wechat.api import CUSTOM_SEND_PATH, TEMPLATE_SEND_PATH, WeChatApi
from bot.channels.wechat.push import WeChatDeliveryPusher, WeChatPusher
from bot.delivery.results import Job, Outcome, Target
from bot.settings import PushKind, WeChatTemplate
from handlers.core.messages import Reply
from handlers.core.pushes import Push
from models.ephemeral import EphemeralStore, MemoryStore
from models.outbox import PushKind as OutboxKind
from tests.bot.channels.wechat.conftest import MEMBER
from tests.e2e.wechat_stub import WeChatStub

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TEMPLATES: dict[PushKind, WeChatTemplate] = {
    "notice": WeChatTemplate(id="TPL-notice", fields={"thing1": "title", "time2": "time"})
}


@pytest.fixture
def store() -> EphemeralStore:
    return MemoryStore()


@pytest.fixture
def pusher(api: WeChatApi) -> WeChatDeliveryPusher:
    unsubscribed: list[str] = []

    async def on_unsubscribed(openid: str) -> None:
        unsubscribed.append(openid)

    return WeChatDeliveryPusher(
        WeChatPusher(
            api, templates=TEMPLATES, on_unsubscribed=on_unsubscribed, zone=ZoneInfo("Asia/Shanghai")
        )
    )


def job(kind: OutboxKind = OutboxKind.NOTICE) -> Job:
    return Job(
        row_id=1,
        key=f"{kind.value}:1:member:1",
        kind=kind,
        topic=kind.value,
        subject_id=1,
        push=Push(title="停水通知", reply=Reply("停水通知\n明天停水"), body="明天停水"),
        targets=(),
        attempts=0,
        time=NOW,
    )


async def no_wait() -> None:
    return None


async def send(
    pusher: WeChatDeliveryPusher, *, seen: datetime | None, kind: OutboxKind = OutboxKind.NOTICE
) -> Outcome:
    with time_machine.travel(NOW, tick=False):
        result = await pusher.send(job(kind), Target("wechat", MEMBER, seen), no_wait)
    return result.outcome


async def test_a_member_seen_lately_gets_a_text_and_others_the_template(
    pusher: WeChatDeliveryPusher, stub: WeChatStub
) -> None:
    assert await send(pusher, seen=NOW - timedelta(hours=1)) is Outcome.SENT
    assert await send(pusher, seen=NOW - timedelta(days=3)) is Outcome.SENT
    assert len(stub.sent(CUSTOM_SEND_PATH)) == 1
    [template] = stub.sent(TEMPLATE_SEND_PATH)
    assert template.body["data"]["thing1"]["value"] == "停水通知"


async def test_no_template_or_an_unfollow_sends_the_push_elsewhere(
    pusher: WeChatDeliveryPusher, stub: WeChatStub
) -> None:
    assert await send(pusher, seen=None, kind=OutboxKind.REMINDER) is Outcome.UNREACHABLE
    stub.fail_next(TEMPLATE_SEND_PATH, 43004)
    assert await send(pusher, seen=None) is Outcome.UNREACHABLE


async def test_busy_wechat_means_later(pusher: WeChatDeliveryPusher, stub: WeChatStub) -> None:
    stub.fail_next(TEMPLATE_SEND_PATH, -1)
    assert await send(pusher, seen=None) is Outcome.RETRY
