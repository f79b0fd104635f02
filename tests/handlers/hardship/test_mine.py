"""我的申请: a member reads where their applications stand and what was given, never the cadres' notes."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from sqlmodel import select

from handlers.core.router import Bot
from models.db import SessionFactory
from models.hardship import HardshipPolicy, VisitRecord, record_contact, record_visit
from models.members import Member
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, STORY, Union, apply, hardship_bot, union

__all__ = ["hardship_bot", "union"]


def test_nothing_yet_says_how_to_apply(hardship_bot: Bot, union: Union) -> None:
    with time_machine.travel(NOW, tick=False):
        Chat(hardship_bot, key="member").send("我的申请", expect="您还没有提交过帮扶申请")


def test_the_stage_and_next_step_in_plain_words_and_no_internal_notes(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    case_id = apply(db)
    apply(db, employee_no="1002", story="别人的困难")
    with db() as session:
        chair = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        policy = HardshipPolicy()
        record_contact(
            session,
            actor=chair,
            case_id=case_id,
            expected_version=1,
            note="本人情绪激动，需多关心。",
            policy=policy,
            now=NOW,
        )
        record_visit(
            session,
            actor=chair,
            case_id=case_id,
            expected_version=2,
            visit=VisitRecord(
                visited_on=date(2026, 11, 24),
                visitors="王主席",
                family="爱人无业。",
                mind="压力很大。",
                cause="父亲重病。",
                needs="医药费。",
                notes="邻居反映家里还有外债。",
            ),
            policy=policy,
            now=NOW + timedelta(days=1),
        )
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        Chat(hardship_bot, key="member").send(
            "我的申请",
            expect=["已走访，待决定", "工会正在研究帮扶办法", "重大疾病"],
            absent=["情绪激动", "外债", "压力很大", "王主席", "别人的困难", STORY],
        )
