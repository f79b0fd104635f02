"""A small union with dues, shared by the dues tests: who is where, who collects, who chairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from models.dues.tables import DuesPolicy
from models.members import Member
from models.roles import Role
from models.units import Unit, UnitTree
from tests.factories import make_member

# Thursday 3 December 2026, 09:00 in Shanghai: the month's reminder day.
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
DECEMBER = 202612
POLICY = DuesPolicy()


@dataclass
class Union:
    chair: Member  # 厂工会
    workshop_chair: Member  # 一车间
    treasurer: Member  # 甲班's 会费收缴员
    leader: Member  # 乙班's 工会小组长
    a1: Member  # 甲班, 25.00
    a2: Member  # 甲班, 20.00
    a3: Member  # 甲班, 30.00
    b1: Member  # 乙班, 25.00
    c1: Member  # 二车间/丙班, 25.00

    def unit(self, session: Session, path: str) -> Unit:
        found = UnitTree(session).find(path)
        assert found is not None
        return found


def build_union(session: Session) -> Union:
    """Cadres owe nothing here (月会费 0), so every count below is of the five members."""
    chair = make_member(
        session, employee_no="C0", name="王主席", unit="厂工会", dues_fen=0, roles=[(Role.CHAIR, "厂工会")]
    )
    workshop_chair = make_member(
        session,
        employee_no="C1",
        name="李主席",
        unit="厂工会/一车间",
        dues_fen=0,
        roles=[(Role.CHAIR, "厂工会/一车间")],
    )
    treasurer = make_member(
        session,
        employee_no="T1",
        name="赵收缴员",
        unit="厂工会/一车间/甲班",
        dues_fen=0,
        roles=[(Role.TREASURER, "厂工会/一车间/甲班")],
    )
    leader = make_member(
        session,
        employee_no="G2",
        name="钱组长",
        unit="厂工会/一车间/乙班",
        dues_fen=0,
        roles=[(Role.GROUP_LEADER, "厂工会/一车间/乙班")],
    )
    a1 = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班", dues_fen=2500)
    a2 = make_member(session, employee_no="1002", name="陈静", unit="厂工会/一车间/甲班", dues_fen=2000)
    a3 = make_member(session, employee_no="1003", name="杨帆", unit="厂工会/一车间/甲班", dues_fen=3000)
    b1 = make_member(session, employee_no="2001", name="赵磊", unit="厂工会/一车间/乙班", dues_fen=2500)
    c1 = make_member(session, employee_no="3001", name="高峰", unit="厂工会/二车间/丙班", dues_fen=2500)
    return Union(chair, workshop_chair, treasurer, leader, a1, a2, a3, b1, c1)
