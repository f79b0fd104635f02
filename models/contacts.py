"""Whom a member asks in person: the chair of the nearest unit above them that has one."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.members import Member, MemberStatus
from models.roles import Role, RoleGrant
from models.units import PATH_SEPARATOR, Unit


def union_chair_for(session: Session, member: Member) -> tuple[Member, Unit] | None:
    """The chair (工会主席) of the member's own unit, or of the nearest unit above with one.

    A 班组 seldom has a chair of its own; its 车间's chair is who members are sent to.
    One query: every chair grant on the units along the member's path, the nearest first.
    """
    unit = session.get(Unit, member.unit_id)
    if unit is None:
        return None
    ids = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]
    rows = session.exec(
        select(Member, Unit)
        .join(RoleGrant, col(RoleGrant.member_id) == col(Member.id))
        .join(Unit, col(Unit.id) == col(RoleGrant.unit_id))
        .where(RoleGrant.role == Role.CHAIR, col(RoleGrant.unit_id).in_(ids))
        .where(Member.status == MemberStatus.ACTIVE)
    ).all()
    depth = {unit_id: position for position, unit_id in enumerate(ids)}
    nearest = sorted(rows, key=lambda row: (-depth[row[1].id or 0], row[0].id or 0))
    return (nearest[0][0], nearest[0][1]) if nearest else None
