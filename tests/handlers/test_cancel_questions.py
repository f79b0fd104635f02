"""取消 at a question about cancelling something: nothing is cancelled, and the member hears what stays.

Issue #14, item 1: at 确定要取消报名“一车间职工篮球赛”吗？ the reply 取消 answered 已取消。 and kept the
sign-up. The same question is asked before calling an activity off, withdrawing a notice and unbinding.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlmodel import select

from handlers.core.messages import Incoming
from handlers.core.router import Bot
from models.activities import Activity, ActivitySignup, ActivityStatus, SignupStatus
from models.db import SessionFactory
from models.notices import Notice, NoticeStatus
from tests.handlers.conftest import Chat
from tests.handlers.workshop import NOW, organise_basketball, seed_workshop, sign_up

QUESTION = "确定要取消报名“一车间职工篮球赛”吗？"


@pytest.fixture
def workshop(db: SessionFactory) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        seed_workshop(db)
        yield


@pytest.fixture
def signed_up(bot: Bot, workshop: None) -> Chat:
    organise_basketball(Chat(bot, key="cadre"))
    member = Chat(bot, key="member")
    sign_up(member)
    return member


def _at_the_question(member: Chat) -> None:
    member.send("我的报名", expect="1. 一车间职工篮球赛")
    member.send("1", expect="您已报名这个活动")
    # No "“取消”退出" beside it: that would read as the way to call the sign-up off.
    member.press("取消报名", expect=[QUESTION, "（回复“返回”回到上一步）"], absent=["“取消”退出"])


def _signup_status(db: SessionFactory) -> SignupStatus:
    with db() as session:
        return session.exec(select(ActivitySignup)).one().status


@pytest.mark.parametrize("reply", ["取消", "算了", "取消。", "/cancel"])
def test_cancel_at_the_question_keeps_the_sign_up_and_says_so(
    db: SessionFactory, signed_up: Chat, reply: str
) -> None:
    _at_the_question(signed_up)
    signed_up.send(reply, expect="好的，您的报名保留着。", absent=["已取消"])
    assert _signup_status(db) is SignupStatus.SIGNED_UP
    signed_up.send("我的报名", expect=["我的报名（第 1/1 页，共 1 个）", "1. 一车间职工篮球赛"])


def test_not_cancelling_is_the_question_s_no(db: SessionFactory, signed_up: Chat) -> None:
    _at_the_question(signed_up)
    signed_up.send("不取消", expect=["好的，您的报名保留着。", "我的报名（第 1/1 页"], absent=["已取消"])
    assert _signup_status(db) is SignupStatus.SIGNED_UP


def test_yes_still_cancels_the_sign_up(db: SessionFactory, signed_up: Chat) -> None:
    _at_the_question(signed_up)
    signed_up.send("确定", expect="已取消报名。报名截止前还可以再报名")
    assert _signup_status(db) is SignupStatus.CANCELLED


def test_the_same_on_wechat_with_numbered_replies(db: SessionFactory, bot: Bot, signed_up: Chat) -> None:
    wechat = Chat(bot, channel="wechat", key="wx-member")
    wechat.send("我的报名", expect="1. 一车间职工篮球赛")
    wechat.send("1", expect="1. 取消报名")
    wechat.send("1", expect=[QUESTION, "1. 是", "2. 否"])
    wechat.send("取消", expect="好的，您的报名保留着。", absent=["已取消"])
    assert _signup_status(db) is SignupStatus.SIGNED_UP


def test_the_cancel_command_of_telegram_at_the_question(
    db: SessionFactory, bot: Bot, signed_up: Chat
) -> None:
    _at_the_question(signed_up)
    replies = bot.handle(Incoming("telegram", "member", text="/cancel@UnionBot"))
    assert replies[0].text == "好的，您的报名保留着。"
    assert _signup_status(db) is SignupStatus.SIGNED_UP


def test_cancel_at_calling_the_activity_off_keeps_it_on(db: SessionFactory, bot: Bot, workshop: None) -> None:
    cadre = Chat(bot, key="cadre")
    organise_basketball(cadre)
    cadre.send("我发起的活动", expect="一车间职工篮球赛")
    cadre.send("1", expect="取消活动")
    cadre.press("取消活动", expect="请简单说明取消的原因")
    cadre.send("跳过", expect="确定要取消活动“一车间职工篮球赛”吗？")
    cadre.send("取消", expect="好的，活动照常进行。", absent=["已取消"])
    cadre.send("我发起的活动", expect="1. ")
    cadre.send("1")
    cadre.press("取消活动")
    cadre.send("场地临时检修", expect="确定要取消活动")
    cadre.send("别取消", expect=["好的，活动照常进行。", "报名人数"])
    with db() as session:
        assert session.exec(select(Activity)).one().status is ActivityStatus.OPEN


def test_cancel_at_withdrawing_a_notice_keeps_it_going(db: SessionFactory, bot: Bot, workshop: None) -> None:
    cadre = Chat(bot, key="cadre")
    cadre.send("发通知", expect="请选择发布的栏目")
    cadre.send("1", expect="请输入标题")
    cadre.send("周五下午停电检修", expect="请输入正文")
    cadre.send("周五下午两点到四点停电，请提前保存工作。", expect="图片或一个文件")
    cadre.send("跳过", expect="请选择发送对象")
    cadre.send("1", expect="什么时候发送")
    cadre.send("定时发送", expect="请输入发送的日期和时间")
    cadre.send("明天 9:30", expect="发送时间：2026-11-24 09:30")
    cadre.send("确认", expect="这条通知将在 2026-11-24 09:30 发给")
    cadre.send("我发的通知", expect="周五下午停电检修")
    cadre.send("1", expect="撤回这条通知")
    cadre.press("撤回这条通知", expect="确定要撤回这条通知吗")
    cadre.send("取消", expect="好的，这条通知会照常发送。", absent=["已取消", "已撤回"])
    cadre.send("我发的通知")
    cadre.send("1")
    cadre.press("撤回这条通知")
    cadre.send("不撤回", expect=["好的，这条通知会照常发送。", "撤回这条通知"])
    with db() as session:
        assert session.exec(select(Notice)).one().status is NoticeStatus.QUEUED


def test_cancel_at_unbinding_keeps_the_binding(bot: Bot, workshop: None) -> None:
    member = Chat(bot, key="member")
    member.send("/unbind", expect="确定要解除当前账号与 李娜（工号 1001）的绑定吗？")
    member.send("取消", expect="好的，绑定保持不变。", absent=["已取消", "已解除"])
    member.send("/me", expect="工号：1001")
