"""帮扶办理 in chat: the queue, a case opened (and audited), the steps, two cadres at once, who may not."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlmodel import col, select

from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from models.audit import AuditEntry
from models.db import SessionFactory
from models.hardship import CaseStatus, HardshipCase, HardshipPolicy
from models.hardship.deadlines import enqueue_deadline_pushes
from tests.handlers.conftest import Chat
from tests.handlers.core.test_statement_budget import statements
from tests.handlers.hardship.people import NOW, STORY, Union, apply, hardship_bot, pushes_to, union

__all__ = ["hardship_bot", "union"]


def audit(db: SessionFactory) -> list[tuple[str, str, str, bool]]:
    with db() as session:
        return [
            (entry.action, entry.subject, entry.channel, entry.allowed)
            for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        ]


def test_the_queue_puts_urgent_first_and_opening_a_case_is_audited(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    ordinary = apply(db)
    urgent = apply(db, employee_no="1002", urgent=True)
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        queue = chair.send("帮扶办理", expect=["待办帮扶申请 2 件，其中紧急 1 件，超期 0 件", "孙强", "李娜"])
        assert queue.index("孙强") < queue.index("李娜"), "urgent first"
        assert f"KN-2026-{urgent:06d}" in queue
        chair.send(
            "2",
            expect=[f"情况说明：{STORY}", "家庭人口：4 人，家庭月收入：3200.00 元", "记录联系", "记录走访"],
        )
    assert audit(db) == [("hardship.case.open", f"case:{ordinary}", "telegram", True)]


def test_a_member_and_an_out_of_scope_cadre_cannot_open_a_case_and_the_attempt_is_audited(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    case_id = apply(db)
    with time_machine.travel(NOW, tick=False):
        Chat(hardship_bot, key="neighbour").send("帮扶办理", absent=[STORY, "李娜"])
        other = Chat(hardship_bot, key="other")
        other.send("帮扶办理", expect="没有待办理的帮扶申请")
        other.send(f"/cases KN{case_id}", expect="不在您负责的单位", absent=[STORY])
    assert audit(db) == [("hardship.case.open", f"case:{case_id}", "telegram", False)]
    with db() as session:
        assert session.get(HardshipCase, case_id) is not None


def test_two_cadres_at_once_the_second_sees_the_first_ones_step(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    case_id = apply(db)
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        top = Chat(hardship_bot, key="top")
        chair.send("帮扶办理")
        chair.send("1")
        top.send("帮扶办理")
        top.send("1")
        chair.send("记录联系")
        top.send("记录联系")
        chair.send("电话联系了本人，约好周三上门。")
        top.send("打了电话，没人接。")
        chair.send("确认", expect="已记录首次联系")
        top.send("确认", expect="刚刚被其他干部处理过")
    with db() as session:
        case = session.get(HardshipCase, case_id)
        assert case is not None
        assert case.contact_note == "电话联系了本人，约好周三上门。"
        assert case.status is CaseStatus.RECEIVED


def test_a_step_the_stage_does_not_allow_is_refused_with_where_it_stands(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    apply(db)
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        chair.send("帮扶办理")
        chair.send("1", absent=["帮扶决定", "登记发放"])
        chair.send("登记发放", expect="目前是“已受理，待走访”")


def test_the_queue_and_a_case_cost_a_fixed_number_of_statements(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    """帮扶办理 is a cadre's everyday message: who, the grants, the counts, the page and its total,
    the units' names, the form saved. Opening a case adds its rows and the audit line."""
    for index in range(7):
        apply(db, urgent=index % 2 == 0)
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        chair.send("菜单")
        with statements(db.engine) as queue:
            chair.send("帮扶办理", expect="待办帮扶申请 7 件")
        with statements(db.engine) as opening:
            chair.send("1", expect="情况说明")
    assert len(queue) <= 7, "\n".join(queue)
    assert len(opening) <= 12, "\n".join(opening)


def test_a_push_about_work_done_meanwhile_is_not_sent(
    db: SessionFactory, hardship_bot: Bot, union: Union, catalogues: Catalogues
) -> None:
    """The new-case push and the reminder render to nothing once the step they ask for was taken."""
    case_id = apply(db)
    with db() as session:
        enqueue_deadline_pushes(session, now=NOW + timedelta(days=2), policy=HardshipPolicy())  # due Thursday
    [(_new, told), (_due, reminded)] = pushes_to(db, catalogues, "C1")
    assert told is not None
    assert "新的帮扶申请" in told.reply.text
    assert reminded is not None
    assert "“首次联系”期限是 11月26日" in reminded.reply.text
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        chair = Chat(hardship_bot, key="chair")
        chair.send("帮扶办理")
        chair.send(f"KN{case_id}")
        chair.send("记录联系")
        chair.send("电话联系了本人。")
        chair.send("确认", expect="已记录首次联系")
    assert [push for _row, push in pushes_to(db, catalogues, "C1")] == [None, None]
