"""Facts read once per transaction, and never older than a query in the same transaction would be."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.accounts import ChatAccount, accounts_of, bind_account, identify, unbind_account
from models.db import SessionFactory
from models.facts import keep_loaded
from models.members import Member
from models.roles import Permission, Role, RoleGrant, grant_role, grants_of, has_permission, revoke_role
from models.units import Unit, UnitTree, unit_path
from tests.factories import bind, make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@contextmanager
def statements_run(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session sends meanwhile (transaction control left out)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(" ".join(statement.split()))

    bind = session.get_bind()
    sa.event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(bind, "before_cursor_execute", record)


def member(session: Session, employee_no: str = "1001") -> Member:
    return session.exec(select(Member).where(Member.employee_no == employee_no)).one()


def unit(session: Session, path: str) -> Unit:
    return UnitTree(session).ensure(path)


def test_a_members_grants_are_read_once_however_often_they_are_asked(db: SessionFactory) -> None:
    with db() as session:
        make_member(session, roles=[(Role.CHAIR, "厂工会/一车间"), (Role.TREASURER, "厂工会")])
        unit(session, "厂工会/一车间/甲班")
        unit(session, "厂工会/二车间")
    with db() as session:
        chair = member(session)
        inside, beside = unit(session, "厂工会/一车间/甲班"), unit(session, "厂工会/二车间")
        with statements_run(session) as seen:
            assert has_permission(session, chair, Permission.SEND_NOTICES, inside)
            assert not has_permission(session, chair, Permission.SEND_NOTICES, beside)
            assert has_permission(session, chair, Permission.RECORD_DUES, beside)
            assert grants_of(session, chair).holds(Permission.ADMINISTER) is False
            assert [u.name for u in grants_of(session, chair).scope_units(Permission.REVIEW_SUGGESTIONS)] == [
                "一车间"
            ]
        assert len(seen) == 1


def test_a_grant_given_or_taken_in_the_transaction_counts_at_once(session: Session) -> None:
    person = make_member(session)
    workshop = unit(session, "厂工会/一车间")
    assert not has_permission(session, person, Permission.SEND_NOTICES, workshop)
    grant_role(session, member=person, role=Role.COMMITTEE, unit=workshop)
    assert has_permission(session, person, Permission.SEND_NOTICES, workshop)
    revoke_role(session, member=person, role=Role.COMMITTEE, unit=workshop)
    assert not has_permission(session, person, Permission.SEND_NOTICES, workshop)
    # Written by hand and not flushed yet: a query would have flushed it first, and so does the fact.
    assert person.id is not None
    assert workshop.id is not None
    grant = RoleGrant(member_id=person.id, role=Role.CHAIR, unit_id=workshop.id)
    session.add(grant)
    assert has_permission(session, person, Permission.APPRAISE_SUGGESTIONS, workshop)
    session.delete(grant)
    assert not has_permission(session, person, Permission.APPRAISE_SUGGESTIONS, workshop)


def test_a_grant_moved_to_another_unit_covers_the_new_one(session: Session) -> None:
    person = make_member(session, roles=[(Role.CHAIR, "厂工会/一车间")])
    first, second = unit(session, "厂工会/一车间"), unit(session, "厂工会/二车间")
    assert has_permission(session, person, Permission.SEND_NOTICES, first)
    grant = session.exec(select(RoleGrant)).one()
    assert second.id is not None
    grant.unit_id = second.id
    assert has_permission(session, person, Permission.SEND_NOTICES, second)
    assert not has_permission(session, person, Permission.SEND_NOTICES, first)


@pytest.mark.parametrize(
    "statement",
    [sa.delete(RoleGrant), sa.text("DELETE FROM role_grant")],
    ids=["bulk delete", "raw SQL"],
)
def test_a_bulk_statement_forgets_what_it_may_have_changed(
    session: Session, statement: sa.Executable
) -> None:
    person = make_member(session, roles=[(Role.CHAIR, "厂工会")])
    top = unit(session, "厂工会")
    assert has_permission(session, person, Permission.SEND_NOTICES, top)
    session.execute(statement)
    assert not has_permission(session, person, Permission.SEND_NOTICES, top)


def test_a_new_transaction_reads_again(db: SessionFactory) -> None:
    with db() as session:
        make_member(session)
        unit(session, "厂工会")
    with db() as session:
        person, top = member(session), unit(session, "厂工会")
        assert not has_permission(session, person, Permission.SEND_NOTICES, top)
        session.commit()
        with db() as other:
            grant_role(other, member=member(other), role=Role.CHAIR, unit=unit(other, "厂工会"))
        assert has_permission(session, person, Permission.SEND_NOTICES, top)


def test_a_rolled_back_savepoint_takes_its_grants_along(session: Session) -> None:
    person = make_member(session)
    top = unit(session, "厂工会")
    savepoint = session.begin_nested()
    grant_role(session, member=person, role=Role.CHAIR, unit=top)
    assert has_permission(session, person, Permission.SEND_NOTICES, top)
    savepoint.rollback()
    assert not has_permission(session, person, Permission.SEND_NOTICES, top)


def test_who_is_writing_comes_with_their_accounts_and_whether_they_hold_a_role(db: SessionFactory) -> None:
    with db() as session:
        plain = make_member(session)
        bind(session, plain, key="plain")
        cadre = make_member(session, employee_no="2002", roles=[(Role.COMMITTEE, "厂工会")])
        bind(session, cadre, key="cadre")
        bind(session, cadre, channel="wechat", key="cadre-wechat")
    with db() as session:
        _account, found = identify(session, channel="telegram", external_id="plain", now=NOW)
        assert found is not None
        with statements_run(session) as seen:
            assert [account.external_id for account in accounts_of(session, found)] == ["plain"]
            assert not grants_of(session, found)
        assert seen == []
    with db() as session:
        _account, found = identify(session, channel="telegram", external_id="cadre", now=NOW)
        assert found is not None
        with statements_run(session) as seen:
            channels = [account.channel for account in accounts_of(session, found)]
            assert channels == ["telegram", "wechat"]
            assert grants_of(session, found).holds(Permission.REVIEW_SUGGESTIONS)
        assert len(seen) == 1  # the grants: a cadre's are read when first asked


def test_binding_and_unbinding_change_the_accounts_at_once(db: SessionFactory) -> None:
    with db() as session:
        person = make_member(session)
        bind(session, person, key="tg")
        session.add(ChatAccount(channel="wechat", external_id="wx"))
    with db() as session:
        account, found = identify(session, channel="telegram", external_id="tg", now=NOW)
        assert found is not None
        assert [a.channel for a in accounts_of(session, found)] == ["telegram"]
        wechat = session.exec(select(ChatAccount).where(ChatAccount.external_id == "wx")).one()
        bind_account(session, account=wechat, member=found, now=NOW)
        assert [a.channel for a in accounts_of(session, found)] == ["telegram", "wechat"]
        unbind_account(session, account=account)  # not flushed: the fact flushes it first
        assert [a.channel for a in accounts_of(session, found)] == ["wechat"]


def test_a_units_path_is_read_once_and_renamed_at_once(session: Session) -> None:
    team = unit(session, "厂工会/一车间/甲班")
    with statements_run(session) as seen:
        assert unit_path(session, team) == "厂工会/一车间/甲班"
        assert unit_path(session, team) == "厂工会/一车间/甲班"
        assert unit_path(session, unit(session, "厂工会/一车间")) == "厂工会/一车间"
    assert sum(statement.startswith("SELECT unit.id, unit.name FROM") for statement in seen) == 1
    workshop = unit(session, "厂工会/一车间")
    workshop.name = "第一车间"
    assert unit_path(session, team) == "厂工会/第一车间/甲班"


def test_what_a_session_loads_is_found_again_while_kept(db: SessionFactory) -> None:
    with db() as session:
        unit_id = unit(session, "厂工会").id
    with db() as session, keep_loaded(session):
        assert session.get(Unit, unit_id) is not None
        gc.collect()  # nothing else holds the unit: only the block keeps it in the identity map
        with statements_run(session) as seen:
            assert session.get(Unit, unit_id) is not None
        assert seen == []
