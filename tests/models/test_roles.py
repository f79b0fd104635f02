"""Permissions cover a subtree, and nothing outside it."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from models.errors import InvalidInput, PermissionDenied
from models.members import MemberStatus
from models.roles import (
    Permission,
    Role,
    grant_role,
    has_permission,
    is_cadre,
    parse_role,
    require_permission,
    revoke_role,
)
from models.units import UnitTree
from tests.factories import make_member


def test_a_grant_covers_the_whole_subtree_and_nothing_beside(session: Session) -> None:
    chair = make_member(session, roles=[(Role.CHAIR, "厂工会/一车间")])
    tree = UnitTree(session)
    inside = tree.ensure("厂工会/一车间/甲班/夜班")
    outside = tree.ensure("厂工会/二车间")
    top = tree.ensure("厂工会")
    assert has_permission(session, chair, Permission.SEND_NOTICES, inside)
    assert not has_permission(session, chair, Permission.SEND_NOTICES, outside)
    assert not has_permission(session, chair, Permission.SEND_NOTICES, top)
    with pytest.raises(PermissionDenied):
        require_permission(session, chair, Permission.REVIEW_SUGGESTIONS, outside)


def test_roles_carry_their_own_permissions(session: Session) -> None:
    treasurer = make_member(session, roles=[(Role.TREASURER, "厂工会")])
    unit = UnitTree(session).ensure("厂工会/一车间")
    assert has_permission(session, treasurer, Permission.RECORD_DUES, unit)
    assert not has_permission(session, treasurer, Permission.HANDLE_HARDSHIP, unit)
    representative = make_member(session, employee_no="2002", roles=[(Role.REPRESENTATIVE, "厂工会")])
    assert not is_cadre(session, representative)
    assert is_cadre(session, treasurer)


def test_only_admin_administers(session: Session) -> None:
    chair = make_member(session, roles=[(Role.CHAIR, "厂工会")])
    admin = make_member(session, employee_no="9001", roles=[(Role.ADMIN, "厂工会")])
    unit = UnitTree(session).ensure("厂工会")
    assert not has_permission(session, chair, Permission.ADMINISTER, unit)
    assert has_permission(session, admin, Permission.ADMINISTER, unit)


def test_a_member_who_left_loses_every_permission(session: Session) -> None:
    chair = make_member(session, roles=[(Role.CHAIR, "厂工会")])
    chair.status = MemberStatus.LEFT
    assert not has_permission(session, chair, Permission.SEND_NOTICES, UnitTree(session).ensure("厂工会"))
    with pytest.raises(InvalidInput):
        grant_role(session, member=chair, role=Role.COMMITTEE, unit=UnitTree(session).ensure("厂工会"))


def test_grant_twice_and_revoke(session: Session) -> None:
    member = make_member(session)
    unit = UnitTree(session).ensure("厂工会")
    first = grant_role(session, member=member, role=Role.COMMITTEE, unit=unit)
    assert grant_role(session, member=member, role=Role.COMMITTEE, unit=unit).id == first.id
    assert revoke_role(session, member=member, role=Role.COMMITTEE, unit=unit)
    assert not revoke_role(session, member=member, role=Role.COMMITTEE, unit=unit)


@pytest.mark.parametrize(
    ("raw", "role"),
    [("工会主席", Role.CHAIR), ("chair", Role.CHAIR), (" 委员 ", Role.COMMITTEE), ("ADMIN", Role.ADMIN)],
)
def test_roles_are_read_in_chinese_or_english(raw: str, role: Role) -> None:
    assert parse_role(raw) is role


def test_unknown_role_lists_the_choices() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_role("老板")
    assert "工会主席" in caught.value.params["choices"]
