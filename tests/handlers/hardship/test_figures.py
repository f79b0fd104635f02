"""帮扶统计 and 查阅记录 in chat: what a cadre and an admin read, and what a member cannot."""

from __future__ import annotations

import time_machine
from openpyxl import load_workbook
from sqlmodel import col, select

from handlers.core.router import Bot
from models.audit import AuditEntry
from models.db import SessionFactory
from models.roles import Role
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, Union, apply, hardship_bot, union

__all__ = ["hardship_bot", "union"]


def test_a_cadre_reads_their_units_figures_and_exports_them(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    apply(db, urgent=True)
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        chair.send("帮扶统计", expect="要看哪个时段")
        chair.press(
            "2026年11月",
            expect=[
                "【帮扶统计】厂工会/一车间，2026年11月",
                "甲班：受理 1 件（紧急 1 件），已办结 0 件，发放 0.00 元",
                "重大疾病：已受理，待走访 1",
                "首次联系 暂无",
            ],
            absent=["李娜"],
        )
        chair.press("导出Excel", expect="帮扶统计表")
        reply = next(reply for reply in chair.last if reply.file is not None)
        assert reply.file is not None
        sheet = load_workbook(reply.file.path).worksheets[0]
        assert [cell.value for cell in sheet[3]][:3] == ["甲班", 1, 1]
        other = Chat(hardship_bot, key="other")
        other.send("帮扶统计")
        other.send("2026-11", expect="【帮扶统计】厂工会/二车间，2026年11月", absent=["甲班"])
        Chat(hardship_bot, key="member").send("帮扶统计", absent=["【帮扶统计】"])
    with db() as session:
        assert session.exec(select(AuditEntry.action)).all() == ["hardship.figures.export"]


def test_an_admin_reads_the_audit_log_in_chat_and_a_chair_cannot(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    case_id = apply(db)
    with db() as session:
        admin = make_member(
            session, employee_no="A1", name="管理员", unit="厂工会", roles=[(Role.ADMIN, "厂工会")]
        )
        bind(session, admin, key="admin")
    with time_machine.travel(NOW, tick=False):
        Chat(hardship_bot, key="chair").send(f"/cases KN{case_id}")
        Chat(hardship_bot, key="other").send(f"/cases KN{case_id}")
        reading = Chat(hardship_bot, key="admin").send(
            "查阅记录",
            expect=["最近 2 条查阅记录", "钱委员（O1） 查看帮扶申请", "已拒绝", "王主席（C1） 查看帮扶申请"],
        )
        assert reading.index("钱委员") < reading.index("王主席")
        Chat(hardship_bot, key="admin").send(
            "/audit C1", expect="工号 C1 最近 1 条查阅记录", absent=["钱委员"]
        )
        Chat(hardship_bot, key="top").send("查阅记录", absent=["查看帮扶申请"])
    with db() as session:
        assert len(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()) == 2
