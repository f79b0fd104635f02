"""Hardship cases (困难职工帮扶): the tables, the stages a case goes through, the limits of what is written.

A case goes received → verified by a visit (走访) → decided → help given →
closed, or kept under dynamic review (动态管理) with a next review date. Which
stage may follow which is :data:`TRANSITIONS`; :func:`transition` enforces it.

What a member confides (the story, the household, the income, how to reach
them) and what cadres write about the family (visit notes, contact notes, the
reason of a decision) is *sealed* at rest (:class:`models.sealed.Sealed`): a
copy of the database shows none of it. What stays in clear is what figures
need and nobody could be hurt by: the category, the kinds of help, the
urgency, the stage, the dates and the amounts.

Each case carries a ``version`` that every cadre's step moves on
(:mod:`models.versioned`), so two cadres never overwrite each other.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableList
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, string_enum, utcnow, visible_length
from models.errors import N_, InvalidInput, Label
from models.sealed import Sealed

STORY_MAX = 2000
CONTACT_WAY_MAX = 100
NOTE_MAX = 1000
FOUR_CLEAR_MAX = 500
VISITORS_MAX = 100
REASON_MAX = 500
GOODS_MAX = 200
FUND_MAX = 40
HOUSEHOLD_MAX = 30
PHOTOS_MAX = 3
# A month's household income above a million yuan is a typo, not a hardship.
INCOME_MAX_FEN = 1_000_000 * 100
# One case's single help above a million yuan is a typo too.
AMOUNT_MAX_FEN = 1_000_000 * 100
NUMBER_PREFIX = "KN"

# A member counts characters; a sealed column is sized in bytes: a character may be ten code points of four.
_BYTES_PER_CHARACTER = 40

UPDATE_TOPIC = "hardship_update"
"""The push to the member: "your application moved on", never what moved."""
NEW_TOPIC = "hardship_new"
"""The push to the responsible cadres when a case comes in (at once, quiet hours or not, when urgent)."""


class HardshipCategory(StrEnum):
    ILLNESS = "illness"  # 重大疾病
    SCHOOLING = "schooling"  # 子女就学
    DISASTER = "disaster"  # 因灾
    FAMILY = "family"  # 家庭变故
    UNEMPLOYMENT = "unemployment"  # 失业/零就业家庭
    INJURY = "injury"  # 工伤/残疾
    OTHER = "other"  # 其他


CATEGORY_LABELS: dict[HardshipCategory, str] = {
    HardshipCategory.ILLNESS: N_("重大疾病"),
    HardshipCategory.SCHOOLING: N_("子女就学"),
    HardshipCategory.DISASTER: N_("因灾"),
    HardshipCategory.FAMILY: N_("家庭变故"),
    HardshipCategory.UNEMPLOYMENT: N_("失业/零就业家庭"),
    HardshipCategory.INJURY: N_("工伤/残疾"),
    HardshipCategory.OTHER: N_("其他"),
}


class HelpKind(StrEnum):
    VISIT = "visit"  # 慰问
    RELIEF = "relief"  # 救助金
    SCHOOLING = "schooling"  # 助学
    LEGAL = "legal"  # 法律援助
    COUNSELLING = "counselling"  # 心理疏导
    EMPLOYMENT = "employment"  # 就业帮扶
    OTHER = "other"  # 其他


HELP_LABELS: dict[HelpKind, str] = {
    HelpKind.VISIT: N_("慰问"),
    HelpKind.RELIEF: N_("救助金"),
    HelpKind.SCHOOLING: N_("助学"),
    HelpKind.LEGAL: N_("法律援助"),
    HelpKind.COUNSELLING: N_("心理疏导"),
    HelpKind.EMPLOYMENT: N_("就业帮扶"),
    HelpKind.OTHER: N_("其他"),
}


class CaseStatus(StrEnum):
    RECEIVED = "received"  # 已受理: first contact and the visit to come
    VISITED = "visited"  # 已走访核实 ("四清" written down); the decision next
    DECIDED = "decided"  # 已决定帮扶; the help to be given
    HELPED = "helped"  # 已发放 (one disbursement or more)
    REVIEW = "review"  # 动态管理: kept on file, looked at again on a date
    CLOSED = "closed"  # 已办结


TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.VISITED, CaseStatus.CLOSED}),
    CaseStatus.VISITED: frozenset({CaseStatus.VISITED, CaseStatus.DECIDED, CaseStatus.CLOSED}),
    CaseStatus.DECIDED: frozenset({CaseStatus.HELPED, CaseStatus.CLOSED}),
    CaseStatus.HELPED: frozenset({CaseStatus.HELPED, CaseStatus.REVIEW, CaseStatus.CLOSED}),
    # A review may find the family needs help again: a new visit, then a new decision.
    CaseStatus.REVIEW: frozenset({CaseStatus.REVIEW, CaseStatus.VISITED, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: N_("已受理，待走访"),
    CaseStatus.VISITED: N_("已走访，待决定"),
    CaseStatus.DECIDED: N_("已决定帮扶，待发放"),
    CaseStatus.HELPED: N_("已发放帮扶"),
    CaseStatus.REVIEW: N_("动态管理中"),
    CaseStatus.CLOSED: N_("已办结"),
}

# What the member reads as the next step, in plain words.
NEXT_STEP: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: N_("工会干部会先和您联系，再上门走访了解情况。"),
    CaseStatus.VISITED: N_("工会正在研究帮扶办法，决定后会通知您。"),
    CaseStatus.DECIDED: N_("帮扶已决定，工会将尽快把帮扶送到您手中。"),
    CaseStatus.HELPED: N_("帮扶已经发放。如果还有困难，请和工会干部说。"),
    CaseStatus.REVIEW: N_("工会会定期回访，了解您家的近况。"),
    CaseStatus.CLOSED: N_("这件申请已经办结。今后遇到困难，可以随时再申请。"),
}

OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}


class Deadline(StrEnum):
    """Which time limit a case is under now: decides who is late and for what."""

    CONTACT = "contact"  # first contact (urgent: 1 working day)
    VISIT = "visit"  # the visit (5 working days)
    DECIDE = "decide"  # the decision after the visit
    HELP = "help"  # the help given after the decision
    REVIEW = "review"  # the dynamic review's date


DEADLINE_LABELS: dict[Deadline, str] = {
    Deadline.CONTACT: N_("首次联系"),
    Deadline.VISIT: N_("走访核实"),
    Deadline.DECIDE: N_("作出帮扶决定"),
    Deadline.HELP: N_("发放帮扶"),
    Deadline.REVIEW: N_("动态管理回访"),
}


def _sealed(purpose: str, characters: int) -> Sealed:
    return Sealed(purpose, characters * _BYTES_PER_CHARACTER)


class HardshipCase(SQLModel, table=True):
    """One application for help and where it stands.

    ``household`` and ``income`` are sealed text (the household size and the monthly
    income in fen, written as digits); read them through :attr:`household_size` and
    :attr:`income_fen`. ``due_on`` and ``deadline`` are the current time limit, set
    whenever the case moves, so the deadline job and the overdue-first queue read two
    indexed columns. ``contact_due_on`` and ``visit_due_on`` keep the first two limits as
    set when the case came in, for the 帮扶及时率 score.
    """

    __tablename__ = "hardshipcase"
    __table_args__ = (sa.Index("ix_hardshipcase_status_due_on", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    # None once the retention job erased the case: what is left counts in figures and names nobody.
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    # The member's unit when they applied: the case belongs to its cadres even if the member moves.
    unit_id: int = Field(foreign_key="unit.id", index=True)
    filed_by_id: int | None = Field(default=None, foreign_key="member.id")
    category: HardshipCategory = Field(sa_type=string_enum(HardshipCategory, 16))
    help_wanted: list[str] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    urgent: bool = Field(default=False)
    story: str | None = Field(default=None, sa_type=_sealed("hardshipcase.story", STORY_MAX))
    household: str | None = Field(default=None, sa_type=_sealed("hardshipcase.household", 8))
    income: str | None = Field(default=None, sa_type=_sealed("hardshipcase.income", 16))
    contact_way: str | None = Field(
        default=None, sa_type=_sealed("hardshipcase.contact_way", CONTACT_WAY_MAX)
    )
    contact_note: str | None = Field(default=None, sa_type=_sealed("hardshipcase.contact_note", NOTE_MAX))
    close_note: str | None = Field(default=None, sa_type=_sealed("hardshipcase.close_note", NOTE_MAX))
    status: CaseStatus = Field(default=CaseStatus.RECEIVED, sa_type=string_enum(CaseStatus, 16))
    version: int = Field(default=1)
    deadline: Deadline | None = Field(default=None, sa_type=string_enum(Deadline, 16))
    due_on: date | None = Field(default=None)
    contact_due_on: date
    visit_due_on: date
    consent_at: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    contacted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    visited_on: date | None = Field(default=None)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    helped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_review_on: date | None = Field(default=None)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Set once the retention job erased the sensitive fields; the figures keep counting the case.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def number(self) -> str:
        """What the member and the cadres quote: ``KN-2026-000012`` (the year it came in, the id)."""
        return case_number(self.submitted_at.year, self.id or 0)

    @property
    def household_size(self) -> int | None:
        return int(self.household) if self.household else None

    @property
    def income_fen(self) -> int | None:
        return int(self.income) if self.income else None

    @property
    def help_kinds(self) -> list[HelpKind]:
        return [HelpKind(kind) for kind in self.help_wanted]


class HardshipPhoto(SQLModel, table=True):
    """A document photo the member attached, sealed on disk; ``path`` (sealed too) says where."""

    __tablename__ = "hardshipphoto"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hardshipcase.id", index=True)
    position: int
    path: str | None = Field(default=None, sa_type=_sealed("hardshipphoto.path", 100))
    mime_type: str | None = Field(default=None, max_length=64)


class HardshipVisit(SQLModel, table=True):
    """A visit (走访) and the "四清" it found: family, state of mind, cause, needs — all sealed."""

    __tablename__ = "hardshipvisit"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hardshipcase.id", index=True)
    visited_on: date
    visitors: str = Field(max_length=VISITORS_MAX * 4)
    family: str | None = Field(default=None, sa_type=_sealed("hardshipvisit.family", FOUR_CLEAR_MAX))
    mind: str | None = Field(default=None, sa_type=_sealed("hardshipvisit.mind", FOUR_CLEAR_MAX))
    cause: str | None = Field(default=None, sa_type=_sealed("hardshipvisit.cause", FOUR_CLEAR_MAX))
    needs: str | None = Field(default=None, sa_type=_sealed("hardshipvisit.needs", FOUR_CLEAR_MAX))
    notes: str | None = Field(default=None, sa_type=_sealed("hardshipvisit.notes", NOTE_MAX))
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HardshipDecision(SQLModel, table=True):
    """What the union decided to give, from which fund, and why (the reason sealed)."""

    __tablename__ = "hardshipdecision"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hardshipcase.id", index=True)
    kinds: list[str] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    amount_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    goods: str | None = Field(default=None, max_length=GOODS_MAX * 4)
    fund: str = Field(max_length=FUND_MAX * 4)
    reason: str | None = Field(default=None, sa_type=_sealed("hardshipdecision.reason", REASON_MAX))
    decided_by_id: int = Field(foreign_key="member.id")
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HardshipDisbursement(SQLModel, table=True):
    """Help given: money or goods, from a fund, by a cadre; for a case, a campaign, or both.

    ``campaign_id`` names a 送温暖 campaign (models.hardship.campaigns) without a
    foreign key, so the case tables stand without the campaigns'.
    """

    __tablename__ = "hardshipdisbursement"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="hardshipcase.id", index=True)
    campaign_id: int | None = Field(default=None, index=True)
    given_on: date
    amount_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    goods: str | None = Field(default=None, max_length=GOODS_MAX * 4)
    fund: str = Field(max_length=FUND_MAX * 4)
    handled_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ----------------------------------------------------------------------------- values


def case_number(year: int, serial: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{serial:06d}"


def check_text(value: str | None, *, code: str, limit: int, optional: bool = False) -> None:
    """Refuse empty or over-long text, naming the limit: cutting it would lose what was written.

    Raises:
        InvalidInput: ``hardship.<code>_empty`` or ``hardship.<code>_too_long``.
    """
    if value is None or not value.strip():
        if optional:
            return
        raise InvalidInput(f"hardship.{code}_empty", N_("这一项不能为空。"))
    if (count := visible_length(value)) > limit:
        raise InvalidInput(
            f"hardship.{code}_too_long",
            N_("内容太长了：最多 {limit} 个字，现在是 {count} 个字。"),
            limit=limit,
            count=count,
        )


def check_amount(fen: int | None, *, maximum: int = AMOUNT_MAX_FEN) -> None:
    """Refuse a negative or absurd yuan amount.

    Raises:
        InvalidInput: ``hardship.amount``.
    """
    if fen is not None and not 0 <= fen <= maximum:
        raise InvalidInput(
            "hardship.amount", N_("金额请填 0 到 {maximum} 元之间的数。"), maximum=maximum // 100
        )


def check_transition(case: HardshipCase, target: CaseStatus) -> None:
    """Refuse a step the case's stage does not allow, saying where it stands.

    Raises:
        InvalidInput: ``hardship.wrong_stage``.
    """
    if target not in TRANSITIONS[case.status]:
        raise wrong_stage(case)


def wrong_stage(case: HardshipCase) -> InvalidInput:
    return InvalidInput(
        "hardship.wrong_stage",
        N_("这件帮扶申请目前是“{status}”，不能进行这项操作。"),
        status=Label(STATUS_LABELS[case.status]),
    )


def transition(case: HardshipCase, target: CaseStatus, now: datetime) -> None:
    check_transition(case, target)
    case.status = target
    case.updated_at = now


def plain(value: Any) -> str | None:
    """A form's answer as the text a sealed column takes: None for nothing written."""
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None
