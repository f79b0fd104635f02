"""One-time binding codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from models.errors import InvalidInput
from models.invites import CODE_ALPHABET, create_invite, format_code, redeem_invite
from models.members import MemberStatus
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_a_code_works_once(session: Session) -> None:
    member = make_member(session)
    code = create_invite(session, member=member, now=NOW, ttl=timedelta(days=7))
    assert len(code) == 8
    assert set(code) <= set(CODE_ALPHABET)
    redeemed = redeem_invite(session, code=format_code(code).lower(), now=NOW)
    assert redeemed is not None
    assert redeemed.id == member.id
    assert redeem_invite(session, code=code, now=NOW) is None


def test_an_expired_code_does_nothing(session: Session) -> None:
    member = make_member(session)
    code = create_invite(session, member=member, now=NOW, ttl=timedelta(days=7))
    assert redeem_invite(session, code=code, now=NOW + timedelta(days=7, seconds=1)) is None


@pytest.mark.parametrize("garbage", ["", "1001", "ABCD-EFG0", "<b>ABCDEFGH</b>", "ABCDEFGHJ"])
def test_things_that_cannot_be_codes_are_not_looked_up(session: Session, garbage: str) -> None:
    assert redeem_invite(session, code=garbage, now=NOW) is None


def test_no_code_for_someone_who_left(session: Session) -> None:
    member = make_member(session)
    member.status = MemberStatus.LEFT
    with pytest.raises(InvalidInput):
        create_invite(session, member=member, now=NOW, ttl=timedelta(days=7))
