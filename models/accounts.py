"""Chat accounts and binding: who is writing, and which member they are.

An account is one identity on one channel (a Telegram user id, a WeChat
openid, a console session). It exists before it is bound, so an unbound
person's language and half-filled binding form have somewhere to live. A
member may have accounts on several channels, but one per channel: binding a
second one on the same channel replaces the first, after the member confirms.

Binding checks 工号 and the last four digits of the phone on the roster. Those
four digits are guessable, so wrong tries are counted per account, per 工号 (an
attacker rotating accounts still hits the 工号 limit) and per member behind the
account (the member it was last bound to: unbinding sheds nothing), and the reply
never tells which of the two was wrong. A success clears only its own 工号's
count, never the account's, and wrong binding codes count against the account
too (models.invites). Binding itself is limited (:func:`bind_own_account`), so
binding and unbinding in turn buys no fresh tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, utcnow
from models.dialog_state import DIALOG_TABLE, OPEN_DIALOG_COLUMNS, note_open_dialog
from models.ephemeral import EphemeralStore
from models.errors import N_, DomainError, InvalidInput
from models.facts import Fact
from models.members import Member, clean_employee_no, normalise_digits
from models.roles import RoleGrant, note_no_grants

LAST_SEEN_PRECISION = timedelta(minutes=1)


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    CONSOLE = "console"


class ChatAccount(SQLModel, table=True):
    """One identity on one channel, bound to a member or not yet."""

    __tablename__ = "chat_account"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id", name="uq_chat_account_channel_external"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    locale: str | None = Field(default=None, max_length=8)
    active: bool = Field(default=True)
    bound_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class BindingPolicy:
    """How forgiving binding is; every number is a setting.

    ``max_attempts`` wrong tries (wrong digits or wrong codes) start a ``cooldown``;
    ``max_binds`` successful bindings within ``binds_window`` make the account (and
    the member) wait out the window before binding again.
    """

    max_attempts: int = 3
    cooldown: timedelta = timedelta(minutes=15)
    max_binds: int = 5
    binds_window: timedelta = timedelta(hours=24)


class BindingCooldown(DomainError):
    """Too many wrong tries, or too many bindings lately; the member must wait (the wait is named)."""


class WrongCredentials(DomainError):
    """工号 and phone digits do not match a member (we never say which)."""


class AlreadyBoundElsewhere(DomainError):
    """The member already has another account on this channel; confirm to replace it."""


# Built once (it runs on every message): a reused statement keeps its cache key. One row per
# account bound to the member (one row when unbound), each saying whether the member holds a role
# and carrying the account's open dialog.
_OTHER = orm.aliased(ChatAccount)
_WHO = (
    sa.select(
        ChatAccount,
        Member,
        _OTHER,
        sa.exists().where(col(RoleGrant.member_id) == col(Member.id)).label("holds_roles"),
        *OPEN_DIALOG_COLUMNS,
    )
    .outerjoin(Member, col(Member.id) == col(ChatAccount.member_id))
    .outerjoin(_OTHER, col(_OTHER.member_id) == col(Member.id))
    .outerjoin(DIALOG_TABLE, DIALOG_TABLE.c.account_id == col(ChatAccount.id))
    .where(
        col(ChatAccount.channel) == sa.bindparam("channel"),
        col(ChatAccount.external_id) == sa.bindparam("external_id"),
    )
)
# The accounts bound to one member; the membership columns decide which accounts those are.
_ACCOUNTS = Fact[int, tuple[ChatAccount, ...]]("accounts", {ChatAccount: ("member_id", "channel")})


@dataclass(frozen=True)
class _Seen:
    """One row of :data:`_WHO`."""

    account: ChatAccount
    member: Member | None
    bound: ChatAccount | None  # one of the accounts bound to the member
    holds_roles: bool
    dialog: tuple[Any, ...]  # OPEN_DIALOG_COLUMNS


def _who(session: Session, params: dict[str, str]) -> list[_Seen]:
    return [
        _Seen(row[0], row[1], row[2], bool(row[3]), tuple(row[4:])) for row in session.execute(_WHO, params)
    ]


def touch_account(session: Session, *, channel: str, external_id: str, now: datetime) -> ChatAccount:
    """The account for this channel identity, created on first contact.

    Concurrent first messages from one person (WeChat retries, double taps)
    may race to create it: the unique constraint settles the race and the
    loser reads the winner's row.
    """
    return identify(session, channel=channel, external_id=external_id, now=now)[0]


def identify(
    session: Session, *, channel: str, external_id: str, now: datetime
) -> tuple[ChatAccount, Member | None]:
    """Who is writing: the account (as :func:`touch_account`) and :func:`member_of` it, in one query.

    The same query brings what nearly every message asks next and keeps it for the
    transaction (models.facts): the member's accounts (:func:`accounts_of`, which the
    menu asks to offer 推送渠道) and, when the member holds no role, that they hold
    none, so the menu's permission checks need no read of grants.
    """
    params = {"channel": channel, "external_id": external_id}
    rows = _who(session, params)
    if not rows:
        account = ChatAccount(channel=channel, external_id=external_id, created_at=now, last_seen_at=now)
        try:
            with session.begin_nested():
                session.add(account)
            rows = [_Seen(account, None, None, False, (None,) * len(OPEN_DIALOG_COLUMNS))]
        except sa.exc.IntegrityError:
            rows = _who(session, params)
    account, member = rows[0].account, rows[0].member
    assert account.id is not None
    note_open_dialog(session, account.id, rows[0].dialog)
    # A minute's precision is enough (WeChat's 48-hour reply window is the
    # finest use) and saves an UPDATE on most messages.
    if account.last_seen_at is None or now - account.last_seen_at >= LAST_SEEN_PRECISION:
        account.last_seen_at = now
    # Whoever writes to us can be reached again (unblocked, re-followed).
    if not account.active:
        account.active = True
    if member is None or not member.is_active:
        return account, None
    assert member.id is not None
    bound = sorted((row.bound for row in rows if row.bound is not None), key=lambda other: other.channel)
    _ACCOUNTS.remember(session, member.id, tuple(bound))
    if not rows[0].holds_roles:
        note_no_grants(session, member.id)
    return account, member


def deactivate_account(session: Session, *, channel: str, external_id: str) -> bool:
    """Stop pushing to an account the channel says is unreachable (blocked, unsubscribed).

    The binding stays: when the person writes again the account is active again.
    Returns False when we have no such account.
    """
    account = session.exec(
        select(ChatAccount).where(ChatAccount.channel == channel, ChatAccount.external_id == external_id)
    ).first()
    if account is None:
        return False
    account.active = False
    session.add(account)
    return True


def member_of(session: Session, account: ChatAccount) -> Member | None:
    """The member an account is bound to, when bound and the member still active."""
    if account.member_id is None:
        return None
    member = session.get(Member, account.member_id)
    if member is None or not member.is_active:
        return None
    return member


def accounts_of(session: Session, member: Member) -> list[ChatAccount]:
    """Every account bound to the member, by channel; read once per transaction (models.facts)."""
    member_id = member.id
    if member_id is None:
        return []

    def read() -> tuple[ChatAccount, ...]:
        bound = select(ChatAccount).where(ChatAccount.member_id == member_id)
        return tuple(session.exec(bound.order_by(col(ChatAccount.channel))))

    return list(_ACCOUNTS.recall(session, member_id, read))


def _failure_keys(store: EphemeralStore, account: ChatAccount, employee_no: str | None) -> list[str]:
    """Who a wrong try is counted against: the account, the 工号 tried, and the member behind the account.

    The member behind an unbound account is the one it was last bound to (remembered for
    the longest window at binding): unbinding one's own 工号 does not shed one's count.
    """
    keys = [f"bind:account:{account.id}"]
    if employee_no:
        keys.append(f"bind:employee:{employee_no}")
    owner = str(account.member_id) if account.member_id is not None else store.get(_owner_key(account))
    if owner:
        keys.append(f"bind:member:{owner}")
    return keys


def _owner_key(account: ChatAccount) -> str:
    return f"bind:owner:{account.id}"


def _binds_keys(account: ChatAccount, member_id: int | str | None) -> list[str]:
    keys = [f"bind:binds:account:{account.id}"]
    if member_id is not None:
        keys.append(f"bind:binds:member:{member_id}")
    return keys


def _wait(remaining: timedelta, *, too_often: bool) -> BindingCooldown:
    """The refusal, naming the wait in minutes, or in hours when it is long."""
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    if not too_often:
        return BindingCooldown(
            "bind.cooldown", N_("尝试次数过多，请 {minutes} 分钟后再试。"), minutes=minutes
        )
    if minutes <= 90:
        return BindingCooldown(
            "bind.too_often",
            N_("最近绑定次数太多。为保护会员信息，请 {minutes} 分钟后再绑定。"),
            minutes=minutes,
        )
    return BindingCooldown(
        "bind.too_often",
        N_("最近绑定次数太多。为保护会员信息，请 {hours} 小时后再绑定。"),
        hours=-(-minutes // 60),
    )


def _raise_if_locked(store: EphemeralStore, keys: list[str], now: datetime, *, too_often: bool) -> None:
    """Refuse with the longest wait of ``keys``: the time named is when binding works again."""
    remaining = timedelta(0)
    for key in keys:
        until = store.get(f"{key}:locked")
        if until is not None:
            remaining = max(remaining, datetime.fromisoformat(until) - now)
    if remaining > timedelta(0):
        raise _wait(remaining, too_often=too_often)


def check_cooldown(
    store: EphemeralStore, *, account: ChatAccount, employee_no: str | None, now: datetime
) -> None:
    """Refuse while a cooldown runs for the account, the 工号, or the member behind the account.

    Also refuses while the account has bound too often lately: asked before anything
    is typed or a code is used up, so the member learns the wait at once.

    Raises:
        BindingCooldown: with the wait named (minutes, or hours when long).
    """
    _raise_if_locked(store, _failure_keys(store, account, employee_no), now, too_often=False)
    _raise_if_locked(store, _binds_keys(account, None), now, too_often=True)


def _record_failure(
    store: EphemeralStore,
    policy: BindingPolicy,
    *,
    account: ChatAccount,
    employee_no: str | None,
    now: datetime,
) -> int:
    """Count a wrong try; start a cooldown at the limit. Returns the tries left."""
    window = int(policy.cooldown.total_seconds())
    left = policy.max_attempts
    for key in _failure_keys(store, account, employee_no):
        count = store.incr(f"{key}:failures", window)
        if count >= policy.max_attempts:
            until = now + policy.cooldown
            store.set(f"{key}:locked", until.isoformat(), window + 60)
            store.delete(f"{key}:failures")
            left = 0
        else:
            left = min(left, policy.max_attempts - count)
    return left


def record_wrong_code(
    store: EphemeralStore, policy: BindingPolicy, *, account: ChatAccount, now: datetime
) -> None:
    """Count a binding code that was not valid against the account (and the member behind it).

    Codes are not guessable in practice (31⁸ of them), but nothing costs the guesser
    anything otherwise; counting them makes 200 wrong codes cost a cooldown like wrong digits do.

    Raises:
        BindingCooldown: this was the try that reached the limit.
    """
    if _record_failure(store, policy, account=account, employee_no=None, now=now) <= 0:
        check_cooldown(store, account=account, employee_no=None, now=now)


def find_member_for_binding(
    session: Session,
    store: EphemeralStore,
    policy: BindingPolicy,
    *,
    account: ChatAccount,
    employee_no: str,
    phone_last4: str,
    now: datetime,
) -> Member:
    """The active member whose 工号 and phone end match, counting wrong tries.

    A wrong try counts against the account, the 工号 and the member behind the
    account; a right one clears only that 工号's count. The account's own count runs
    out with its window, never on success: binding one's own 工号 between guesses at
    another's must not buy fresh guesses.

    Raises:
        BindingCooldown: too many wrong tries for this account, this 工号 or its member.
        InvalidInput: the digits are not four digits (not counted as a try).
        WrongCredentials: no match; says how many tries are left.
    """
    digits = normalise_digits(phone_last4)
    if len(digits) != 4 or not digits.isdigit():
        raise InvalidInput("bind.last4_format", N_("请输入手机号的最后 4 位数字。"))
    try:
        key = clean_employee_no(employee_no)
    except InvalidInput:
        key = normalise_digits(employee_no)[:32]
    check_cooldown(store, account=account, employee_no=key, now=now)
    member = session.exec(select(Member).where(Member.employee_no == key)).first()
    if member is not None and member.is_active and member.phone and member.phone.endswith(digits):
        store.delete(f"bind:employee:{key}:failures")
        return member
    left = _record_failure(store, policy, account=account, employee_no=key, now=now)
    if left <= 0:
        check_cooldown(store, account=account, employee_no=key, now=now)
    raise WrongCredentials("bind.wrong", N_("工号或手机号后四位不正确，您还可以再试 {left} 次。"), left=left)


def other_account_on_channel(session: Session, *, member: Member, account: ChatAccount) -> ChatAccount | None:
    """The member's other bound account on the same channel, if any."""
    return session.exec(
        select(ChatAccount).where(
            ChatAccount.member_id == member.id,
            ChatAccount.channel == account.channel,
            ChatAccount.id != account.id,
        )
    ).first()


