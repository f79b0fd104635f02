"""Members of the union (会员/职工), as the roster (花名册) lists them."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, select

from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_, InvalidInput, NotFound
from models.names import NAME_HIDDEN, clean_label, trim
from models.sealed import Sealed

EMPLOYEE_NO_MAX = 32
NAME_MAX = 64
PHONE_MAX = 20
MAX_MONTHLY_DUES_FEN = 1_000_000  # 10,000 元: far above any real monthly due, catches typos


class MemberStatus(StrEnum):
    """会员状态. Only active members can bind and receive pushes."""

    ACTIVE = "active"  # 在册
    TRANSFERRED = "transferred"  # 转出 (流动会籍)
    LEFT = "left"  # 退会


STATUS_LABELS: dict[MemberStatus, str] = {
    MemberStatus.ACTIVE: N_("在册"),
    MemberStatus.TRANSFERRED: N_("转出"),
    MemberStatus.LEFT: N_("退会"),
}


class Member(SQLModel, table=True):
    """A member. 工号 is the key the union and the employer share."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    employee_no: str = Field(max_length=EMPLOYEE_NO_MAX, unique=True)
    name: str = Field(max_length=NAME_MAX)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    # Sealed with the data key (models.sealed): the phone's last four digits are the binding secret.
    phone: str | None = Field(default=None, sa_type=Sealed("member.phone", PHONE_MAX))
    status: MemberStatus = Field(default=MemberStatus.ACTIVE, sa_type=string_enum(MemberStatus, 16))
    # Money is kept in 分 (fen): exact on every database, no float rounding.
    monthly_dues_fen: int = Field(default=0)
    locale: str | None = Field(default=None, max_length=8)
    # The channel pushes go to first ("telegram" or "wechat"); None: the one last used (models.reach).
    preferred_channel: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


def normalise_digits(text: str) -> str:
    """Full-width digits and letters (１２３, ＡＢ) to ASCII (NFKC); spaces trimmed (models.names.trim)."""
    return trim(unicodedata.normalize("NFKC", text))


_EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def clean_employee_no(raw: str) -> str:
    """A 工号 as stored: NFKC, trimmed, ASCII, upper-case letters, no spaces.

    The one rule for every door a 工号 comes in by: roster imports, the commands,
    and what a member types at binding.

    Raises:
        InvalidInput: empty, too long, or characters a 工号 never has.
    """
    value = normalise_digits(raw).upper()
    if not value:
        raise InvalidInput("member.employee_no_empty", N_("工号不能为空。"))
    if len(value) > EMPLOYEE_NO_MAX:
        raise InvalidInput(
            "member.employee_no_too_long", N_("工号太长，最多 {limit} 位。"), limit=EMPLOYEE_NO_MAX
        )
    if not _EMPLOYEE_NO.match(value):
        raise InvalidInput("member.employee_no_invalid", N_("工号只能包含字母、数字、“-”和“_”。"))
    return value


def clean_name(raw: str) -> str:
    """A member's name, verbatim apart from surrounding spaces (models.names).

    Raises:
        InvalidInput: empty, too long, or containing control or format characters.
    """
    value = clean_label(raw, refused=NAME_HIDDEN, code="member.name_control")
    if not value:
        raise InvalidInput("member.name_empty", N_("姓名不能为空。"))
    if len(value) > NAME_MAX:
        raise InvalidInput("member.name_too_long", N_("姓名太长，最多 {limit} 个字。"), limit=NAME_MAX)
    return value


_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def clean_phone(raw: str) -> str | None:
    """A mainland mobile number as 11 digits, or None when left blank.

    Spaces, dashes and a +86/0086 prefix are forgiven, as people write them.

    Raises:
        InvalidInput: not an 11-digit mainland mobile number.
    """
    value = re.sub(r"[\s\-()（）]", "", normalise_digits(raw))
    if not value:
        return None
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    if not _MOBILE.match(value):
        raise InvalidInput("member.phone_invalid", N_("手机号应为 11 位数字，以 1 开头。"))
    return value


def parse_yuan(raw: str) -> int:
    """Parse a yuan amount ("12.5", "１２.５０元", "") into fen.

    Raises:
        InvalidInput: not a number, negative, more than two decimals, or absurdly large.
    """
    value = normalise_digits(raw).removesuffix("元").replace(",", "").strip()
    if not value:
        return 0
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidInput("member.dues_invalid", N_("月会费应为金额，例如 12.50。")) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("member.dues_invalid", N_("月会费应为金额，例如 12.50。"))
    # Compared before scaling: "1e999999999" is a finite Decimal whose fen overflow the context.
    if amount > Decimal(MAX_MONTHLY_DUES_FEN) / 100:
        raise InvalidInput(
            "member.dues_too_large",
            N_("月会费不能超过 {limit} 元，请核对。"),
            limit=MAX_MONTHLY_DUES_FEN // 100,
        )
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise InvalidInput("member.dues_precision", N_("月会费最多保留两位小数。"))
    return int(fen)


def format_yuan(fen: int) -> str:
    """Fen as a yuan amount with two decimals: 1250 → "12.50"."""
    return f"{fen // 100}.{fen % 100:02d}"


def get_member_by_employee_no(session: Session, employee_no: str) -> Member:
    """The member with this 工号 (forgiving full-width digits and case).

    Raises:
        NotFound: no member has it.
    """
    try:
        key = clean_employee_no(employee_no)
    except InvalidInput:
        key = ""
    member = session.exec(select(Member).where(Member.employee_no == key)).first() if key else None
    if member is None:
        raise NotFound("member.not_found", N_("找不到工号为 {employee_no} 的会员。"), employee_no=employee_no)
    return member


def set_member_locale(session: Session, *, member: Member, locale: str) -> None:
    """Remember the language a member chose with /lang, for every channel they use."""
    member.locale = locale
    member.updated_at = utcnow()
    session.add(member)
