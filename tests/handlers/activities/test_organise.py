"""发起活动 in conversation: a cadre sets an activity out for their units."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from handlers.core.router import Bot
from models.activities import Activity
from models.db import SessionFactory
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE
from tests.handlers.activities.conftest import organise
from tests.handlers.conftest import Chat


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
    cadre.send(HOSTILE_TITLE, expect="这是哪一类活动")
    cadre.send("9", expect="这是哪一类活动")
    cadre.send("技能比武", expect="请介绍一下活动")
    cadre.send(HOSTILE_BODY)
    cadre.send("地" * 101, expect=["最多 100 个字", "活动在哪里举行"])
    cadre.send("礼堂", expect="一次举行")
    cadre.send("1")
    cadre.send("今天 8:00", expect=["这个活动时间已经过去了", "活动什么时候开始"])
    cadre.send("下周", expect=["没看懂这个时间", "活动什么时候开始"])
    cadre.send("明天 15:00", expect="活动什么时候结束")
    cadre.send("明天 14:00", expect=["结束时间要晚于开始时间", "活动什么时候结束"])
    cadre.send("明天 17:30", expect="报名截止到什么时候")
    cadre.send("后天 9:00", expect=["报名截止时间不能晚于活动开始时间", "报名截止到什么时候"])
    cadre.send("今天 8:30", expect="这个报名截止时间已经过去了")
    cadre.send("明天 12:00", expect="有多少个名额")
    cadre.send("很多", expect=["请输入名额人数，例如 30；不限名额请回复“不限”", "有多少个名额"])
    cadre.send("0", expect="名额请填 1 到 100000 之间的整数")
    cadre.send("不限", expect="有优先报名的人吗")
    cadre.send("不设优先", expect="哪些会员可以报名")
    cadre.send("2", expect=["请回复可以报名的单位编号", "厂工会/一车间/乙班"], absent=["二车间"])
    cadre.send("二车间", expect="“厂工会/二车间”不在您负责的范围内，活动只能面向您负责的单位")
    cadre.send("乙班", expect="报名时要会员回答一个问题吗")
    cadre.send("问" * 31, expect=["最多 30 个字", "报名时要会员回答一个问题吗"])
    cadre.send("参赛项目", expect="有固定选项吗")
    cadre.send("焊接", expect=["选项要有 2 到 10 个", "有固定选项吗"])
    cadre.send("焊接、" + "车" * 21, expect="太长了：每个最多 20 个字")
    cadre.send("焊接、车工、钳工", expect=["发布时要通知可以报名的 1 位会员吗"])
    cadre.send(
        "是",
        expect=[
            "名额：不限",
            "报名范围：厂工会/一车间/乙班",
            f"【活动】{HOSTILE_TITLE}",
            "类别：技能比武",
            "报名时回答：参赛项目（焊接、车工、钳工）",
            "发布后通知可以报名的 1 位会员。",
        ],
    )
    cadre.send("返回", expect="发布时要通知")
    cadre.send("返回", expect="有固定选项吗")
    cadre.send("返回", expect="报名时要会员回答一个问题吗")
    cadre.send("返回", expect="请回复可以报名的单位编号")
    cadre.send("取消", expect="已取消")
    with db() as session:
        assert session.exec(select(Activity)).all() == []


def test_members_cannot_organise_and_the_menu_shows_only_what_they_may_use(bot: Bot, union: None) -> None:
    member = Chat(bot, key="member")
    member.send("发起活动", expect="抱歉，您没有使用这项功能的权限")
    member.send("我发起的活动", expect="抱歉，您没有使用这项功能的权限")
    member.send("菜单", expect="活动报名", absent=["发起活动", "我发起的活动"])
    assert {"活动报名", "发起活动", "我发起的活动"} <= set(Chat(bot, key="cadre").menu())
    Chat(bot, key="cadre").send("我发起的活动", expect="您还没有发起过活动")


def test_in_december_a_january_date_without_its_year_is_the_coming_january(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    """Issue #14: "1月10号下午两点" typed in December was refused as past; it means next January."""
    clock.move_to(datetime(2026, 12, 20, 1, 0, tzinfo=UTC))  # Sunday 20 December, 09:00 in Shanghai
    cadre = Chat(bot, key="cadre")
    cadre.send("发起活动")
    cadre.send("新春联欢会")
    cadre.send("文体")
    cadre.send("职工自编节目，欢迎报名表演。")
    cadre.send("职工之家礼堂")
    cadre.send("一次举行", expect="活动什么时候开始")
    cadre.send(
        "1月10号下午两点",
        expect=["好的，时间定在 2027年1月10日（周日）14:00。", "活动什么时候结束"],
        absent=["已经过去了"],
    )
    cadre.send("返回", expect="活动什么时候开始")
    cadre.send("1月10日下午2点", expect=["好的，时间定在 2027年1月10日（周日）14:00。", "活动什么时候结束"])
    cadre.send("跳过", expect="报名截止到什么时候")
    cadre.send("周五", expect=["请在日期后面写上几点，例如“周五下午2点”。", "报名截止到什么时候"])
    cadre.send("下周六下午两点", expect=["好的，时间定在 2026年12月26日（周六）14:00。", "有多少个名额"])
    cadre.send("不限")
    cadre.send("不设优先")
    cadre.send("1")
    cadre.send("跳过")
    summary = cadre.send("否")
    assert "时间：2027-01-10 14:00" in summary
    assert "报名截止：2026-12-26 14:00" in summary
    cadre.press("确认", expect="活动“新春联欢会”已发布")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        assert activity.starts_at == datetime(2027, 1, 10, 6, 0, tzinfo=UTC)
        assert activity.signup_deadline == datetime(2026, 12, 26, 6, 0, tzinfo=UTC)


def test_other_ways_of_naming_a_day_are_understood(
    bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    clock.move_to(datetime(2026, 12, 31, 1, 0, tzinfo=UTC))  # Thursday 31 December, the year's last day
    cadre = Chat(bot, key="cadre")
    cadre.send("发起活动")
    cadre.send("新年长跑")
    cadre.send("1")
    cadre.send("绕厂区一圈。")
    cadre.send("厂门口")
    cadre.send("一次举行")
    cadre.send("明年5月1日上午9点", expect="好的，时间定在 2027年5月1日（周六）09:00。")
    cadre.send("返回")
    cadre.send("后天上午9点", expect="好的，时间定在 2027年1月2日（周六）09:00。")
    cadre.send("跳过", expect="报名截止到什么时候")
    cadre.send("月底下午5点", expect="好的，时间定在 2026年12月31日（周四）17:00。")
    cadre.send("返回")
    cadre.send("返回", expect="活动什么时候结束")
    cadre.send("返回", expect="活动什么时候开始")
    cadre.send("周五下午2点", expect="好的，时间定在 2027年1月1日（周五）14:00。")
    cadre.send("周五下午4点", expect="好的，时间定在 2027年1月1日（周五）16:00。")
    cadre.send("月底", expect="请在日期后面写上几点，例如“月底下午2点”。")
    cadre.send("今天 8:00", expect=["这个报名截止时间已经过去了", "报名截止到什么时候"])
