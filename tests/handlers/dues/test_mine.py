"""我的会费 as a member reads it: what is paid, what is owed, the last payment."""

from __future__ import annotations

from handlers.core.router import Bot
from models.db import SessionFactory
from models.dues.ledger import System, open_month, record_dues_payment
from tests.handlers.dues.conftest import bound
from tests.models.dues.union import DECEMBER, NOW, Union


def test_a_member_sees_paid_and_unpaid_months_and_the_total(
    db: SessionFactory, bot: Bot, union: Union
) -> None:
    with db() as session:
        for month in (202610, 202611, DECEMBER):
            open_month(session, month, now=NOW)
        record_dues_payment(
            session,
            actor=System.COMMAND_LINE,
            member=union.a1,
            month=202610,
            amount_fen=2500,
            now=NOW,
            current=DECEMBER,
        )
        record_dues_payment(
            session,
            actor=System.COMMAND_LINE,
            member=union.a1,
            month=202611,
            amount_fen=1000,
            now=NOW,
            current=DECEMBER,
        )
    member = bound(bot, "1001")
    seen = member.send(
        "我的会费",
        expect=[
            "【我的会费】",
            "月会费：25.00 元",
            "未缴：2 个月（2026-11、2026-12），共 40.00 元。",
            "最近一次缴纳：2026-11 的会费 10.00 元，登记于 2026-12-03。",
            "2026-12：应缴 25.00 元，未缴",
            "2026-11：应缴 25.00 元，已缴 10.00 元，还差 15.00 元",
            "2026-10：已缴 25.00 元",
        ],
    )
    assert "请选择要办理的事项" in seen  # and the way on


def test_the_words_members_use_all_reach_it(bot: Bot, union: Union) -> None:
    member = bound(bot, "1002")
    for typed in ("会费", "/dues", "交会费", "我想交会费", "會費"):
        member.send(typed, expect="【我的会费】", absent=["还没有开通线上办理", "没看懂"])
    member.send("会费使用公开", absent=["【我的会费】"])


def test_all_paid_is_said_with_thanks(db: SessionFactory, bot: Bot, union: Union) -> None:
    with db() as session:
        record_dues_payment(
            session,
            actor=System.COMMAND_LINE,
            member=union.a2,
            month=DECEMBER,
            amount_fen=2000,
            now=NOW,
            current=DECEMBER,
        )
    bound(bot, "1002").send("我的会费", expect="会费都已缴清，谢谢您对工会工作的支持！")


def test_in_english_too(bot: Bot, union: Union) -> None:
    member = bound(bot, "1003")
    member.send("/lang")
    member.send("English")
    seen = member.send("/dues")
    assert "2026-12" in seen
    assert "30.00" in seen
