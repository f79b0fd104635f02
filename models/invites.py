"""One-time binding codes, for members without a phone on the roster or who prefer a link.

Only a hash of the code is stored: a leaked database does not hand out
bindings. Codes avoid look-alike characters (0/O, 1/I/L) because members read
them off paper and type them on phones.

A member binds with a code through :func:`redeem_invite_for_binding`, which counts
wrong codes against the account like wrong phone digits (models.accounts): however
many codes one tries, a cooldown comes after a few wrong ones, and no code (not even
a valid one) is used up while it runs.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, select

from models.accounts import BindingPolicy, ChatAccount, check_cooldown, record_wrong_code
from models.base import UTCDateTime, utcnow
from models.ephemeral import EphemeralStore
from models.errors import N_, InvalidInput
from models.members import Member, clean_employee_no, normalise_digits

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class InviteCode(SQLModel, table=True):
    __tablename__ = "invite_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_code(raw: str) -> str | None:
    """The code as stored, or None when ``raw`` cannot be a code at all."""
    value = normalise_digits(raw).upper().replace("-", "").replace(" ", "")
    if len(value) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in value):
        return None
    return value


def format_code(code: str) -> str:
    """ABCD-EFGH: easier to read aloud and copy by hand."""
    return f"{code[:4]}-{code[4:]}"


def create_invite(session: Session, *, member: Member, now: datetime, ttl: timedelta) -> str:
    """A fresh one-time code for ``member``; earlier unused codes stay valid until they expire.

    Raises:
        InvalidInput: the member is not active.
    """
    if not member.is_active:
        raise InvalidInput(
            "invite.member_inactive", N_("{name} 不是在册会员，不能生成绑定码。"), name=member.name
        )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    assert member.id is not None
    session.add(InviteCode(code_hash=_hash(code), member_id=member.id, expires_at=now + ttl, created_at=now))
    session.flush()
    return code


def redeem_invite(session: Session, *, code: str, now: datetime) -> Member | None:
    """Use up a code and return its member; None when unknown, used or expired.

    The row is marked used by a conditional UPDATE, so two accounts redeeming
    the same code at once cannot both win.
    """
    normalised = normalise_code(code)
    if normalised is None:
        return None
    invite = session.exec(select(InviteCode).where(InviteCode.code_hash == _hash(normalised))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    table = InviteCode.__table__  # type: ignore[attr-defined]
    claimed = session.execute(
        table.update().where(table.c.id == invite.id, table.c.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.expire(invite)
    member = session.get(Member, invite.member_id)
    if member is None or not member.is_active:
        return None
    return member


def redeem_invite_for_binding(
    session: Session,
    store: EphemeralStore,
    policy: BindingPolicy,
    *,
    account: ChatAccount,
    code: str,
    now: datetime,
    typed_as_employee_no: bool = False,
) -> Member | None:
    """:func:`redeem_invite` for an account binding itself, wrong codes counted.

    ``typed_as_employee_no``: the text was typed where a 工号 is asked, so it may be a
    工号 shaped like a code (23456789); such a text is not counted when a member has
    that 工号 (its phone digits are checked, and counted, next).

    Raises:
        BindingCooldown: the account is cooling down (checked before the code is
            used), or this wrong code reached the limit.
    """
    check_cooldown(store, account=account, employee_no=None, now=now)
    member = redeem_invite(session, code=code, now=now)
    if member is not None:
        return member
    # Text no code could be (a deep link's campaign word) binds nobody: nothing to count.
    if normalise_code(code) is None:
        return None
    if typed_as_employee_no and _is_employee_no(session, code):
        return None
    record_wrong_code(store, policy, account=account, now=now)
    return None


def _is_employee_no(session: Session, text: str) -> bool:
    try:
        key = clean_employee_no(text)
    except InvalidInput:
        return False
    return session.exec(select(Member.id).where(Member.employee_no == key)).first() is not None
