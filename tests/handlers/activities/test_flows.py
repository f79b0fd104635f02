"""Activities in conversation: a cadre sets one out and calls it off; members sign up, cancel, look again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import col, select

from handlers.activities.flows import render_cancelled
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from models.activities import Activity, ActivitySignup, ActivityStatus, SignupStatus
from models.db import SessionFactory
from models.outbox import Outbox
from models.roles import Role
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the union's zone, as the settings default


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def union(db: SessionFactory, clock: time_machine.Traveller) -> None:
    """一车间 with its chair, members in 甲班 and 乙班 (one on two channels), and 二车间 beside it."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre, key="cadre")
        first = make_member(session, employee_no="1001", name="李娜")
        bind(session, first, key="member")
        bind(session, first, channel="wechat", key="wx-member")
        second = make_member(session, employee_no="1002", name="赵强", unit="厂工会/一车间/乙班")
        bind(session, second, key="second")
        other = make_member(session, employee_no="2001", unit="厂工会/二车间")
        bind(session, other, key="other")


def organise(chat: Chat, *, title: str = "职工篮球赛", capacity: str = "2", scope: str = "1") -> str:
    chat.send("发起活动", expect="请输入活动名称")
    chat.send(title, expect="请介绍一下活动")
    chat.send("三人制，自带球鞋。", expect="活动在哪里举行")
    chat.send("职工之家体育馆", expect=["活动什么时候开始", "2026-11-30 14:00"])
    chat.send("11月28日下午2点", expect="报名截止到什么时候")
    chat.send("11月26日 18:00", expect="有多少个名额")
    chat.send(capacity, expect=["哪些会员可以报名", "全部会员（厂工会/一车间）", "指定单位"])
    return chat.send(scope)


