"""A cadre's notice end to end: queued by the domain, sent by the real worker through the stand-ins.

What the issue asks of notices that only the whole path shows: each of 1,000
members gets the notice exactly once, on the channel that reaches them, with
its 已阅 button on Telegram; the author's progress message is edited in place
and ends as the report, which counts a member who blocked the bot as blocked.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.delivery.runner import run_worker
from bot.settings import load_settings
from models.accounts import ChatAccount
from models.base import utcnow
from models.members import Member
from models.notices import Notice, NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.roles import Role, grant_role
from models.units import UnitTree
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.test_delivery import settled
from tests.e2e.wechat_stub import WeChatStub

pytestmark = pytest.mark.slow

APP_ID = "wx0123456789abcdef"
CHAIR_CHAT = 4_000_000
FIRST_CHAT = 5_000_000
MEMBERS = 1000
TITLE = "本周六停水通知"
BODY = "因管道检修，本周六 8:00-17:00 一车间停水，请大家提前储水。<b>_*[ 🌟"


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    server = TelegramStub()
    await server.start()
    yield server
    await server.stop()


def seed(app: App) -> int:
    """The chair of the whole union, 1,000 members of 一车间 (every 100th on WeChat only), one notice."""
    with app.sessions() as session:
        tree = UnitTree(session)
        union, workshop = tree.ensure("厂工会"), tree.ensure("厂工会/一车间")
        assert union.id is not None
        assert workshop.id is not None
        chair = Member(employee_no="C1", name="王主席", unit_id=union.id)
        session.add(chair)
        session.flush()
        grant_role(session, member=chair, role=Role.CHAIR, unit=union)
        session.add(ChatAccount(channel="telegram", external_id=str(CHAIR_CHAT), member_id=chair.id))
        members = [Member(employee_no=f"E{n}", name=f"会员{n}", unit_id=workshop.id) for n in range(MEMBERS)]
        session.add_all(members)
        session.flush()
        for n, member in enumerate(members):
            if n % 100 == 0:
                account = ChatAccount(
                    channel="wechat", external_id=f"openid-{n}", member_id=member.id, last_seen_at=utcnow()
                )
            else:
                account = ChatAccount(
                    channel="telegram", external_id=str(FIRST_CHAT + n), member_id=member.id
                )
            session.add(account)
        session.flush()
        draft = NoticeDraft(
            title=TITLE,
            body=BODY,
            category=NoticeCategory.NOTICE,
            target=Target(TargetKind.UNITS, (workshop.id,)),
        )
        notice = create_notice(session, actor=chair, draft=draft, now=utcnow())
        session.commit()
        assert notice.id is not None
        return notice.id


async def reported(app: App, notice_id: int, *, timeout: float = 60) -> None:
    """Wait until the notice is complete and its report has gone out (re-checked every 50 ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await settled(app, timeout=max(0.1, deadline - loop.time()))
        with app.sessions() as session:  # closed before awaiting: SQLite's lock is held meanwhile
            notice = session.get(Notice, notice_id)
            assert notice is not None
            complete = notice.completed_at is not None
        if complete:
            await settled(app, timeout=max(0.1, deadline - loop.time()))  # the report itself
            return
        if loop.time() > deadline:
            raise TimeoutError("the notice never completed")
        await asyncio.sleep(0.05)


async def test_a_notice_reaches_each_member_once_and_its_author_reads_the_report(
    stub: TelegramStub, tmp_path: Path
) -> None:
    async with WeChatStub(app_id=APP_ID, secret="s") as wechat:
        stub.limit_flood(400, 1.0)
        app = App(
            load_settings(
                data_dir=tmp_path / "data",
                telegram_token=stub.token,
                telegram_api_url=stub.url,
                telegram_push_per_second=400,
                wechat_app_id=APP_ID,
                wechat_app_secret="s",
                wechat_api_url=wechat.url,
                quiet_hours="",  # the test runs at any hour
            )
        )
        app.prepare()
        notice_id = seed(app)
        stub.block_user(FIRST_CHAT + 7)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(app, stop))
        try:
            await reported(app, notice_id)
        finally:
            stop.set()
            await asyncio.wait_for(worker, timeout=15)

        to_members = [params for params in stub.sent("sendMessage") if int(params["chat_id"]) != CHAIR_CHAT]
        received = Counter(int(params["chat_id"]) for params in to_members)
        telegram_members = {FIRST_CHAT + n for n in range(MEMBERS) if n % 100 and n != 7}
        assert set(received) == telegram_members
        assert set(received.values()) == {1}
        first = to_members[0]
        assert TITLE in first["text"]
        assert BODY in first["text"]
        markup = first["reply_markup"]
        keyboard = json.loads(markup) if isinstance(markup, str) else markup
        assert [button["text"] for row in keyboard["inline_keyboard"] for button in row] == ["已阅"]

        on_wechat = wechat.sent("/cgi-bin/message/custom/send")
        assert sorted(call.body["touser"] for call in on_wechat) == [
            f"openid-{n}" for n in range(0, MEMBERS, 100)
        ]
        assert all(TITLE in call.body["text"]["content"] for call in on_wechat)
        assert stub.floods == 0

        # The author: one progress message, edited in place, ending as the report.
        progress = stub.sent("sendMessage", chat_id=CHAIR_CHAT)
        assert len(progress) == 1
        assert "正在发送" in progress[0]["text"]
        edits = stub.sent("editMessageText", chat_id=CHAIR_CHAT)
        assert edits, "the progress message was never edited"
        [progress_id] = [
            call.result["message_id"]
            for call in stub.calls
            if call.method == "sendMessage"
            and call.status == 200
            and call.params.get("chat_id") == CHAIR_CHAT
        ]
        assert {int(edit["message_id"]) for edit in edits} == {progress_id}
        final = edits[-1]["text"]
        assert f"通知“{TITLE}”已发送完毕" in final
        assert "已发送：999" in final
        assert "发送失败：0" in final
        assert "已屏蔽或取消关注：1" in final  # the member who blocked the bot, counted as such
        with app.sessions() as session:
            blocked = session.exec(
                select(ChatAccount).where(ChatAccount.external_id == str(FIRST_CHAT + 7))
            ).one()
            assert blocked.active is False
