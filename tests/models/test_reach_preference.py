"""A member's preferred push channel: only one they are bound on."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from models.accounts import ChatAccount
from models.errors import InvalidInput
from models.reach import push_channels_of, set_preferred_channel
from tests.factories import make_member


def test_a_channel_the_member_is_not_bound_on_cannot_come_first(session: Session) -> None:
    member = make_member(session)
    session.add(ChatAccount(channel="telegram", external_id="42", member_id=member.id))
    session.add(ChatAccount(channel="console", external_id="local", member_id=member.id))
    session.flush()
    assert push_channels_of(session, member) == ["telegram"]  # the console takes no pushes

    with pytest.raises(InvalidInput) as refused:
        set_preferred_channel(session, member=member, channel="wechat")
    assert refused.value.code == "reach.channel_not_bound"
    assert member.preferred_channel is None

    set_preferred_channel(session, member=member, channel="telegram")
    assert member.preferred_channel == "telegram"
    set_preferred_channel(session, member=member, channel=None)
    assert member.preferred_channel is None
