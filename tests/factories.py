"""Builders for test data, with hostile defaults: markup, emoji and long CJK in names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from models.members import Member
from models.roles import Role, grant_role
from models.units import UnitTree

HOSTILE_NAME = "张<b>三</b>_*[🌟"


def make_member(
    session: Session,
    *,
    employee_no: str = "1001",
    name: str = HOSTILE_NAME,
    unit: str = "厂工会/一车间/甲班",
    phone: str | None = "13800001234",
    dues_fen: int = 2500,
    roles: Sequence[tuple[Role, str]] = (),
) -> Member:
    tree = UnitTree(session)
    unit_id = tree.ensure(unit).id
    assert unit_id is not None
    member = Member(
        employee_no=employee_no, name=name, unit_id=unit_id, phone=phone, monthly_dues_fen=dues_fen
    )
    session.add(member)
    session.flush()
    for role, path in roles:
        grant_role(session, member=member, role=role, unit=tree.ensure(path))
    return member