def bind_account(
    session: Session, *, account: ChatAccount, member: Member, now: datetime, replace: bool = False
) -> ChatAccount | None:
    """Bind ``account`` to ``member``; returns the account it replaced, if any.

    Raises:
        AlreadyBoundElsewhere: the member has another account on this channel
            and ``replace`` was not confirmed.
        InvalidInput: the member has left or transferred out.
    """
    if not member.is_active:
        raise InvalidInput(
            "bind.member_inactive", N_("该工号不是在册会员，无法绑定。如有疑问请联系本单位工会。")
        )
    previous = other_account_on_channel(session, member=member, account=account)
    if previous is not None and not replace:
        raise AlreadyBoundElsewhere(
            "bind.replace_needed", N_("您的工号已在另一个账号上绑定。要改用当前账号吗？原账号将解除绑定。")
        )
    if previous is not None:
        previous.member_id = None
        previous.bound_at = None
        session.add(previous)
    assert member.id is not None
    account.member_id = member.id
    account.bound_at = now
    account.active = True
    session.add(account)
    session.flush()
    return previous


def bind_own_account(
    session: Session,
    store: EphemeralStore,
    policy: BindingPolicy,
    *,
    account: ChatAccount,
    member: Member,
    now: datetime,
    replace: bool = False,
) -> ChatAccount | None:
    """A member binds the account they write from (:func:`bind_account`), at most so often.

    Binding and unbinding again and again is how one would shed counts or hop between
    members; ``policy.max_binds`` bindings within ``policy.binds_window`` (per account and
    per member) make the next wait out the window. The account is remembered as the
    member's for that long, so its wrong tries after unbinding still count on the member.

    Raises:
        BindingCooldown: bound too often lately (the wait is named).
        AlreadyBoundElsewhere, InvalidInput: as :func:`bind_account`.
    """
    assert member.id is not None
    keys = _binds_keys(account, member.id)
    _raise_if_locked(store, keys, now, too_often=True)
    previous = bind_account(session, account=account, member=member, now=now, replace=replace)
    window = int(policy.binds_window.total_seconds())
    for key in keys:
        if store.incr(f"{key}:count", window) >= policy.max_binds:
            store.set(f"{key}:locked", (now + policy.binds_window).isoformat(), window + 60)
            store.delete(f"{key}:count")
    remembered = int(max(policy.binds_window, policy.cooldown).total_seconds())
    store.set(_owner_key(account), str(member.id), remembered)
    return previous


def unbind_account(session: Session, *, account: ChatAccount) -> None:
    """Detach the account from its member; the member record stays as it is."""
    account.member_id = None
    account.bound_at = None
    session.add(account)
