"""疗养 in batches: one sign-up, several dates each with its places; a full batch waits on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import col, select

from handlers.activities.reminders import queue_activity_reminders
from handlers.core.context import CoreConfig
from handlers.core.module import JobContext
from handlers.core.router import Bot
from models.activities import REMINDER_TOPIC, ActivityBatch, ActivitySignup, SignupStatus
from models.db import SessionFactory
from models.outbox import Outbox
from tests.handlers.conftest import Chat


def _set_out_in_batches(cadre: Chat) -> str:
    cadre.send("发起活动")
    cadre.send("职工疗休养", expect="这是哪一类活动")
    cadre.send("疗养")
    cadre.send("分两批，每批五天。")
    cadre.send("千岛湖疗养院", expect="活动是一次举行，还是分几批举行")
    cadre.send("分批举行", expect=["请每行写一批的开始时间和名额", "2026-12-07 08:00 30"])
    cadre.send("12月10日上午8点", expect="没看懂“12月10日上午8点”")
    cadre.send("12月10日上午8点 1\n12月17日上午8点 1\n12月24日上午8点 1\n" * 4, expect="分批要有 2 到 10 批")
    cadre.send("12月10日上午8点 1\n12月17日上午8点 2人", expect="报名截止到什么时候")
    cadre.send("12月15日 18:00", expect="报名截止时间不能晚于活动开始时间")
    cadre.send("12月5日 18:00", expect="有优先报名的人吗")  # places are per batch: no question about them
    cadre.send("不设优先")
    cadre.send("1")
    cadre.send("跳过")
    return cadre.send("否")


def test_members_pick_a_batch_a_full_one_is_waited_for_and_reminders_follow_their_batch(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    cadre = Chat(bot, key="cadre")
    summary = _set_out_in_batches(cadre)
    assert "分 2 批举行：第1批 2026-12-10 08:00（1 人）；第2批 2026-12-17 08:00（2 人）" in summary
    assert "名额：按批次" in summary
    cadre.press("确认", expect="已发布")
    member, second = Chat(bot, key="member"), Chat(bot, key="second")
    member.send("活动报名")
    member.send("1", expect=["分 2 批举行：", "第1批 2026-12-10 08:00：剩余 1 个（共 1 个）"])
    member.press("报名", expect="报名哪一批")
    member.send("1", expect="报名成功")
    second.send("活动报名")
    second.send("1", expect="第1批 2026-12-10 08:00：已满（共 1 个）")
    second.press("报名")
    second.send("1", expect="您已排队候补“职工疗休养”，目前排第 1 位")
    cadre.send("我发起的活动")
    cadre.send("1", expect=["1. 李娜（1001，厂工会/一车间/甲班）（第1批）", "候补1. 赵强"])
    cadre.send("取消")
    member.send("我的报名")
    member.send("1", expect="您报名的是第1批：2026-12-10 08:00。")
    member.press("取消报名")
    member.press("是", expect="已取消报名")
    with db() as session:
        batches = {b.id: b.number for b in session.exec(select(ActivityBatch))}
        signups = session.exec(select(ActivitySignup).order_by(col(ActivitySignup.queue_no))).all()
        assert [(s.status, batches[s.batch_id or 0]) for s in signups] == [
            (SignupStatus.CANCELLED, 1),
            (SignupStatus.SIGNED_UP, 1),  # moved in to the batch they waited for
        ]
    member.send("活动报名")
    member.send("1")
    member.press("报名")
    member.send("2", expect="报名成功")
    context = JobContext(sessions=db, config=CoreConfig())
    clock.move_to(datetime(2026, 12, 9, 0, 5, tzinfo=UTC))  # a day before the first batch
    assert queue_activity_reminders(context) == 1  # 赵强 only: 李娜 goes with the second
    clock.move_to(datetime(2026, 12, 16, 0, 5, tzinfo=UTC) + timedelta(minutes=1))
    assert queue_activity_reminders(context) == 1
    with db() as session:
        rows = session.exec(
            select(Outbox).where(Outbox.topic == REMINDER_TOPIC).order_by(col(Outbox.id))
        ).all()
        assert [row.params["starts_at"][:10] for row in rows] == ["2026-12-10", "2026-12-17"]
