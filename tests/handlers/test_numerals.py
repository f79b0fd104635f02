"""Chinese numerals wherever numbers are offered: yes/no, choices, summaries, pages, units.

Issue #14, item 3: 一 at a yes/no question got 请回复“是”或“否”（也可以回复 1 或 2）, yet 一 worked at the
main menu.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlmodel import select

from handlers.core.router import Bot
from models.activities import ActivitySignup, SignupStatus
from models.db import SessionFactory
from tests.handlers.conftest import Chat
from tests.handlers.workshop import NOW, organise_basketball, seed_workshop, sign_up

NOT_UNDERSTOOD = "请回复“是”或“否”"


@pytest.fixture
def workshop(db: SessionFactory) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        seed_workshop(db)
        yield


def _signup_status(db: SessionFactory) -> SignupStatus:
    with db() as session:
        return session.exec(select(ActivitySignup)).one().status


@pytest.mark.parametrize(("reply", "cancelled"), [("一", True), ("壹", True), ("①", True), ("二", False)])
def test_a_chinese_numeral_answers_a_yes_no_question(
    db: SessionFactory, bot: Bot, workshop: None, reply: str, cancelled: bool
) -> None:
    organise_basketball(Chat(bot, key="cadre"))
    member = Chat(bot, key="member")
    sign_up(member)
    member.send("我的报名")
    member.send("一", expect="您已报名这个活动")
    member.press("取消报名", expect=["确定要取消报名“一车间职工篮球赛”吗？", "1. 是", "2. 否"])
    if cancelled:
        member.send(reply, expect="已取消报名", absent=[NOT_UNDERSTOOD])
        assert _signup_status(db) is SignupStatus.CANCELLED
    else:
        member.send(reply, expect="好的，您的报名保留着", absent=[NOT_UNDERSTOOD])
        assert _signup_status(db) is SignupStatus.SIGNED_UP


def test_numerals_at_the_menu_a_choice_a_list_of_units_and_a_summary(bot: Bot, workshop: None) -> None:
    cadre = Chat(bot, key="cadre")
    cadre.send("菜单", expect="3. 活动管理")
    cadre.send("三", expect="1. 发起活动")
    cadre.send("一", expect="请输入活动名称")
    cadre.send("一车间职工篮球赛")
    cadre.send("一", expect="请介绍一下活动")
    cadre.send("三人制，自带球鞋。")
    cadre.send("职工之家体育馆")
    cadre.send("一", expect="活动什么时候开始")
    cadre.send("11月28日下午2点")
    cadre.send("跳过")
    cadre.send("11月26日 18:00")
    cadre.send("十", expect="名额怎么分配")
    cadre.send("一", expect="有优先报名的人吗")
    cadre.send("一", expect="哪些会员可以报名")
    cadre.send("二", expect=["请回复可以报名的单位编号", "2. 厂工会/一车间/甲班", "3. 厂工会/一车间/乙班"])
    cadre.send("二 三", expect="报名时要会员回答一个问题吗")
    cadre.send("跳过")
    cadre.send("二", expect=["报名范围：厂工会/一车间/甲班、厂工会/一车间/乙班", "1. 确认"])
    cadre.send("一", expect="已发布")


def test_a_page_is_turned_by_its_number_in_words(db: SessionFactory, bot: Bot, workshop: None) -> None:
    cadre = Chat(bot, key="cadre")
    for number in range(1, 7):
        cadre.send("发通知")
        cadre.send("一")
        cadre.send(f"第{number}期安全简报")
        cadre.send("请各班组传达学习。")
        cadre.send("跳过")
        cadre.send("一")
        cadre.send("一")
        cadre.send("确认", expect="通知开始发给")
    member = Chat(bot, key="member")
    member.send("通知", expect=["（第 1/2 页，共 6 条）", "6. 下一页"])
    member.send("六", expect="（第 2/2 页，共 6 条）")
    member.send("①", expect="第1期安全简报")
