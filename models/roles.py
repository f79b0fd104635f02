"""Roles and permissions: what a cadre may do, and over which units.

A grant is a role held on a unit; it covers that unit's whole subtree. The
scope check belongs to the domain operation, not to the handler, so a handler
cannot forget it: each cadre's operation in models.notices, models.activities
and models.suggestions asks :func:`has_permission` about the unit concerned, or
:func:`scope_units` for the units the actor may choose from, and refuses with a
:class:`~models.errors.PermissionDenied` worded for what was attempted ("this
notice is not in your units"). :func:`require_permission` is the same check
with a general sentence; no operation uses it today, only the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import overload

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_, InvalidInput, PermissionDenied
from models.facts import Fact
from models.members import Member
from models.units import Unit


class Permission(StrEnum):
    REVIEW_SUGGESTIONS = "review_suggestions"
    # 季评比: ranking and awarding a quarter's suggestions is the chair's call, not every reviewer's.
    APPRAISE_SUGGESTIONS = "appraise_suggestions"
    HANDLE_HARDSHIP = "handle_hardship"
    MANAGE_ACTIVITIES = "manage_activities"
    SEND_NOTICES = "send_notices"
    RECORD_DUES = "record_dues"
    ADMINISTER = "administer"


class Role(StrEnum):
    """Roles found in grassroots unions; each carries a fixed set of permissions."""

    ADMIN = "admin"  # 管理员 (厂工会 staff)
    CHAIR = "chair"  # 工会主席/副主席
    COMMITTEE = "committee"  # 委员
    GROUP_LEADER = "group_leader"  # 工会小组长
    TREASURER = "treasurer"  # 会费收缴员
    REPRESENTATIVE = "representative"  # 职工代表: no permissions, a group notices can target


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CHAIR: frozenset(Permission) - {Permission.ADMINISTER},
    Role.COMMITTEE: frozenset(
        {
            Permission.REVIEW_SUGGESTIONS,
            Permission.HANDLE_HARDSHIP,
            Permission.MANAGE_ACTIVITIES,
            Permission.SEND_NOTICES,
        }
    ),
    Role.GROUP_LEADER: frozenset(
        {Permission.MANAGE_ACTIVITIES, Permission.SEND_NOTICES, Permission.RECORD_DUES}
    ),
    Role.TREASURER: frozenset({Permission.RECORD_DUES}),
    Role.REPRESENTATIVE: frozenset(),
}

ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: N_("管理员"),
    Role.CHAIR: N_("工会主席"),
    Role.COMMITTEE: N_("工会委员"),
    Role.GROUP_LEADER: N_("工会小组长"),
    Role.TREASURER: N_("会费收缴员"),
    Role.REPRESENTATIVE: N_("职工代表"),
}

# How rosters and admins write roles: the code, or the Chinese title.
ROLE_ALIASES: dict[str, Role] = {
    **{role.value: role for role in Role},
    "管理员": Role.ADMIN,
    "工会主席": Role.CHAIR,
    "主席": Role.CHAIR,
    "副主席": Role.CHAIR,
    "工会副主席": Role.CHAIR,
    "委员": Role.COMMITTEE,
    "工会委员": Role.COMMITTEE,
    "小组长": Role.GROUP_LEADER,
    "工会小组长": Role.GROUP_LEADER,
    "会费收缴员": Role.TREASURER,
    "收缴员": Role.TREASURER,
    "职工代表": Role.REPRESENTATIVE,
    "代表": Role.REPRESENTATIVE,
}


_ROLE_TITLES: dict[Role, str] = {role: label for role, label in ROLE_LABELS.items()}


def parse_role(raw: str) -> Role:
    """A role from its code or Chinese title.

    Raises:
        InvalidInput: not a role we know.
    """
    role = ROLE_ALIASES.get(raw.strip().lower()) or ROLE_ALIASES.get(raw.strip())
    if role is None:
        raise InvalidInput(
            "role.unknown",
            N_("不认识的角色“{role}”。可用：{choices}。"),
            role=raw,
            choices="、".join(f"{_ROLE_TITLES[r]}({r.value})" for r in Role),
        )
    return role


class RoleGrant(SQLModel, table=True):
    """A role held on a unit, covering the unit's subtree."""

    __tablename__ = "role_grant"
    __table_args__ = (sa.UniqueConstraint("member_id", "role", "unit_id", name="uq_role_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: Role = Field(sa_type=string_enum(Role, 24))
    unit_id: int = Field(foreign_key="unit.id", index=True)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Grants(Sequence[tuple[RoleGrant, Unit]]):
    """A member's grants with their units, highest unit first: read once, asked many times.

    Every permission question of one message (which menu entries to offer, whether
    an action is in scope) is answered from one read of the member's grants.
    """

    __slots__ = ("_held",)

    def __init__(self, held: Iterable[tuple[RoleGrant, Unit]] = ()) -> None:
        self._held = tuple(held)

    @overload
    def __getitem__(self, index: int) -> tuple[RoleGrant, Unit]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[RoleGrant, Unit]]: ...

    def __getitem__(self, index: int | slice) -> tuple[RoleGrant, Unit] | Sequence[tuple[RoleGrant, Unit]]:
        return self._held[index]

    def __len__(self) -> int:
        return len(self._held)

    def __repr__(self) -> str:
        return f"Grants({[(grant.role.value, unit.id) for grant, unit in self._held]!r})"

    def scope_units(self, permission: Permission) -> list[Unit]:
        """The units whose subtrees these grants act on with ``permission``."""
        return [unit for grant, unit in self._held if permission in ROLE_PERMISSIONS[grant.role]]

    def holds(self, permission: Permission) -> bool:
        """Whether some grant carries ``permission``, over whatever unit: who is offered a feature."""
        return any(permission in ROLE_PERMISSIONS[grant.role] for grant, _unit in self._held)

    def covers(self, permission: Permission, unit: Unit) -> bool:
        """Whether a grant with ``permission`` covers ``unit`` (its unit is ``unit`` or above it)."""
        return any(root.contains(unit) for root in self.scope_units(permission))

    @property
    def cadre(self) -> bool:
        """Whether some grant carries a permission at all (a 职工代表 alone carries none)."""
        return any(ROLE_PERMISSIONS[grant.role] for grant, _unit in self._held)


NO_GRANTS = Grants()

# Built once: it runs for nearly every message that shows the menu.
_GRANTS_OF = (
    select(RoleGrant, Unit)
    .join(Unit, col(Unit.id) == RoleGrant.unit_id)
    .where(RoleGrant.member_id == sa.bindparam("member_id"))
    .order_by(col(Unit.id_path), col(RoleGrant.role))
)
# A unit's id_path orders the grants and decides what they cover.
_GRANTS = Fact[int, Grants]("grants", {RoleGrant: None, Unit: ("id_path",)})


def grants_of(session: Session, member: Member) -> Grants:
    """A member's grants with their units, highest unit first; read once per transaction (models.facts)."""
    member_id = member.id
    if member_id is None:
        return NO_GRANTS

    def read() -> Grants:
        rows = session.execute(_GRANTS_OF, {"member_id": member_id}).all()
        return Grants((grant, unit) for grant, unit in rows)

    return _GRANTS.recall(session, member_id, read)


def note_no_grants(session: Session, member_id: int) -> None:
    """Tell this transaction the member holds no role, seen by a query that read something else.

    Who is writing is read with whether they hold any role (models.accounts.identify):
    most members hold none, and their menu then needs no read of grants at all.
    """
    _GRANTS.remember(session, member_id, NO_GRANTS)


def scope_units(session: Session, member: Member, permission: Permission) -> list[Unit]:
    """The units whose subtrees the member may act on with this permission."""
    return grants_of(session, member).scope_units(permission)


def has_permission(session: Session, member: Member, permission: Permission, unit: Unit) -> bool:
    """True when one of the member's grants with this permission covers ``unit``."""
    if not member.is_active:
        return False
    return grants_of(session, member).covers(permission, unit)


def is_cadre(session: Session, member: Member) -> bool:
    """True when the member holds any role that carries a permission."""
    return grants_of(session, member).cadre


def require_permission(session: Session, actor: Member, permission: Permission, unit: Unit) -> None:
    """Refuse unless ``actor`` holds ``permission`` over ``unit``.

    Raises:
        PermissionDenied: no grant of the actor covers the unit with that permission.
    """
    if not has_permission(session, actor, permission, unit):
        raise PermissionDenied("permission.denied", N_("抱歉，您没有处理这个单位此项事务的权限。"))


def grant_role(session: Session, *, member: Member, role: Role, unit: Unit) -> RoleGrant:
    """Give ``member`` the ``role`` on ``unit``; granting twice changes nothing.

    Raises:
        InvalidInput: the member is not active (left or transferred out).
    """
    if not member.is_active:
        raise InvalidInput(
            "role.member_inactive", N_("{name} 不是在册会员，不能授予角色。"), name=member.name
        )
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.member_id == member.id, RoleGrant.role == role, RoleGrant.unit_id == unit.id
        )
    ).first()
    if existing is not None:
        return existing
    assert member.id is not None
    assert unit.id is not None
    grant = RoleGrant(member_id=member.id, role=role, unit_id=unit.id)
    session.add(grant)
    session.flush()
    return grant


def revoke_role(session: Session, *, member: Member, role: Role, unit: Unit) -> bool:
    """Take the role back; False when the member did not hold it there."""
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.member_id == member.id, RoleGrant.role == role, RoleGrant.unit_id == unit.id
        )
    ).first()
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True
