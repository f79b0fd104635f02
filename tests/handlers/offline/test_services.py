"""What a member types for a service not online yet: told so, and whom to ask, never "not understood"."""

from __future__ import annotations

import pytest

from models.db import SessionFactory
from models.roles import Role
from tests.factories import make_member
from tests.handlers.conftest import Chat

NOT_YET = "还没有开通线上办理"


@pytest.fixture
def member(db: SessionFactory, chat: Chat) -> Chat:
    with db() as session:
        make_member(session, employee_no="2101", name="张伟", unit="厂工会/一车间/甲班")
        make_member(
            session,
            employee_no="2001",
            name="李秀英",
            unit="厂工会/一车间",
            roles=[(Role.CHAIR, "厂工会/一车间")],
        )
        make_member(session, employee_no="1001", name="王建国", unit="厂工会", roles=[(Role.CHAIR, "厂工会")])
    chat.send("2101")
    chat.send("1234", expect="绑定成功")
    return chat


@pytest.mark.parametrize(
    ("typed", "service"),
    [
        ("困难帮扶", "困难帮扶"),
        ("申请困难补助", "困难帮扶"),
        ("我家里老人住院了，想申请困难补助", "困难帮扶"),
        ("会费", "会费缴纳"),
        ("交会费", "会费缴纳"),
        ("每月征集", "每月征集"),
    ],
)
def test_a_service_not_online_names_the_nearest_chair(member: Chat, typed: str, service: str) -> None:
    seen = member.send(typed, expect=f"“{service}”{NOT_YET}，请直接联系厂工会/一车间工会主席李秀英。")
    assert "没看懂" not in seen
    assert "请选择要办理的事项" in seen  # and the way on


def test_without_a_chair_on_the_roster_the_union_is_named(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session, employee_no="3101", unit="厂工会/二车间/甲班")
    chat.send("3101")
    chat.send("1234", expect="绑定成功")
    chat.send("困难帮扶", expect=f"“困难帮扶”{NOT_YET}，请直接联系本单位工会。")


def test_a_sentence_about_notices_is_not_taken_for_dues(member: Chat) -> None:
    member.send("会费使用公开", absent=[NOT_YET, "没看懂"])


def test_a_feature_word_inside_a_list_opens_that_feature(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session, employee_no="1001", roles=[(Role.ADMIN, "厂工会")])
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    chat.send("建议统计", expect="要看哪个时段")
    chat.send("通知公告", expect="还没有发给您的通知", absent=["没看懂这个时段"])
    chat.send("发起活动", expect="请输入活动名称")
    chat.send("厂务公开", expect="您是想打开“厂务公开”", absent=["请回复选项前的数字", "没看懂"])
