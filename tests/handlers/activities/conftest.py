"""The union the activities tests run in, and a cadre setting an activity out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from models.db import SessionFactory
from models.roles import Role
from tests.factories import bind, make_member
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


def organise(
    chat: Chat,
    *,
    title: str = "职工篮球赛",
    capacity: str = "2",
    scope: str = "1",
    question: str = "跳过",
    choices: str = "",
    announce: str = "否",
    allocation: str = "先到先得",
) -> str:
    """Set out an activity (on 11月28日 14:00, sign-up until 26日 18:00) up to its summary."""
    chat.send("发起活动", expect="请输入活动名称")
    chat.send(title, expect=["这是哪一类活动", "1. 文体"])
    chat.send("文体", expect="请介绍一下活动")
    chat.send("三人制，自带球鞋。", expect="活动在哪里举行")
    chat.send("职工之家体育馆", expect="活动是一次举行，还是分几批举行")
    chat.send("一次举行", expect=["活动什么时候开始", "2026-11-30 14:00"])
    chat.send("11月28日下午2点", expect=["活动什么时候结束", "没有可回复“跳过”"])
    chat.send("跳过", expect="报名截止到什么时候")
    chat.send("11月26日 18:00", expect="有多少个名额")
    if capacity == "不限":
        chat.send(capacity, expect="有优先报名的人吗")
    else:
        chat.send(capacity, expect="名额怎么分配")
        chat.send(allocation, expect="有优先报名的人吗")
    chat.send("不设优先", expect=["哪些会员可以报名", "全部会员（厂工会/一车间）", "指定单位"])
    chat.send(scope, expect="报名时要会员回答一个问题吗")
    if question == "跳过":
        chat.send(question, expect="发布时要通知可以报名的")
    else:
        chat.send(question, expect="有固定选项吗")
        chat.send(choices or "跳过", expect="发布时要通知可以报名的")
    return chat.send(announce)
