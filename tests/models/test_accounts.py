"""Chat accounts: first contact, last seen, blocked and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from models.accounts import deactivate_account, member_of, touch_account
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