def test_a_cadre_sets_out_an_activity_and_members_of_its_units_see_it(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    cadre = Chat(bot, key="cadre")
    summary = organise(cadre)
    for line in (
        "请核对活动信息",
        "【活动】职工篮球赛",
        "三人制，自带球鞋。",
        "时间：2026-11-28 14:00",
        "地点：职工之家体育馆",
        "名额：2 人",
        "报名截止：2026-11-26 18:00",
        "报名范围：厂工会/一车间",
        "确认后会员就可以报名了",
    ):
        assert line in summary
    with db() as session:
        assert session.exec(select(Activity)).all() == []  # nothing before the yes
    cadre.press("确认", expect=["活动“职工篮球赛”已发布", "厂工会/一车间的会员现在可以在“活动报名”里报名了"])
    with db() as session:
        activity = session.exec(select(Activity)).one()
        assert activity.starts_at == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
        assert activity.signup_deadline == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
        assert activity.capacity == 2

    member = Chat(bot, key="member")
    member.send(
        "活动报名",
        expect=[
            "活动报名（第 1/1 页，共 1 个）",
            "1. 职工篮球赛",
            "时间：11-28 14:00　地点：职工之家体育馆",
            "名额：剩余 2 个（共 2 个）　报名截止：11-26 18:00",
        ],
    )
    Chat(bot, key="other").send("报名", expect="目前没有可以报名的活动")  # 二车间 is not invited


def test_bad_answers_are_refused_kindly_and_asked_again(db: SessionFactory, bot: Bot, union: None) -> None:
    cadre = Chat(bot, key="cadre")
    cadre.send("发起活动")
    cadre.send("标" * 41, expect=["最多 40 个字", "您发了 41 个字", "请输入活动名称"])
    cadre.send(HOSTILE_TITLE)
    cadre.send(HOSTILE_BODY)
    cadre.send("地" * 101, expect=["最多 100 个字", "活动在哪里举行"])
    cadre.send("礼堂")
    cadre.send("今天 8:00", expect=["这个活动时间已经过去了", "活动什么时候开始"])
    cadre.send("下周", expect=["没看懂这个时间", "活动什么时候开始"])
    cadre.send("明天 15:00", expect="报名截止到什么时候")
    cadre.send("后天 9:00", expect=["报名截止时间不能晚于活动开始时间", "报名截止到什么时候"])
    cadre.send("今天 8:30", expect="这个报名截止时间已经过去了")
    cadre.send("明天 12:00", expect="有多少个名额")
    cadre.send("很多", expect=["请输入名额人数，例如 30；不限名额请回复“不限”", "有多少个名额"])
    cadre.send("0", expect="名额请填 1 到 100000 之间的整数")
    cadre.send("不限", expect="哪些会员可以报名")
    cadre.send("2", expect=["请回复可以报名的单位编号", "厂工会/一车间/乙班"], absent=["二车间"])
    cadre.send("二车间", expect="“厂工会/二车间”不在您负责的范围内，活动只能面向您负责的单位")
    cadre.send("乙班", expect=["名额：不限", "报名范围：厂工会/一车间/乙班", f"【活动】{HOSTILE_TITLE}"])
    cadre.send("返回", expect="请回复可以报名的单位编号")
    cadre.send("取消", expect="已取消")
    with db() as session:
        assert session.exec(select(Activity)).all() == []


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
    assert second.buttons() == ["返回列表"]
    with db() as session:
        assert len(session.exec(select(ActivitySignup)).all()) == 1


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


def test_the_cadre_sees_who_comes_and_cancels_the_activity(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    for key in ("member", "second"):
        chat = Chat(bot, key=key)
        chat.send("活动报名")
        chat.send("1")
        chat.send("报名", expect="报名成功")
    cadre.send(
        "我发起的活动", expect=["我发起的活动（第 1/1 页，共 1 个）", "11-28 职工篮球赛（已报名 2/2 人）"]
    )
    cadre.send(
        "1",
        expect=[
            "状态：报名中",
            "报名人数：2 / 2",
            "1. 李娜（1001，厂工会/一车间/甲班）",
            "2. 赵强（1002，厂工会/一车间/乙班）",
            "取消活动",
        ],
    )
    cadre.press("取消活动", expect="确定要取消活动“职工篮球赛”吗？已报名的 2 人会收到取消通知。")
    cadre.press("否", expect=["好的，活动照常进行", "报名人数：2"])
    cadre.press("取消活动", expect="确定要取消活动“职工篮球赛”吗")
    cadre.press("是", expect="已取消活动“职工篮球赛”，正在通知已报名的 2 人")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        assert activity.status is ActivityStatus.CANCELLED
        rows = session.exec(select(Outbox).order_by(col(Outbox.member_id))).all()
        assert [row.key for row in rows] == [
            f"activity:{activity.id}:cancelled:member:{row.member_id}" for row in rows
        ]
        assert len(rows) == 2
        texts = {}
        for locale in ("zh_CN", "zh_TW", "en"):
            push = render_cancelled(session, rows[0], catalogues.get(locale), SHANGHAI)
            assert push is not None
            texts[locale] = (push.title, push.reply.text)
    assert texts["zh_CN"] == (
        "活动取消通知",
        "很抱歉，您报名的活动“职工篮球赛”（2026-11-28 14:00，职工之家体育馆）已取消。",
    )
    assert texts["zh_TW"][0] == "活動取消通知"
    assert "“职工篮球赛”" in texts["zh_TW"][1] or "「职工篮球赛」" in texts["zh_TW"][1]  # as typed
    assert texts["en"][1].startswith("Sorry")
    cadre.send("我发起的活动", expect="（已取消）")
    cadre.send("1", expect="状态：已取消", absent=["取消活动"])
    member = Chat(bot, key="member")
    member.send("活动报名", expect=["我的报名", "（活动已取消）"])
    member.send("1", expect="这个活动已经取消了")
    assert member.buttons() == ["返回列表"]


def test_members_cannot_organise_and_the_menu_shows_only_what_they_may_use(bot: Bot, union: None) -> None:
    member = Chat(bot, key="member")
    member.send("发起活动", expect="抱歉，您没有使用这项功能的权限")
    member.send("我发起的活动", expect="抱歉，您没有使用这项功能的权限")
    member.send("菜单", expect="活动报名", absent=["发起活动", "我发起的活动"])
    Chat(bot, key="cadre").send("菜单", expect=["活动报名", "发起活动", "我发起的活动"])
    Chat(bot, key="cadre").send("我发起的活动", expect="您还没有发起过活动")


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
