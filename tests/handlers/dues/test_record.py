"""会费登记 as a collector uses it: one member, a whole unit but a few, a correction; and who may not."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.core.router import Bot
from models.db import SessionFactory
from models.dues.ledger import month_standing
from models.dues.tables import DuesEntry, EntryKind
from tests.handlers.dues.conftest import bound
from tests.models.dues.union import DECEMBER, Union


def test_a_collector_records_one_members_payment(db: SessionFactory, bot: Bot, union: Union) -> None:
    cadre = bound(bot, "T1")
    cadre.send(
        "会费登记", expect=["要登记哪一种？", "1. 登记一名会员", "2. 按单位登记整月", "3. 更正一笔记录"]
    )
    cadre.send("1", expect="请输入会员的工号")
    cadre.send("2001", expect="赵磊 不在您负责收缴会费的单位里。")
    cadre.send("1003", expect=["登记哪个月的会费？", "2026-12"])
    cadre.send("2027-13", expect="没看懂这个月份")
    cadre.send("1", expect="实缴多少元？还应缴 30.00 元；全额缴纳请回复“全额”。")
    cadre.send("40", expect="金额不能超过还应缴的 30.00 元")
    cadre.send("全额", expect=["会员：杨帆（1003）", "月份：2026-12", "金额：30.00 元", "确认后记入会费账"])
    cadre.send("确认", expect="已登记：杨帆 2026-12 缴纳 30.00 元。")
    with db() as session:
        assert month_standing(session, union.a3, DECEMBER) == (3000, 3000)
        [entry] = session.exec(select(DuesEntry)).all()
        assert entry.recorded_by_id == union.treasurer.id
    cadre.send("会费登记")
    cadre.send("1")
    cadre.send("1003")
    cadre.send("2026-12", expect="杨帆 2026-12 的会费已经缴清，请换一个月份。")


def test_a_part_payment_says_what_is_still_owed(db: SessionFactory, bot: Bot, union: Union) -> None:
    cadre = bound(bot, "T1")
    cadre.send("会费登记")
    cadre.send("登记一名会员")
    cadre.send("1001")
    cadre.send("2026-12")
    cadre.send("10元")
    cadre.send("1", expect="已登记：张<b>三</b>_*[🌟 2026-12 缴纳 10.00 元。该月还差 15.00 元。")


def test_a_whole_unit_is_marked_paid_but_those_who_did_not(
    db: SessionFactory, bot: Bot, union: Union
) -> None:
    cadre = bound(bot, "C1")  # 一车间's chair: 甲班 and 乙班
    cadre.send("会费登记")
    cadre.send("2", expect=["请回复要登记的单位编号或名称", "厂工会/一车间/甲班"])
    cadre.send("二车间", expect="这个单位不在您负责收缴会费的范围里。")
    cadre.send("甲班", expect=["登记哪个月的会费？", "1. 2026-12", "2. 2026-11"])
    cadre.send("1", expect="有没交的会员吗？")
    cadre.send("2001", expect="工号 2001 的赵磊不在厂工会/一车间/甲班。")
    cadre.send(
        "1003",
        expect=[
            "将登记厂工会/一车间/甲班 2 名会员 2026-12 的会费已缴清，共 45.00 元。",
            "未缴、不登记：杨帆（1003）",
        ],
    )
    cadre.send("确认", expect="已登记：厂工会/一车间/甲班 2 名会员 2026-12 的会费，共 45.00 元。")
    with db() as session:
        assert month_standing(session, union.a1, DECEMBER) == (2500, 2500)
        assert month_standing(session, union.a3, DECEMBER) == (3000, 0)


def test_a_correction_reverses_and_records_anew(db: SessionFactory, bot: Bot, union: Union) -> None:
    cadre = bound(bot, "T1")
    cadre.send("会费登记")
    cadre.send("1")
    cadre.send("1002")
    cadre.send("2026-12")
    cadre.send("15")
    cadre.send("确认", expect="缴纳 15.00 元")
    cadre.send("会费登记")
    cadre.send("更正一笔记录")
    cadre.send("1001", expect="张<b>三</b>_*[🌟 还没有可以更正的缴费记录")
    cadre.send("1002", expect=["要更正哪一笔？", "2026-12 15.00 元（2026-12-03 赵收缴员登记）"])
    cadre.send("1", expect=["要怎样更正？", "改成另一个金额", "撤销这笔记录"])
    cadre.send("1", expect="正确的金额是多少元？最多 20.00 元")
    cadre.send("全额", expect="更正：陈静（1002）2026-12 的 15.00 元，改为 20.00 元")
    cadre.send("确认", expect=["已冲销 2026-12 的 15.00 元。并重新登记为 20.00 元。", "原记录保留在账上"])
    with db() as session:
        kinds = session.exec(select(DuesEntry.kind, DuesEntry.amount_fen).order_by(col(DuesEntry.id))).all()
        assert kinds == [(EntryKind.PAYMENT, 1500), (EntryKind.REVERSAL, -1500), (EntryKind.PAYMENT, 2000)]
        assert month_standing(session, union.a2, DECEMBER) == (2000, 2000)


def test_members_without_the_role_are_not_offered_it(bot: Bot, union: Union) -> None:
    member = bound(bot, "1001")
    assert "会费登记" not in member.menu()
    assert "会费统计" not in member.menu()
    member.send("会费登记", absent=["要登记哪一种"])
    member.send("会费统计", absent=["要看哪个月"])


def test_a_members_rate_changes_from_a_month_on(db: SessionFactory, bot: Bot, union: Union) -> None:
    cadre = bound(bot, "T1")
    cadre.send("会费登记", expect="4. 调整月会费")
    cadre.send("4", expect="请输入会员的工号")
    cadre.send("1001", expect=["新的月会费从哪个月开始？", "1. 2027-01", "2. 2026-12"])
    cadre.send("1", expect="新的月会费是多少元？免缴请回复 0。")
    cadre.send("30", expect="自 2027-01 起月会费：30.00 元（原为 25.00 元）")
    cadre.send("确认", expect="已调整：张<b>三</b>_*[🌟 自 2027-01 起月会费为 30.00 元，之前的月份不变。")
    with db() as session:
        assert month_standing(session, union.a1, DECEMBER) == (2500, 0)
        assert month_standing(session, union.a1, 202701) == (3000, 0)
