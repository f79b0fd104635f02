"""The push policy against the stand-in server: the 48-hour window, templates, unsubscribed members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot.channels.wechat.api import CUSTOM_SEND_PATH, MEDIA_UPLOAD_PATH, TEMPLATE_SEND_PATH, WeChatApi
from bot.channels.wechat.push import (
    PushOutcome,
    WeChatPusher,
    client_msg_id,
    deactivate_unsubscribed,
    fit_field,
    template_data,
)
from bot.settings import PushKind, WeChatTemplate
from models.accounts import ChatAccount, touch_account
from models.db import SessionFactory
from models.ephemeral import EphemeralStore, MemoryStore
from tests.bot.channels.wechat.conftest import MEMBER
from tests.e2e.wechat_stub import WeChatStub
from tests.factories import HOSTILE_NAME

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE = WeChatTemplate(
    id="TPL-notice", fields={"thing1": "title", "thing2": "body", "time3": "time", "thing4": "unit"}
)
TEMPLATES: dict[PushKind, WeChatTemplate] = {"notice": NOTICE}
LONG_TITLE = "关于二〇二七年度职工疗休养报名及费用标准调整的通知"  # 25 characters
BODY = "各位会员：\n今年疗休养分三批进行，\t请于 12 月 5 日前报名。<b>&amp;"


@pytest.fixture
def store() -> EphemeralStore:
    """The token store does not matter to the policy: memory only."""
    return MemoryStore()


@pytest.fixture
def pusher(api: WeChatApi, db: SessionFactory) -> WeChatPusher:
    with db() as session:
        touch_account(session, channel="wechat", external_id=MEMBER, now=NOW)
    return WeChatPusher(
        api,
        templates=TEMPLATES,
        on_unsubscribed=deactivate_unsubscribed(db),
        zone=SHANGHAI,
    )


def account_active(db: SessionFactory) -> bool:
    with db() as session:
        return session.exec(select(ChatAccount).where(ChatAccount.external_id == MEMBER)).one().active


async def push(
    pusher: WeChatPusher,
    *,
    last_seen_at: datetime | None,
    kind: PushKind = "notice",
    key: str = "outbox:notice:17:member:42",
    unit: str | None = "厂工会/一车间",
) -> PushOutcome:
    result = await pusher.push(
        openid=MEMBER,
        last_seen_at=last_seen_at,
        kind=kind,
        title=LONG_TITLE,
        body=BODY,
        time=NOW,
        key=key,
        unit=unit,
        url="https://union.example/notices/17",
    )
    return result.outcome


async def test_within_48_hours_a_customer_service_text(pusher: WeChatPusher, stub: WeChatStub) -> None:
    with time_machine.travel(NOW + timedelta(hours=47, minutes=59), tick=False):
        assert await push(pusher, last_seen_at=NOW) is PushOutcome.SENT_CUSTOMER_SERVICE
    [call] = stub.sent(CUSTOM_SEND_PATH)
    assert call.body["text"]["content"] == "\n".join(
        [LONG_TITLE, BODY, "厂工会/一车间", "https://union.example/notices/17"]
    )
    assert stub.count(TEMPLATE_SEND_PATH) == 0


@pytest.mark.parametrize("last_seen", [NOW - timedelta(hours=48), None])
async def test_outside_the_window_the_kinds_template(
    pusher: WeChatPusher, stub: WeChatStub, last_seen: datetime | None
) -> None:
    with time_machine.travel(NOW, tick=False):
        result = await pusher.push(
            openid=MEMBER,
            last_seen_at=last_seen,
            kind="notice",
            title=LONG_TITLE,
            body=BODY,
            time=NOW,
            key="outbox:notice:17:member:42",
            unit=HOSTILE_NAME,
            url="https://union.example/notices/17",
        )
    assert result.outcome is PushOutcome.SENT_TEMPLATE
    assert result.outcome.delivered
    [call] = stub.sent(TEMPLATE_SEND_PATH)
    assert result.msgid == call.answer["msgid"]
    assert stub.count(CUSTOM_SEND_PATH) == 0
    assert call.body == {
        "touser": MEMBER,
        "template_id": "TPL-notice",
        "data": {
            "thing1": {"value": "关于二〇二七年度职工疗休养报名及费用标…"},
            "thing2": {"value": "各位会员： 今年疗休养分三批进行， 请…"},
            "time3": {"value": "2026-11-23 09:00"},
            "thing4": {"value": HOSTILE_NAME},
        },
        "client_msg_id": client_msg_id("outbox:notice:17:member:42"),
        "url": "https://union.example/notices/17",
    }
    assert all(len(field["value"]) <= 20 for field in call.body["data"].values())


async def test_window_closed_at_wechat_falls_back_to_the_template(
    pusher: WeChatPusher, stub: WeChatStub
) -> None:
    stub.fail_next(CUSTOM_SEND_PATH, 45015)
    with time_machine.travel(NOW, tick=False):
        assert await push(pusher, last_seen_at=NOW - timedelta(hours=1)) is PushOutcome.SENT_TEMPLATE
    assert [call.errcode for call in stub.calls if call.path == CUSTOM_SEND_PATH] == [45015]
    assert len(stub.sent(TEMPLATE_SEND_PATH)) == 1


@pytest.mark.parametrize(("path", "last_seen"), [(CUSTOM_SEND_PATH, NOW), (TEMPLATE_SEND_PATH, None)])
async def test_unsubscribed_member_is_marked_inactive(
    pusher: WeChatPusher, stub: WeChatStub, db: SessionFactory, path: str, last_seen: datetime | None
) -> None:
    stub.fail_next(path, 43004)
    with time_machine.travel(NOW, tick=False):
        result = await pusher.push(
            openid=MEMBER,
            last_seen_at=last_seen,
            kind="notice",
            title="通知",
            body="正文",
            time=NOW,
            key="k",
        )
    assert result.outcome is PushOutcome.UNSUBSCRIBED
    assert result.errcode == 43004
    assert not account_active(db)
    assert stub.count(TEMPLATE_SEND_PATH if path == CUSTOM_SEND_PATH else CUSTOM_SEND_PATH) == 0


@pytest.mark.parametrize("fail_first", [False, True])
async def test_no_template_for_the_kind_is_an_outcome(
    pusher: WeChatPusher, stub: WeChatStub, fail_first: bool
) -> None:
    if fail_first:
        stub.fail_next(CUSTOM_SEND_PATH, 45015)
    last_seen = NOW if fail_first else NOW - timedelta(days=3)
    with time_machine.travel(NOW, tick=False):
        assert await push(pusher, last_seen_at=last_seen, kind="digest") is PushOutcome.NO_TEMPLATE
    assert stub.count(TEMPLATE_SEND_PATH) == 0


@pytest.mark.parametrize(
    ("path", "errcode", "outcome"),
    [
        (CUSTOM_SEND_PATH, -1, PushOutcome.RETRY_LATER),
        (TEMPLATE_SEND_PATH, 45009, PushOutcome.RETRY_LATER),
        (CUSTOM_SEND_PATH, 40003, PushOutcome.FAILED),
        (TEMPLATE_SEND_PATH, 40037, PushOutcome.FAILED),  # invalid template_id
    ],
)
async def test_failures_say_retry_or_give_up(
    pusher: WeChatPusher, stub: WeChatStub, db: SessionFactory, path: str, errcode: int, outcome: PushOutcome
) -> None:
    stub.fail_next(path, errcode)
    last_seen = NOW if path == CUSTOM_SEND_PATH else None
    with time_machine.travel(NOW, tick=False):
        result = await pusher.push(
            openid=MEMBER, last_seen_at=last_seen, kind="notice", title="通知", body="正文", time=NOW, key="k"
        )
    assert (result.outcome, result.errcode) == (outcome, errcode)
    assert not result.outcome.delivered
    assert account_active(db)
    assert stub.count(TEMPLATE_SEND_PATH if path == CUSTOM_SEND_PATH else CUSTOM_SEND_PATH) == 0


async def test_a_retried_push_reuses_its_client_msg_id(pusher: WeChatPusher, stub: WeChatStub) -> None:
    for key in ("outbox:1", "outbox:1", "outbox:2"):
        await push(pusher, last_seen_at=None, key=key)
    ids = [call.body["client_msg_id"] for call in stub.sent(TEMPLATE_SEND_PATH)]
    assert ids[0] == ids[1] != ids[2]
    assert all(len(value) == 32 and value.isalnum() for value in ids)
    assert "outbox" not in ids[0]


# -- fitting the template's fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("thing1", "一二三四五六七八九十一二三四五六七八九十", "一二三四五六七八九十一二三四五六七八九十"),
        ("thing1", "一二三四五六七八九十一二三四五六七八九十一", "一二三四五六七八九十一二三四五六七八九…"),
        ("thing12", "Annual leave notice for the workshop", "Annual leave notice…"),
        ("phrase3", "报名进行中请尽快", "报名进行中"),
        ("character_string2", "A" * 40, "A" * 29 + "..."),
        ("name4", "欧阳诸葛司马上官慕容端木", "欧阳诸葛司马上官慕容"),
        ("name4", "Alexandra Konstantinopoulou", "Alexandra Konstantin"),
        ("number5", "1234567890" * 4, "1234567890" * 3 + "12"),
        ("thing1", "第一行\n第二行\r\n\t第三行", "第一行 第二行 第三行"),
        ("thing1", "   ", "-"),
        ("keyword1", "旧式模板不限" * 10, "旧式模板不限" * 10),
    ],
)
def test_field_values_fit_wechats_limits(name: str, value: str, expected: str) -> None:
    assert fit_field(name, value) == expected


def test_template_fields_follow_the_configured_mapping() -> None:
    template = WeChatTemplate(id="T", fields={"phrase1": "title", "character_string2": "unit"})
    assert template_data(template, {"title": "会费提醒", "body": "x", "unit": ""}) == {
        "phrase1": "会费提醒",
        "character_string2": "-",
    }


async def test_within_the_window_an_image_follows_its_text(pusher: WeChatPusher, stub: WeChatStub) -> None:
    chart = Path(__file__).parents[3] / "e2e" / "attachments" / "chart.png"
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        result = await pusher.push(
            openid=MEMBER,
            last_seen_at=NOW,
            kind="digest",
            title="2026年11月单位排名",
            body="排第 1 名",
            time=NOW,
            key="digest:2026-11:member:42",
            image=chart,
        )
    assert result.outcome is PushOutcome.SENT_CUSTOMER_SERVICE
    text, image = stub.sent(CUSTOM_SEND_PATH)
    assert text.body["msgtype"] == "text"
    assert image.body["msgtype"] == "image"
    assert stub.uploads[image.body["image"]["media_id"]] == chart.read_bytes()


async def test_outside_the_window_the_template_carries_the_text_alone(
    pusher: WeChatPusher, stub: WeChatStub
) -> None:
    chart = Path(__file__).parents[3] / "e2e" / "attachments" / "chart.png"
    with time_machine.travel(NOW, tick=False):
        result = await pusher.push(
            openid=MEMBER,
            last_seen_at=None,
            kind="notice",
            title="2026年11月单位排名",
            body="排第 1 名",
            time=NOW,
            key="digest:2026-11:member:42",
            image=chart,
        )
    assert result.outcome is PushOutcome.SENT_TEMPLATE
    assert stub.count(MEDIA_UPLOAD_PATH) == 0
    assert stub.count(CUSTOM_SEND_PATH) == 0
