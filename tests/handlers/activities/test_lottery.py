"""抽签 in conversation: members enter, the job draws at the deadline, the winner confirms."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from handlers.activities.lottery import queue_draws, render_drawn
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.module import JobContext
from handlers.core.router import Bot
from models.activities import DRAWN_TOPIC, Activity, ActivitySignup, SignupStatus
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from tests.handlers.activities.conftest import SHANGHAI, organise
from tests.handlers.conftest import Chat

AFTER_THE_DEADLINE = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)  # 18:05 in Shanghai


def test_members_enter_the_draw_and_the_one_drawn_confirms(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    summary = organise(cadre, capacity="1", allocation="截止后抽签")
    assert "分配方式：报名截止后抽签，中签者 48 小时内确认参加" in summary
    cadre.press("确认", expect="已发布")
    for key in ("member", "second"):
        chat = Chat(bot, key=key)
        chat.send("活动报名", expect="抽签，共 1 个名额，2026-11-26 18:00 抽签")
        chat.send("1")
        chat.press(
            "报名参加抽签", expect="您已报名参加“职工篮球赛”的抽签，2026-11-26 18:00 抽签后会告诉您结果。"
        )
    Chat(bot, key="member").send("我的报名")
    Chat(bot, key="member").send("1", expect="您已报名参加抽签")
    cadre.send("我发起的活动")
    cadre.send("1", expect="抽签报名：2 人，报名截止后抽签")
    cadre.send("取消")
    clock.move_to(AFTER_THE_DEADLINE)
    context = JobContext(sessions=db, config=CoreConfig())
    assert queue_draws(context) == 1
    assert queue_draws(context) == 0
    cadre.send("我发起的活动")
    cadre.send("1", expect="：中签待确认 1 人，未中签 1 人")
    cadre.send("取消")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        rows = {row.member_id: row for row in session.exec(select(Outbox).where(Outbox.topic == DRAWN_TOPIC))}
        signups = {s.status: s.member_id for s in session.exec(select(ActivitySignup))}
        won = render_drawn(session, rows[signups[SignupStatus.OFFERED]], catalogues.get("zh_CN"), SHANGHAI)
        lost = render_drawn(session, rows[signups[SignupStatus.NOT_DRAWN]], catalogues.get("zh_CN"), SHANGHAI)
        assert won is not None
        assert lost is not None
        assert won.reply.text.startswith("恭喜！您在“职工篮球赛”的抽签中中签了。请在 2026-11-28 18:05 前回复")
        assert f"抽签种子：{activity.draw_seed}，共 2 人参加抽签" in won.reply.text
        assert "很遗憾这次没有中签。您在抽签顺序中排第 2 位" in lost.reply.text
        first = session.exec(select(Member.id).where(Member.employee_no == "1001")).one()
        winner = "member" if signups[SignupStatus.OFFERED] == first else "second"
        won_row = rows[signups[SignupStatus.OFFERED]]
    chat = Chat(bot, key=winner)
    chat.send(f"活动 {activity.id}", expect="恭喜中签！请在 2026-11-28 18:05 前确认参加")
    assert chat.buttons() == ["确认参加", "放弃名额", "返回列表"]
    chat.press("确认参加", expect="好的，已确认参加“职工篮球赛”：2026-11-28 14:00，在职工之家体育馆举行。")
    with db() as session:
        assert render_drawn(session, won_row, catalogues.get("zh_CN"), SHANGHAI) is None  # old news now
