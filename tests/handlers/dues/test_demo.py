"""The demo union (``make demo``) has a year of dues with some arrears, so 我的会费 shows something."""

from __future__ import annotations

from bot.demo_data import DEMO_CADRE_NO, DEMO_MEMBER_NO, seed_demo
from handlers.core.router import Bot
from models.db import SessionFactory
from tests.handlers.conftest import Chat


def test_the_demo_member_owes_two_months_of_a_paid_year(db: SessionFactory, bot: Bot) -> None:
    assert seed_demo(db)
    member = Chat(bot, key="demo-member")
    member.send(DEMO_MEMBER_NO)
    member.send("2108", expect="绑定成功")
    seen = member.send(
        "我的会费",
        expect=[
            "未缴：2 个月（2026-11、2026-12），共 50.00 元。",
            "2026-10：已缴 25.00 元",
            "最近一次缴纳：2026-10",
        ],
    )
    assert seen.count("已缴 25.00 元") == 10


def test_the_demo_chair_sees_her_workshops_arrears(db: SessionFactory, bot: Bot) -> None:
    assert seed_demo(db)
    chair = Chat(bot, key="demo-chair")
    chair.send(DEMO_CADRE_NO)
    chair.send("7720", expect="绑定成功")
    chair.send("会费统计")
    chair.send("本月", expect=["【会费统计】厂工会/一车间，2026-12", "截至 2026-12 欠缴会员 3 人"])
