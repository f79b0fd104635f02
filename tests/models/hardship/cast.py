"""The people and applications the hardship model tests share (fixtures imported by each test file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from models.hardship import CaseDraft, HardshipCase, HardshipCategory, HardshipPolicy, HelpKind, submit_case
from models.members import Member
from models.roles import Role
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
STORY = "丈夫车祸后卧床，孩子读初中，家里只靠我一人工资。"


@dataclass
class Cast:
    top: Member  # 厂工会 chair
    chair: Member  # 一车间 chair
    other: Member  # 二车间 committee
    member: Member  # 一车间/甲班
    group_member: Member  # 一车间/乙班/一组: no handler on 乙班


@pytest.fixture
def cast(session: Session) -> Cast:
    return Cast(
        top=make_member(
            session, employee_no="T1", name="赵主席", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
        ),
        chair=make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")]),
        other=make_member(
            session,
            employee_no="O1",
            name="钱委员",
            unit="厂工会/二车间",
            roles=[(Role.COMMITTEE, "厂工会/二车间")],
        ),
        member=make_member(session, employee_no="1001", name="李娜"),
        group_member=make_member(session, employee_no="1002", name="孙强", unit="厂工会/一车间/乙班/一组"),
    )


def draft(*, urgent: bool = False, story: str = STORY, **changes: Any) -> CaseDraft:
    values: dict[str, Any] = {
        "consented": True,
        "category": HardshipCategory.FAMILY,
        "story": story,
        "household_size": 3,
        "income_fen": 250000,
        "help_wanted": [HelpKind.RELIEF, HelpKind.SCHOOLING],
        "urgent": urgent,
        "contact_way": "下班后打手机",
    }
    values.update(changes)
    return CaseDraft(**values)


def apply(session: Session, member: Member, *, now: datetime = NOW, **changes: Any) -> HardshipCase:
    return submit_case(session, actor=member, draft=draft(**changes), policy=HardshipPolicy(), now=now)
