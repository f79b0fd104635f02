"""An activity's whole path, its pushes delivered by the real worker to the stand-in Telegram server.

Announced to the members who may sign up → two sign up answering the question,
a third joins the waitlist → one cancels and the third is moved in and told →
the day-before reminder goes to those still signed up → on the day they check
in with the day's code → 活动统计 counts them. Each member gets each push once.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.delivery.runner import run_worker
from bot.settings import load_settings
from handlers.activities.reminders import queue_activity_reminders
from handlers.core.messages import Incoming, Reply
from handlers.core.module import JobContext
from handlers.core.router import Bot
from models.accounts import ChatAccount
from models.base import utcnow
from models.members import Member
from models.roles import Role, grant_role
from models.units import UnitTree
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.test_delivery import settled

pytestmark = pytest.mark.slow

CHAIR_CHAT, FIRST_CHAT = 7_000_000, 7_000_001


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    server = TelegramStub()
    await server.start()
    yield server
    await server.stop()


def _seed(app: App) -> None:
    with app.sessions() as session:
        tree = UnitTree(session)
        workshop = tree.ensure("厂工会/一车间")
        assert workshop.id is not None
        chair = Member(employee_no="C1", name="王主席", unit_id=workshop.id)
        session.add(chair)
        session.flush()
        grant_role(session, member=chair, role=Role.CHAIR, unit=workshop)
        session.add(ChatAccount(channel="telegram", external_id=str(CHAIR_CHAT), member_id=chair.id))
        for n in range(3):
            member = Member(employee_no=f"100{n}", name=f"会员{n}", unit_id=workshop.id)
            session.add(member)
            session.flush()
            session.add(ChatAccount(channel="telegram", external_id=str(FIRST_CHAT + n), member_id=member.id))
        session.commit()


def _talk(app: App, clock: Callable[[], datetime]) -> Callable[[int, str], str]:
    bot = Bot(
        sessions=app.sessions,
        store=app.store,
        catalogues=app.catalogues,
        config=app.core_config,
        registry=app.registry,
        clock=clock,
    )

    def say(chat: int, text: str) -> str:
        replies: list[Reply] = bot.handle(Incoming("telegram", str(chat), text=text))
        return "\n".join(reply.text for reply in replies)

    return say


async def _deliver(app: App) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(app, stop))
    try:
        await settled(app)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=15)


def _texts(stub: TelegramStub, chat: int) -> list[str]:
    return [str(params["text"]) for params in stub.sent("sendMessage", chat_id=chat)]


async def test_announce_sign_up_waitlist_promotion_reminder_check_in_and_figures(
    stub: TelegramStub, tmp_path: Path
) -> None:
    app = App(
        load_settings(
            data_dir=tmp_path / "data", telegram_token=stub.token, telegram_api_url=stub.url, quiet_hours=""
        )
    )
    app.prepare()
    _seed(app)
    zone = app.core_config.timezone
    real = utcnow()
    # Set out and signed up for a day ago, so the day-before reminder is due now; it starts in 23 hours.
    starts = (real + timedelta(hours=23)).astimezone(zone).replace(second=0, microsecond=0)
    deadline = (real + timedelta(hours=2)).astimezone(zone).replace(second=0, microsecond=0)
    say = _talk(app, lambda: utcnow() - timedelta(days=1))
    for text in ("发起活动", "职工篮球赛", "文体", "三人制。", "体育馆", "一次举行"):
        say(CHAIR_CHAT, text)
    say(CHAIR_CHAT, starts.strftime("%Y-%m-%d %H:%M"))
    say(CHAIR_CHAT, "跳过")
    say(CHAIR_CHAT, deadline.strftime("%Y-%m-%d %H:%M"))
    for text in ("2", "先到先得", "不设优先", "1", "衣服尺码", "S、M、L", "是"):
        say(CHAIR_CHAT, text)
    assert "活动“职工篮球赛”已发布，正在通知厂工会/一车间的 4 位会员" in say(CHAIR_CHAT, "确认")
    await _deliver(app)
    for n in range(3):
        assert sum("“职工篮球赛”开始报名了" in text for text in _texts(stub, FIRST_CHAT + n)) == 1

    for n, size in ((0, "1"), (1, "2")):
        say(FIRST_CHAT + n, "活动报名")
        say(FIRST_CHAT + n, "1")
        assert "报名请回答：衣服尺码" in say(FIRST_CHAT + n, "报名")
        assert "报名成功" in say(FIRST_CHAT + n, size)
    say(FIRST_CHAT + 2, "活动报名")
    say(FIRST_CHAT + 2, "1")
    say(FIRST_CHAT + 2, "排队候补")
    assert "目前排第 1 位" in say(FIRST_CHAT + 2, "L")
    say(FIRST_CHAT + 0, "我的报名")
    say(FIRST_CHAT + 0, "1")
    say(FIRST_CHAT + 0, "取消报名")
    assert "已取消报名" in say(FIRST_CHAT + 0, "是")
    await _deliver(app)
    assert sum("您候补的活动“职工篮球赛”有空位了" in text for text in _texts(stub, FIRST_CHAT + 2)) == 1

    context = JobContext(sessions=app.sessions, config=app.core_config)
    assert queue_activity_reminders(context) == 2  # 会员1 and 会员2, not 会员0 who cancelled
    assert queue_activity_reminders(context) == 0
    await _deliver(app)
    reminded = Counter(
        chat
        for chat in range(FIRST_CHAT, FIRST_CHAT + 3)
        for text in _texts(stub, chat)
        if "【活动提醒】" in text
    )
    assert reminded == Counter({FIRST_CHAT + 1: 1, FIRST_CHAT + 2: 1})

    on_the_day = _talk(app, lambda: starts.astimezone(zone) - timedelta(minutes=30))
    on_the_day(CHAIR_CHAT, "我发起的活动")
    on_the_day(CHAIR_CHAT, "1")
    shown = on_the_day(CHAIR_CHAT, "签到码")
    code = re.search(r"的签到码：(\d{6})", shown)
    assert code is not None
    assert "签到成功" in on_the_day(FIRST_CHAT + 1, f"/checkin {code[1]}")
    assert "签到成功" in on_the_day(FIRST_CHAT + 2, f"/checkin {code[1]}")
    on_the_day(CHAIR_CHAT, "取消")
    on_the_day(CHAIR_CHAT, "活动统计")
    month = starts.strftime("%Y-%m")
    figures = on_the_day(CHAIR_CHAT, month)
    assert "合计：活动 1 个，报名 2 人次，到场 2 人次（100.0%），参与 2 人（每百人 50.0）" in figures
