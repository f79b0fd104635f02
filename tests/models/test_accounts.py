"""Chat accounts: first contact, last seen, blocked and back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models.accounts import bind_account, deactivate_account, identify, member_of, touch_account
from models.db import SessionFactory
from models.members import MemberStatus
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_last_seen_moves_at_most_once_a_minute(session: Session) -> None:
    account = touch_account(session, channel="telegram", external_id="7", now=NOW)
    assert account.last_seen_at == NOW
    touch_account(session, channel="telegram", external_id="7", now=NOW + timedelta(seconds=30))
    assert account.last_seen_at == NOW
    later = NOW + timedelta(minutes=2)
    assert touch_account(session, channel="telegram", external_id="7", now=later).last_seen_at == later


def test_a_blocked_account_is_active_again_when_its_owner_writes(session: Session) -> None:
    member = make_member(session)
    account = touch_account(session, channel="telegram", external_id="7", now=NOW)
    account.member_id = member.id
    session.flush()
    assert deactivate_account(session, channel="telegram", external_id="7")
    assert not account.active
    assert member_of(session, account) is not None  # still bound, just not pushed to
    assert touch_account(session, channel="telegram", external_id="7", now=NOW).active
    assert not deactivate_account(session, channel="telegram", external_id="nobody")


def test_identify_brings_the_account_and_its_active_member_in_one_query(db: SessionFactory) -> None:
    with db() as session:
        member = make_member(session)
        account = touch_account(session, channel="telegram", external_id="7", now=NOW)
        bind_account(session, account=account, member=member, now=NOW)
    with db() as session, statements_run(session) as statements:
        account, found = identify(session, channel="telegram", external_id="7", now=NOW)
        assert found is not None
        assert found.employee_no == "1001"
        assert account.member_id == found.id
        assert len(statements) == 1
        found.status = MemberStatus.LEFT
    with db() as session:
        account, found = identify(session, channel="telegram", external_id="7", now=NOW)
        assert found is None  # still bound, but no longer a member
        assert account.member_id is not None


def test_identify_creates_an_unknown_account(session: Session) -> None:
    account, member = identify(session, channel="telegram", external_id="8", now=NOW)
    assert account.id is not None
    assert member is None
    assert account.last_seen_at == NOW


@contextmanager
def statements_run(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session sends meanwhile (transaction control left out)."""
    statements: list[str] = []
    bind = session.get_bind()

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    sa.event.listen(bind, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(bind, "before_cursor_execute", record)
