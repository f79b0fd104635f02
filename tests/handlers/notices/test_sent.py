"""我发的通知 in conversation: a cadre follows a notice and withdraws one not yet sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from handlers.core.router import Bot
from models.db import SessionFactory
from models.notices import (
    Notice,
    NoticeStatus,
)
from models.outbox import Outbox, OutboxStatus
from tests.handlers.conftest import Chat
from tests.handlers.notices.conftest import cadre_chat, compose


def test_schedule_then_withdraw_before_it_goes(db: SessionFactory, bot: Bot, union: None) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1")
    chat.send("定时发送", expect=["请输入发送的日期和时间", "2026-11-24 09:00"])
    chat.send("今天 8:00", expect=["这个发送时间已经过去了", "请输入发送的日期和时间"])
    chat.send("明天下午", expect="没看懂这个时间")
    chat.send("2027-06-01 09:00", expect="最多只能定在 90 天以内")
    chat.send("明天 9:30", expect=["发送时间：2026-11-24 09:30", "共 5 人"])
    chat.send("确认", expect=["这条通知将在 2026-11-24 09:30 发给 5 人", "我发的通知"])
    with db() as session:
        rows = session.exec(select(Outbox)).all()
        assert {row.due_at for row in rows} == {datetime(2026, 11, 24, 1, 30, tzinfo=UTC)}
    Chat(bot, key="member").send("通知", expect="目前还没有发给您的通知")  # not before its time

    chat.send("我发的通知", expect=["我发的通知（第 1/1 页，共 1 条）", "定于 2026-11-24 09:30 发送"])
    chat.send("1", expect=["状态：定于 2026-11-24 09:30 发送", "收件人：5 人", "等待发送：5", "撤回这条通知"])
    chat.press("撤回这条通知", expect="确定要撤回这条通知吗")
    chat.press("否", expect=["好的，这条通知会照常发送", "撤回这条通知"])
    chat.press("撤回这条通知", expect="确定要撤回这条通知吗")
    chat.press("是", expect="已撤回这条通知，5 位会员不会收到它")
    with db() as session:
        assert session.exec(select(Notice)).one().status is NoticeStatus.WITHDRAWN
        assert {row.status for row in session.exec(select(Outbox))} == {OutboxStatus.WITHDRAWN}
    chat.send("我发的通知", expect="（已撤回）")
    chat.send("1", expect="状态：已撤回", absent=["撤回这条通知"])


def test_a_notice_already_going_out_cannot_be_withdrawn(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1")
    chat.send("定时发送")
    chat.send("9:10")
    chat.send("确认", expect="这条通知将在 2026-11-23 09:10 发给 5 人")
    chat.send("我发的通知")
    chat.send("1", expect="撤回这条通知")
    chat.send("1", expect="确定要撤回这条通知吗")
    clock.shift(timedelta(minutes=15))
    chat.send("是", expect="这条通知已经开始发送，不能再撤回了")
    with db() as session:
        assert session.exec(select(Notice)).one().status is NoticeStatus.QUEUED
        assert {row.status for row in session.exec(select(Outbox))} == {OutboxStatus.QUEUED}
    chat.send("我发的通知", expect="（发送中）")  # due, and no worker has taken it yet
    chat.send("1", absent=["撤回这条通知"])
    with db() as session:
        for row in session.exec(select(Outbox)):
            row.status = OutboxStatus.SENT
            session.add(row)
        session.commit()
    chat.send("我发的通知", expect="（已发出）")
    chat.send("下一页", expect=["已经是最后一页了", "我发的通知（第 1/1 页"])
