"""帮扶公示 in chat: the admin announces, the member asks to be left out, the admin publishes masked lines."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from sqlmodel import select

from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.hardship.publication import notice_texts
from models.base import visible_length
from models.db import SessionFactory
from models.hardship import CaseStatus, HardshipCase, HardshipCategory, HardshipDisbursement
from models.hardship.publication import (
    BODY_LIMIT,
    NOTICE_TOPIC,
    HardshipPublication,
    PublicationState,
    PublicLine,
)
from models.members import Member
from models.notices import Notice
from models.periods import parse_period
from models.roles import Role
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, Union, hardship_bot, pushes_to, union

__all__ = ["hardship_bot", "union"]


def _helped_in_october(db: SessionFactory) -> None:
    with db() as session:
        admin = make_member(
            session, employee_no="A1", name="管理员", unit="厂工会", roles=[(Role.ADMIN, "厂工会")]
        )
        bind(session, admin, key="admin")
        for employee_no, category, fen in (
            ("1001", HardshipCategory.ILLNESS, 800_00),
            ("1002", HardshipCategory.FAMILY, 1200_00),
        ):
            member = session.exec(select(Member).where(Member.employee_no == employee_no)).one()
            case = HardshipCase(
                member_id=member.id,
                unit_id=member.unit_id,
                category=category,
                status=CaseStatus.HELPED,
                consent_at=NOW - timedelta(days=50),
                submitted_at=NOW - timedelta(days=50),
                contact_due_on=date(2026, 10, 5),
                visit_due_on=date(2026, 10, 10),
            )
            session.add(case)
            session.flush()
            session.add(
                HardshipDisbursement(
                    member_id=member.id or 0,
                    case_id=case.id,
                    given_on=date(2026, 10, 20),
                    amount_fen=fen,
                    fund="工会经费",
                    handled_by_id=admin.id or 0,
                )
            )


def test_announce_withhold_publish(
    db: SessionFactory, hardship_bot: Bot, union: Union, catalogues: Catalogues
) -> None:
    _helped_in_october(db)
    with time_machine.travel(NOW, tick=False):
        admin = Chat(hardship_bot, key="admin")
        admin.send("帮扶公示", expect="公示哪个时段")
        admin.press(
            "2026年10月",
            expect=[
                "2026年10月共发放帮扶 2 项，涉及 2 人，合计 2000.00 元",
                "李*　甲班　重大疾病　800.00 元",
                "3 天后再发布",
            ],
        )
        admin.press("是", expect="已通知 2 位相关会员")
        [push] = [push for row, push in pushes_to(db, catalogues, "1001") if row.topic == NOTICE_TOPIC]
        assert push is not None
        assert "帮扶公示告知" in push.reply.text
        assert "800" not in push.reply.text
        assert "重大疾病" not in push.reply.text

        member = Chat(hardship_bot, key="member")
        member.send("公示意见", expect=["李*　甲班　重大疾病　800.00 元"])
        member.press("申请不公示", expect="不会公示")

        admin.send("帮扶公示")
        admin.press(
            "2026年10月（待发布）", expect=["1 项应本人要求不公示", "孙*　甲班　家庭变故　1200.00 元"]
        )
        admin.press("发布", expect="请到那时再发布")

    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        admin.send("帮扶公示")
        admin.press("2026年10月（待发布）")
        admin.press("发布", expect="帮扶公示已发布（1 条会费使用公开通知）")
    with db() as session:
        [notice] = session.exec(select(Notice)).all()
        assert notice.title == "2026年10月帮扶资金公示"
        assert "孙*　甲班　家庭变故　1200.00 元" in notice.body
        assert "李" not in notice.body
        assert "孙强" not in notice.body


def test_a_member_without_a_coming_publication_and_a_cadre_who_is_no_admin(
    hardship_bot: Bot, union: Union
) -> None:
    with time_machine.travel(NOW, tick=False):
        Chat(hardship_bot, key="member").send("公示意见", expect="目前没有涉及您的帮扶公示")
        Chat(hardship_bot, key="chair").send("帮扶公示", absent=["公示哪个时段"])


def test_a_long_publication_is_split_into_notices_that_each_fit(catalogues: Catalogues) -> None:

    lines = [PublicLine(f"张*{n}", "一车间/甲班", "illness", 100_00 + n) for n in range(300)]
    state = PublicationState(
        publication=HardshipPublication(period_key="2026-10", unit_id=1, created_by_id=1, publish_from=NOW),
        period=parse_period("2026-10"),
        lines=lines,
        withheld=0,
        members=300,
        campaigns={},
    )
    texts = notice_texts(catalogues.get("zh_CN"), state)
    assert len(texts) > 1
    assert texts[0].title == f"2026年10月帮扶资金公示（1/{len(texts)}）"
    assert all(visible_length(text.body) <= BODY_LIMIT for text in texts)
    shown = "\n".join(text.body for text in texts)
    assert all(f"张*{n}　" in shown for n in range(300))
