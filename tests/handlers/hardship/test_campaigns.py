"""送温暖 in chat: a cadre opens a campaign, gives from the list, reads the totals, exports."""

from __future__ import annotations

import time_machine
from openpyxl import load_workbook
from sqlmodel import col, select

from handlers.core.router import Bot
from models.audit import AuditEntry
from models.db import SessionFactory
from models.hardship import HardshipDisbursement
from tests.handlers.conftest import Chat
from tests.handlers.core.test_statement_budget import statements
from tests.handlers.hardship.people import NOW, Union, apply, hardship_bot, union

__all__ = ["hardship_bot", "union"]


def _open_holiday_campaign(chair: Chat) -> None:
    chair.send("送温暖", expect="没有送温暖活动")
    chair.press("开展新活动", expect="活动名称")
    chair.send("2027年元旦春节送温暖", expect="开始日期")  # one unit: not asked which
    chair.send("2026-11-20", expect="结束日期")
    chair.send("2026-11-01", expect="结束日期不能早于开始日期")
    chair.send("2027-01-31", expect="预算")
    chair.send("500", expect="发放对象")
    chair.press("所选单位全体会员", expect="哪些单位的全体会员")
    chair.send("厂工会/一车间", expect="每人发放标准")
    chair.send("200", expect="哪些物品")
    chair.send("跳过", expect="资金来源")
    chair.send(
        "工会经费",
        expect=[
            "开展送温暖活动：2027年元旦春节送温暖",
            "厂工会/一车间 全体会员",
            "预算：500.00 元",
            "标准：200.00 元",
        ],
    )
    chair.press("确认", expect=["已开展", "预算 500.00 元，已发放 0.00 元，剩余 500.00 元", "对象名单"])


def test_a_cadre_opens_a_campaign_gives_from_the_list_and_reads_the_totals(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        _open_holiday_campaign(chair)
        listing = chair.press("对象名单", expect=["还没发放的有 3 人", "李娜", "孙强", "王主席"])
        assert "未发放" in listing
        chair.press(next(label for label in chair.buttons() if label.startswith("李娜")), expect="发放什么")
        chair.press("按标准：200.00 元", expect="发放日期")
        chair.send("今天", expect=["对象：李娜", "发放：200.00 元", "日期：2026-11-23", "资金来源：工会经费"])
        chair.press("确认", expect=["已登记", "还没发放的有 2 人"], absent=["李娜"])
        chair.press(next(label for label in chair.buttons() if label.startswith("孙强")), expect="发放什么")
        chair.press("其他金额或物品", expect="发放金额")
        chair.send("400", expect="物品")
        chair.send("跳过", expect="发放日期")
        chair.send("今天")
        chair.press("确认", expect="超出预算了：本次活动预算还剩 300 元")

        chair.send("送温暖")
        chair.send("1", expect="2027年元旦春节送温暖")
        chair.press(
            "汇总",
            expect=[
                "甲班：符合条件 3 人，已发放 1 人，金额 200.00 元，物品 0 份",
                "全活动预算 500.00 元，已发放 200.00 元，剩余 300.00 元",
            ],
        )
        chair.press("导出Excel", expect="对象名单和汇总表")
        reply = next(reply for reply in chair.last if reply.file is not None)
        assert reply.file is not None
        workbook = load_workbook(reply.file.path)
        rows = [
            [cell for cell in row] for row in workbook.worksheets[0].iter_rows(min_row=3, values_only=True)
        ]
        assert ["甲班", "李娜", "1001", "是"] in [[str(value) for value in row[:4]] for row in rows]
        assert len(rows) == 3

    with db() as session:
        given = session.exec(select(HardshipDisbursement)).all()
        assert [(row.amount_fen, row.campaign_id is not None, row.case_id) for row in given] == [
            (200_00, True, None)
        ]
        actions = [entry.action for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
        assert "hardship.campaign.list" in actions
        assert actions[-1] == "hardship.campaign.export"


def test_a_cases_campaign_lists_only_members_with_an_open_case_in_the_cadres_units(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    apply(db, employee_no="1002")
    with time_machine.travel(NOW, tick=False):
        top = Chat(hardship_bot, key="top")
        top.send("送温暖")
        top.press("开展新活动")
        top.send("夏送清凉", expect="开始日期")
        top.send("2026-11-01")
        top.send("2026-11-30")
        top.send("1万")
        top.press("帮扶对象（按困难类别）", expect="哪些困难类别")
        top.send("1 3", expect="哪些帮扶对象")
        top.send("1", expect="每人发放标准")
        top.send("跳过")
        top.send("绿豆、毛巾")
        top.send("工会经费", expect=["在办和动态管理的帮扶对象（重大疾病、因灾）", "标准：绿豆、毛巾"])
        top.press("确认")
        top.press("对象名单", expect=["还没发放的有 1 人", "孙强"], absent=["李娜"])
        Chat(hardship_bot, key="other").send("送温暖", expect="夏送清凉")
        Chat(hardship_bot, key="member").send("送温暖", absent=["夏送清凉"])


def test_the_demo_union_gets_one_campaign_with_a_gift(db: SessionFactory, union: Union) -> None:
    from handlers.core.context import CoreConfig
    from handlers.hardship.campaigns import seed_demo_campaign
    from models.hardship.campaigns import HardshipCampaign

    apply(db)
    with db() as session:
        seed_demo_campaign(session, CoreConfig(), NOW)
    with db() as session:
        [campaign] = session.exec(select(HardshipCampaign)).all()
        assert campaign.name == "2027年元旦春节送温暖"
        [gift] = session.exec(select(HardshipDisbursement)).all()
        assert gift.campaign_id == campaign.id


def test_the_list_of_who_is_still_to_be_given_costs_a_fixed_number_of_statements(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    """对象名单's page, 9 statements: who is writing, the form saved, the campaign, its unit, the grants,
    the listed units' paths, the audit line, who qualifies and who was given (one count), the page."""
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        _open_holiday_campaign(chair)
        with statements(db.engine) as listing:
            chair.press("对象名单", expect="还没发放的有 3 人")
    assert len(listing) <= 9, "\n".join(listing)
