"""我发的通知 in conversation: a cadre follows a notice and withdraws one not yet sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine
from sqlmodel import select

from handlers.core.router import Bot
from models.db import SessionFactory
from models.members import Member
from models.notices import (
    Notice,
    NoticeRecipient,
    NoticeStatus,
)
from models.outbox import FailureCode, Outbox, OutboxStatus
from tests.factories import HOSTILE_NAME, bind, make_member
from tests.handlers.conftest import Chat
from tests.handlers.notices.conftest import NOW, cadre_chat, compose, send_notices


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


def _went_out(db: SessionFactory, *, no_account: str) -> None:
    """The worker's outcomes: sent to all, but the member with ``no_account`` had none."""
    with db() as session:
        unreachable = session.exec(select(Member.id).where(Member.employee_no == no_account)).one()
        for row in session.exec(select(Outbox).where(Outbox.topic == "notice")):
            if row.member_id == unreachable:
                row.status, row.error = OutboxStatus.FAILED, f"{FailureCode.NO_ACCOUNT}: no active account"
            else:
                row.status = OutboxStatus.SENT
            session.add(row)


def test_the_cadre_sees_who_has_not_read_and_reminds_them_once_a_round(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    with db() as session:  # the chair is on WeChat too
        chair = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        bind(session, chair, channel="wechat", key="wx-cadre")
    send_notices(db, bot, ["停水通知"])
    _went_out(db, no_account="1004")
    member = Chat(bot, key="member")
    member.send("通知")
    member.send("1", expect="停水通知的正文")  # opened in 通知公告: read

    cadre = cadre_chat(bot)
    cadre.send("我发的通知")
    cadre.send(
        "1",
        expect=["已发送：4", "发送失败：0", "没有可用账号：1", "已阅：1 / 5", "未阅名单", "提醒未阅的人"],
    )
    cadre.press("未阅名单", expect="还有 4 位会员没有阅读（第 1/1 页）")
    assert cadre.buttons() == [
        "王主席（C1，厂工会/一车间/甲班）",
        f"{HOSTILE_NAME}（1002，厂工会/一车间/乙班）",
        f"{HOSTILE_NAME}（1003，厂工会/一车间/乙班）",
        f"{HOSTILE_NAME}（1004，厂工会/一车间/丙班）",
        "提醒未阅的人",
        "返回",
    ]
    cadre.send(
        "4",
        expect=[
            f"{HOSTILE_NAME}（工号 1004，厂工会/一车间/丙班）还没有阅读这条通知。",
            "通知推送：没有可用账号",
            "还有 4 位会员没有阅读",
        ],
    )
    cadre.press(
        "提醒未阅的人",
        expect=[
            "通知“停水通知”还有 4 位会员没有阅读，将给他们每人发一条提醒（第 1 次）。"
            "其中 1 位没有可用账号，收不到提醒，请另行通知。",
            "确定发送吗？",
        ],
    )
    cadre.press("否", expect=["好的，不发提醒。", "还有 4 位会员没有阅读"])
    cadre.press("提醒未阅的人", expect="确定发送吗？")
    cadre.send("取消", expect=["好的，不发提醒。", "还有 4 位会员没有阅读"])
    with db() as session:
        assert session.exec(select(Outbox).where(Outbox.topic == "notice_reminder")).all() == []
    cadre.press("提醒未阅的人", expect="（第 1 次）")
    cadre.press(
        "是",
        expect=[
            "已发出第 1 次提醒，3 位未阅的会员会收到。其中 1 位没有可用账号，收不到提醒，请另行通知。",
            "已提醒未阅的会员 1 次，最近一次在 2026-11-23 09:00。",
            "接下来要做什么？",
        ],
    )

    # The next round, confirmed on both of the chair's phones: it goes once.
    on_wechat = Chat(bot, channel="wechat", key="wx-cadre")
    for chat in (cadre, on_wechat):
        chat.send("我发的通知")
        chat.send("1")
        chat.send("提醒未阅的人", expect="将给他们每人发一条提醒（第 2 次）")
    cadre.send("是", expect="已发出第 2 次提醒，3 位未阅的会员会收到。")
    on_wechat.send("是", expect="第 2 次提醒已经发过了（4 人），不会重复发送。")
    with db() as session:
        keys = session.exec(select(Outbox.key).where(Outbox.topic == "notice_reminder")).all()
        notice = session.exec(select(Notice)).one()
    assert len(keys) == 8
    assert {key.split(":")[3] for key in keys} == {"1", "2"}
    assert notice.reminder_rounds == 2


def test_a_long_unread_list_comes_in_pages_and_says_when_all_have_read(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    with db() as session:
        for n in range(10):
            make_member(session, employee_no=f"15{n:02d}", unit="厂工会/一车间/丁班")
    send_notices(db, bot, ["停电通知"])
    cadre = cadre_chat(bot)
    cadre.send("我发的通知")
    # While it still goes out, who has not read it can be seen; a reminder would overtake the notice.
    cadre.send("1", expect=["等待发送：15", "未阅名单"], absent=["提醒未阅的人"])
    _went_out(db, no_account="1004")
    cadre.send("刷新", expect=["已阅：0 / 15", "未阅名单", "提醒未阅的人"])
    cadre.send("未阅名单", expect="还有 15 位会员没有阅读（第 1/2 页）")
    assert len(cadre.buttons()) == 10 + 3  # ten names, 下一页, 提醒未阅的人, 返回
    cadre.send("下一页", expect="还有 15 位会员没有阅读（第 2/2 页）")
    assert cadre.buttons()[:5] == [f"{HOSTILE_NAME}（15{n:02d}，厂工会/一车间/丁班）" for n in range(5, 10)]
    cadre.send("下一页", expect="已经是最后一页了")
    with db() as session:  # meanwhile everyone read it
        session.execute(sa.update(NoticeRecipient).values(read_at=NOW))
    cadre.press(
        f"{HOSTILE_NAME}（1509，厂工会/一车间/丁班）",
        expect=["这个按钮已经失效了", "收到这条通知的会员都已阅读。"],
    )
    assert cadre.buttons() == ["返回"]
    cadre.send("返回", expect=["已阅：15 / 15", "接下来要做什么？"], absent=["未阅名单", "提醒未阅的人"])


def test_no_reminder_is_offered_to_send_when_nobody_could_get_it(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    send_notices(db, bot, ["停水通知"])
    _went_out(db, no_account="1004")
    with db() as session:  # all but 1004, who has no account, read it
        unreachable = session.exec(select(Member.id).where(Member.employee_no == "1004")).one()
        session.execute(
            sa.update(NoticeRecipient).where(NoticeRecipient.member_id != unreachable).values(read_at=NOW)  # type: ignore[arg-type]
        )
    cadre = cadre_chat(bot)
    cadre.send("我发的通知")
    cadre.send("1", expect="已阅：4 / 5")
    cadre.send(
        "提醒未阅的人",
        expect=["还没有阅读的 1 位会员都没有可用账号，提醒发不到，请另行通知。", "接下来要做什么？"],
    )
    with db() as session:
        assert session.exec(select(Outbox).where(Outbox.topic == "notice_reminder")).all() == []
