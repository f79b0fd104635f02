"""活动报名 in conversation: members look, sign up, cancel and look again."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from handlers.activities.render import render_promoted
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from models.activities import CANCELLED_TOPIC, PROMOTED_TOPIC, ActivitySignup, SignupStatus
from models.db import SessionFactory
from models.outbox import Outbox
from tests.handlers.activities.conftest import SHANGHAI, organise
from tests.handlers.conftest import Chat


def test_members_sign_up_see_their_sign_ups_and_cancel(db: SessionFactory, bot: Bot, union: None) -> None:
    organise(Chat(bot, key="cadre"))
    Chat(bot, key="cadre").send("确认")
    member = Chat(bot, key="member")
    member.send("活动", expect="职工篮球赛")
    member.send("9", expect="没有这个选项，请回复 1。")  # one activity: no "1 到 1 之间"
    member.send(
        "1",
        expect=[
            "【活动】职工篮球赛",
            "三人制，自带球鞋。",
            "名额：剩余 2 个（共 2 个）",
            "报名截止：2026-11-26 18:00",
        ],
    )
    assert member.buttons() == ["报名", "返回列表"]
    member.press(
        "报名",
        expect=["报名成功！“职工篮球赛”2026-11-28 14:00在职工之家体育馆举行", "名额：剩余 1 个（共 2 个）"],
    )
    member.send("我的报名", expect=["我的报名（第 1/1 页，共 1 个）", "1. 职工篮球赛"], absent=["报名截止："])
    member.send("1", expect="您已报名这个活动")
    assert member.buttons() == ["取消报名", "返回列表"]
    member.press("取消报名", expect="确定要取消报名“职工篮球赛”吗")
    member.press("否", expect=["好的，您的报名保留着", "我的报名（第 1/1 页"])
    member.send("1")
    member.send("取消报名")
    member.send(
        "是", expect=["已取消报名。报名截止前还可以再报名", "名额：剩余 2 个（共 2 个）"], absent=["我的报名"]
    )
    with db() as session:
        assert session.exec(select(ActivitySignup)).one().status is SignupStatus.CANCELLED
    member.send("我的报名", expect="您现在没有报名的活动")


def test_signing_up_twice_is_no_error_and_a_full_activity_says_so(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    organise(Chat(bot, key="cadre"), capacity="1")
    Chat(bot, key="cadre").send("确认")
    on_telegram, on_wechat = Chat(bot, key="member"), Chat(bot, channel="wechat", key="wx-member")
    second = Chat(bot, key="second")
    for chat in (on_telegram, on_wechat, second):
        chat.send("活动报名")
        chat.send("1", expect="报名")
    on_wechat.send("报名", expect="报名成功")
    on_telegram.press("报名", expect="您已经报名了，不用再报一次", absent=["报名成功"])
    second.press("报名", expect=["很抱歉，名额已满（共 1 个名额）", "名额：已满（共 1 个）"])
    second.send("1", absent=["1. 报名"])
    assert second.buttons() == ["排队候补", "返回列表"]
    with db() as session:
        assert len(session.exec(select(ActivitySignup)).all()) == 1


def test_a_full_activity_offers_the_waitlist_and_a_freed_place_moves_the_first_in(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre, capacity="1")
    cadre.send("确认")
    member, second = Chat(bot, key="member"), Chat(bot, key="second")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    second.send("活动报名", expect="名额：已满（共 1 个）")
    second.send("1")
    second.press("排队候补", expect=["您已排队候补“职工篮球赛”，目前排第 1 位", "已满（共 1 个），1 人候补"])
    second.send("我的报名", expect=["1. 职工篮球赛", "（候补第 1 位）"])
    second.send("1", expect="您正在候补，目前排第 1 位")
    assert second.buttons() == ["退出候补", "返回列表"]
    second.press("返回列表")
    cadre.send("我发起的活动")
    cadre.send(
        "1", expect=["报名人数：1 / 1", "候补（按排队顺序）：1 人", "候补1. 赵强（1002，厂工会/一车间/乙班）"]
    )
    cadre.send("取消")

    member.send("我的报名")
    member.send("1")
    member.press("取消报名")
    member.press("是", expect="已取消报名")
    with db() as session:
        signup = session.exec(
            select(ActivitySignup).where(ActivitySignup.status == SignupStatus.SIGNED_UP)
        ).one()
        row = session.exec(select(Outbox).where(Outbox.topic == PROMOTED_TOPIC)).one()
        assert row.member_id == signup.member_id
        push = render_promoted(session, row, catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert push.title == "候补成功通知"
        assert push.reply.text.startswith(
            "好消息！您候补的活动“职工篮球赛”有空位了，已为您报名成功：2026-11-28 14:00"
        )
        assert "名额会让给下一位候补的会员" in push.reply.text
        for locale in ("zh_TW", "en"):
            assert render_promoted(session, row, catalogues.get(locale), SHANGHAI) is not None
    second.send("我的报名", expect="1. 职工篮球赛", absent=["候补第"])
    second.send("1", expect="您已报名这个活动")
    # Declining passes the place on: the member who left may queue again, at the end.
    second.press("取消报名")
    second.press("是", expect=["已取消报名", "名额：剩余 1 个（共 1 个）"])
    with db() as session:
        assert render_promoted(session, row, catalogues.get("zh_CN"), SHANGHAI) is None  # no longer true


def test_a_member_may_leave_the_waitlist_and_the_cadre_cancelling_tells_the_waiting_too(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre, capacity="1")
    cadre.send("确认")
    member, second = Chat(bot, key="member"), Chat(bot, key="second")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    second.send("活动报名")
    second.send("1")
    second.send("候补", expect="目前排第 1 位")
    second.send("1")
    second.press("退出候补", expect="确定要退出“职工篮球赛”的候补吗？再排队要排到最后。")
    second.press("否", expect="好的，您继续候补")
    second.send("我的报名")
    second.send("1")
    second.press("退出候补")
    second.press("是", expect="已退出候补")
    second.send("我的报名", expect="您现在没有报名的活动")
    second.send("活动报名")
    second.send("1")
    second.press("排队候补", expect="目前排第 1 位")
    cadre.send("我发起的活动")
    cadre.send("1")
    cadre.press("取消活动")
    cadre.send("跳过", expect="已报名的 1 人和候补的 1 人会收到取消通知。")
    cadre.press("是", expect="已取消活动“职工篮球赛”，正在通知已报名和候补的 2 人。")
    with db() as session:
        assert len(session.exec(select(Outbox).where(Outbox.topic == CANCELLED_TOPIC)).all()) == 2


def test_after_the_deadline_a_member_can_no_longer_cancel(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    organise(Chat(bot, key="cadre"))
    Chat(bot, key="cadre").send("确认")
    member = Chat(bot, key="member")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    clock.move_to(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    member.send("活动报名", expect="我的报名（第 1/1 页")  # nothing open, but what they signed up for
    member.send("1", expect=["您已报名这个活动"])
    assert member.buttons() == ["返回列表"]


def test_the_open_list_pages_and_leads_to_my_sign_ups(db: SessionFactory, bot: Bot, union: None) -> None:
    cadre = Chat(bot, key="cadre")
    for n in range(1, 7):
        organise(cadre, title=f"第{n}场讲座", capacity="不限")
        cadre.send("确认")
    member = Chat(bot, key="member")
    listing = member.send("/activities", expect=["活动报名（第 1/2 页，共 6 个）", "名额：不限", "下一页"])
    assert "第6场讲座" not in listing
    member.send("上一页", expect="已经是第一页了")
    member.send("下一页", expect=["第 2/2 页", "1. 第6场讲座"])
    member.send("1")
    member.send("报名", expect="报名成功")
    member.send("我的报名", expect="第6场讲座")
    member.send("可报名的活动", expect="活动报名（第 1/2 页")
    member.send("我的", expect="我的信息")  # a command word leaves the list


def test_cancel_leaves_at_any_step_and_the_list_reads_in_english(bot: Bot, union: None) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    member = Chat(bot, key="member")
    member.send("活动报名")
    member.send("1", expect="报名")
    member.send("取消", expect=["已取消", "请选择要办理的事项"])
    member.send("语言")
    member.send("English")
    member.send(
        "/activities",
        expect=["Activities (page 1/1, 1 in all):", "Places: 2 left of 2 · Sign up by: 11-26 18:00"],
    )
    member.send("1", expect=["[Activity] 职工篮球赛", "Open to: 厂工会/一车间"])
    member.press("Sign up", expect="You are signed up!")
