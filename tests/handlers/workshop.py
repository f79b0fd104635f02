"""一车间, where the conversation tests of issue #14 run: a chair, two members, one of them on two channels.

Plain functions rather than fixtures, so each test module says in one line which of them it uses.
"""

from __future__ import annotations

from datetime import UTC, datetime

from models.db import SessionFactory
from models.roles import Role
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday


def seed_workshop(db: SessionFactory) -> None:
    """王主席 chairs 一车间 (key "cadre"); 李娜 on Telegram ("member") and WeChat ("wx-member"); 赵强."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre, key="cadre")
        member = make_member(session, employee_no="1001", name="李娜")
        bind(session, member, key="member")
        bind(session, member, channel="wechat", key="wx-member")
        second = make_member(session, employee_no="1002", name="赵强", unit="厂工会/一车间/乙班")
        bind(session, second, key="second")


def organise_basketball(cadre: Chat, title: str = "一车间职工篮球赛") -> None:
    """The cadre sets out the activity the issue was tried with, open to the whole workshop."""
    cadre.send("发起活动", expect="请输入活动名称")
    cadre.send(title, expect="这是哪一类活动")
    cadre.send("文体", expect="请介绍一下活动")
    cadre.send("三人制，自带球鞋。", expect="活动在哪里举行")
    cadre.send("职工之家体育馆", expect="一次举行")
    cadre.send("一次举行", expect="活动什么时候开始")
    cadre.send("11月28日下午2点", expect="活动什么时候结束")
    cadre.send("跳过", expect="报名截止到什么时候")
    cadre.send("11月26日 18:00", expect="有多少个名额")
    cadre.send("10", expect="名额怎么分配")
    cadre.send("先到先得", expect="有优先报名的人吗")
    cadre.send("不设优先", expect="哪些会员可以报名")
    cadre.send("1", expect="报名时要会员回答一个问题吗")
    cadre.send("跳过", expect="发布时要通知")
    cadre.send("否", expect="请核对活动信息")
    cadre.send("确认", expect="已发布")


def sign_up(member: Chat) -> None:
    member.send("活动报名", expect="一车间职工篮球赛")
    member.send("1", expect="【活动】一车间职工篮球赛")
    member.send("报名", expect="报名成功")
