"""How a push reaches a member: which account, on which channel, in which form.

One rule for the delivery worker (what it tries, in order) and for a cadre's
notice preview (how each recipient will be reached), so the preview never
promises what the worker will not do.

A member with accounts on both channels gets a push on their preferred channel
only (set in 我的信息), the other one only when the preferred fails for good.
Without a preference, the account they used last comes first. A WeChat account
takes a customer-service message within 48 hours of the member's last message,
a template message after that, and nothing when no template is configured for
the kind of push.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.accounts import Channel, ChatAccount, accounts_of
from models.base import utcnow
from models.errors import N_, InvalidInput
from models.members import Member, MemberStatus
from models.outbox import PushKind

# WeChat: customer-service messages only within 48 hours of the member's last message.
CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)
PUSH_CHANNELS = (Channel.TELEGRAM, Channel.WECHAT)


class Reach(StrEnum):
    TELEGRAM = "telegram"  # a Telegram message
    WECHAT_SERVICE = "wechat_service"  # a WeChat customer-service message (within 48 h)
    WECHAT_TEMPLATE = "wechat_template"  # a WeChat template message
    NONE = "none"  # no active account that can take it


def reach_of(
    account: ChatAccount, *, kind: PushKind, now: datetime, template_kinds: Collection[str]
) -> Reach:
    """How a push of ``kind`` would go to this one account, or NONE."""
    if not account.active or account.member_id is None:
        return Reach.NONE
    if account.channel == Channel.TELEGRAM:
        return Reach.TELEGRAM
    if account.channel == Channel.WECHAT:
        if account.last_seen_at is not None and now - account.last_seen_at < CUSTOMER_SERVICE_WINDOW:
            return Reach.WECHAT_SERVICE
        return Reach.WECHAT_TEMPLATE if kind.value in template_kinds else Reach.NONE
    return Reach.NONE  # the console is not a channel anyone is pushed to


def routes(
    member: Member,
    accounts: Iterable[ChatAccount],
    *,
    kind: PushKind,
    now: datetime,
    template_kinds: Collection[str],
) -> list[tuple[ChatAccount, Reach]]:
    """The accounts to try for one push, in order; empty when nothing can reach the member."""
    if member.status is not MemberStatus.ACTIVE:
        return []
    usable = [
        (account, reach)
        for account in accounts
        if (reach := reach_of(account, kind=kind, now=now, template_kinds=template_kinds)) is not Reach.NONE
    ]

    def order(item: tuple[ChatAccount, Reach]) -> tuple[bool, float]:
        account = item[0]
        preferred = member.preferred_channel is not None and account.channel == member.preferred_channel
        seen = account.last_seen_at.timestamp() if account.last_seen_at is not None else -math.inf
        return (not preferred, -seen)  # preferred first, then the account used last

    return sorted(usable, key=order)


# Built once: the delivery worker asks for every batch it renders (a statement built per call is
# also re-keyed for SQLAlchemy's compiled cache per call, bench/RESULTS.md).
_PUSH_ACCOUNTS = select(ChatAccount).where(
    col(ChatAccount.member_id).in_(sa.bindparam("member_ids", expanding=True)),
    col(ChatAccount.channel).in_([channel.value for channel in PUSH_CHANNELS]),
)


def push_accounts(session: Session, member_ids: Sequence[int]) -> dict[int, list[ChatAccount]]:
    """The members' accounts on channels that take pushes, by member id (one query per 1,000)."""
    found: dict[int, list[ChatAccount]] = {member_id: [] for member_id in member_ids}
    for start in range(0, len(member_ids), 1000):
        chunk = member_ids[start : start + 1000]
        for account in session.exec(_PUSH_ACCOUNTS, params={"member_ids": list(chunk)}):
            assert account.member_id is not None
            found[account.member_id].append(account)
    return found


def plan_reach(
    session: Session,
    member_ids: Sequence[int],
    *,
    kind: PushKind,
    now: datetime,
    template_kinds: Collection[str],
) -> dict[int, Reach]:
    """How each member would be reached now: the first route, or NONE. For a notice's preview."""
    accounts = push_accounts(session, member_ids)
    plan: dict[int, Reach] = {}
    for start in range(0, len(member_ids), 1000):
        chunk = member_ids[start : start + 1000]
        for member in session.exec(select(Member).where(col(Member.id).in_(chunk))):
            assert member.id is not None
            first = routes(member, accounts[member.id], kind=kind, now=now, template_kinds=template_kinds)
            plan[member.id] = first[0][1] if first else Reach.NONE
    for member_id in member_ids:
        plan.setdefault(member_id, Reach.NONE)
    return plan


def push_channels_in(accounts: Iterable[ChatAccount]) -> list[str]:
    """The channels among a member's bound ``accounts`` that take pushes, in a stable order."""
    bound = {account.channel for account in accounts}
    return [channel.value for channel in PUSH_CHANNELS if channel.value in bound]


def push_channels_of(session: Session, member: Member) -> list[str]:
    """The channels the member is bound on that take pushes, in a stable order."""
    return push_channels_in(accounts_of(session, member))


def set_preferred_channel(session: Session, *, member: Member, channel: str | None) -> None:
    """Send the member's pushes to ``channel`` first (None: to the channel they used last).

    Raises:
        InvalidInput: the member is not bound on that channel, so it could never come first.
    """
    if channel is not None and channel not in push_channels_of(session, member):
        raise InvalidInput(
            "reach.channel_not_bound", N_("您还没有在这个渠道绑定会员身份，不能把通知设为发到那里。")
        )
    member.preferred_channel = channel
    member.updated_at = utcnow()
    session.add(member)
