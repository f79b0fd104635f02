"""The union the notices tests run in, and the cadre's ways of sending a notice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.roles import Role
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the union's zone, as the settings default


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Bot:
    config = CoreConfig(template_kinds=frozenset({"notice"}), template_daily_quota=1)
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


@pytest.fixture
def union(db: SessionFactory, clock: time_machine.Traveller) -> None:
    """一车间: a chair (the cadre), members reached three ways and one with no account; 二车间 beside it."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre, key="cadre")
        on_telegram = make_member(session, employee_no="1001", roles=[(Role.REPRESENTATIVE, "厂工会/一车间")])
        bind(session, on_telegram, key="member")
        recent = make_member(session, employee_no="1002", unit="厂工会/一车间/乙班")
        bind(session, recent, channel="wechat", key="wx-recent", last_seen_at=NOW - timedelta(hours=2))
        quiet = make_member(session, employee_no="1003", unit="厂工会/一车间/乙班")
        bind(session, quiet, channel="wechat", key="wx-quiet", last_seen_at=NOW - timedelta(days=5))
        make_member(session, employee_no="1004", unit="厂工会/一车间/丙班")
        other = make_member(session, employee_no="2001", unit="厂工会/二车间")
        bind(session, other, key="other")


def cadre_chat(bot: Bot) -> Chat:
    return Chat(bot, key="cadre")


def compose(chat: Chat, *, title: str = HOSTILE_TITLE, body: str = HOSTILE_BODY) -> None:
    chat.send("发通知", expect=["请选择发布的栏目", "1. 通知公告", "2. 厂务公开", "3. 会费使用公开"])
    chat.send("1", expect="请输入标题")
    chat.send(title, expect="请输入正文")
    chat.send(body, expect="图片或一个文件")
    chat.send("跳过", expect=["请选择发送对象", "全体会员（厂工会/一车间）", "指定单位", "按职务"])


def send_notices(db: SessionFactory, bot: Bot, titles: list[str], *, heading: str = "1") -> None:
    chat = cadre_chat(bot)
    for title in titles:
        chat.send("发通知")
        chat.send(heading)
        chat.send(title)
        chat.send(f"{title}的正文。")
        chat.send("跳过")
        chat.send("1")
        chat.send("1")
        chat.send("确认", expect="通知开始发给")
