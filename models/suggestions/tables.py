"""The suggestion tables and the rules of their lifecycle, which every other module of the package builds on.

What is here: the limits of what may be written, the statuses and which may
follow which, the "三及时" stages and their deadlines in working days, the
union's :class:`SuggestionPolicy`, the tables themselves, and the history line
(:func:`record_event`) every change writes with its push to the proposer.
What a member does is in :mod:`models.suggestions.drafts`, what a cadre does in
:mod:`models.suggestions.actions`, what is read in :mod:`models.suggestions.queries`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, Session, SQLModel

from models.base import UTCDateTime, string_enum, utcnow, visible_length
from models.errors import N_, InvalidInput, Label
from models.members import Member
from models.outbox import NewPush, PushKind, enqueue
from models.workdays import add_workdays

TITLE_MAX = 40
MEASURE_MAX = 2000
BENEFIT_MAX = 500
OPINION_MAX = 1000
REPLY_MAX = 1000
DEPARTMENT_MAX = 40
PHOTOS_MAX = 3
# Ten million yuan: more than any workshop idea saves; a larger figure is a typo.
AMOUNT_MAX_FEN = 10_000_000 * 100
NUMBER_PREFIX = "JY"
# Longest serial a member may type: a union's suggestions are numbered from one id sequence.
SERIAL_DIGITS_MAX = 9

UPDATE_TOPIC = "suggestion_update"

DEFAULT_CATEGORIES: tuple[str, ...] = (
    N_("生产技术"),
    N_("节能降耗"),
    N_("安全生产"),
    N_("经营管理"),
    N_("生活福利"),
    N_("其他"),
)


class SuggestionStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting to be registered and classified
    REGISTERED = "registered"  # 登记, 分类; waiting for the first review
    FIRST_REVIEWED = "first_reviewed"  # 初评 done; a panel review or the decision next
    PANEL_REVIEWED = "panel_reviewed"  # 评审: feasibility, cost and benefit
    ADOPTED = "adopted"  # 采纳; implementation to start
    NOT_ADOPTED = "not_adopted"  # 不采纳, with its reason; closes once answered
    IMPLEMENTING = "implementing"  # 实施中
    IMPLEMENTED = "implemented"  # 实施完成, effect recorded
    MERGED = "merged"  # folded into another suggestion; its supporters went along
    CLOSED = "closed"  # 办结: opinion and reply given ("五有")


TRANSITIONS: dict[SuggestionStatus, frozenset[SuggestionStatus]] = {
    SuggestionStatus.SUBMITTED: frozenset({SuggestionStatus.REGISTERED, SuggestionStatus.MERGED}),
    SuggestionStatus.REGISTERED: frozenset({SuggestionStatus.FIRST_REVIEWED, SuggestionStatus.MERGED}),
    SuggestionStatus.FIRST_REVIEWED: frozenset(
        {
            SuggestionStatus.PANEL_REVIEWED,
            SuggestionStatus.ADOPTED,
            SuggestionStatus.NOT_ADOPTED,
            SuggestionStatus.MERGED,
        }
    ),
    SuggestionStatus.PANEL_REVIEWED: frozenset(
        {SuggestionStatus.ADOPTED, SuggestionStatus.NOT_ADOPTED, SuggestionStatus.MERGED}
    ),
    SuggestionStatus.ADOPTED: frozenset({SuggestionStatus.IMPLEMENTING}),
    SuggestionStatus.NOT_ADOPTED: frozenset({SuggestionStatus.CLOSED}),
    SuggestionStatus.IMPLEMENTING: frozenset({SuggestionStatus.IMPLEMENTED}),
    SuggestionStatus.IMPLEMENTED: frozenset({SuggestionStatus.CLOSED}),
    SuggestionStatus.MERGED: frozenset(),
    SuggestionStatus.CLOSED: frozenset(),
}

STATUS_LABELS: dict[SuggestionStatus, str] = {
    SuggestionStatus.SUBMITTED: N_("待登记"),
    SuggestionStatus.REGISTERED: N_("已登记，待初评"),
    SuggestionStatus.FIRST_REVIEWED: N_("已初评，待决定"),
    SuggestionStatus.PANEL_REVIEWED: N_("已评审，待决定"),
    SuggestionStatus.ADOPTED: N_("已采纳，待实施"),
    SuggestionStatus.NOT_ADOPTED: N_("未采纳"),
    SuggestionStatus.IMPLEMENTING: N_("实施中"),
    SuggestionStatus.IMPLEMENTED: N_("已实施"),
    SuggestionStatus.MERGED: N_("已合并"),
    SuggestionStatus.CLOSED: N_("已办结"),
}

# Still in someone's hands: what a cadre's queue shows and what a member may support.
OPEN_STATUSES = frozenset(
    {
        SuggestionStatus.SUBMITTED,
        SuggestionStatus.REGISTERED,
        SuggestionStatus.FIRST_REVIEWED,
        SuggestionStatus.PANEL_REVIEWED,
        SuggestionStatus.ADOPTED,
        SuggestionStatus.IMPLEMENTING,
        SuggestionStatus.NOT_ADOPTED,
        SuggestionStatus.IMPLEMENTED,
    }
)
# What a member may still back (附议): decided against or closed, the backing would change nothing.
SUPPORTABLE_STATUSES = OPEN_STATUSES - {SuggestionStatus.NOT_ADOPTED}
# Adopted, whatever happened after: what the adoption figures and the quarterly appraisal count.
ADOPTED_STATUSES = frozenset(
    {SuggestionStatus.ADOPTED, SuggestionStatus.IMPLEMENTING, SuggestionStatus.IMPLEMENTED}
)


class Stage(StrEnum):
    """A "三及时" stage with a deadline: which one the suggestion is in decides who is late."""

    REGISTER = "register"  # 及时收集: registered within N working days of submission
    DECIDE = "decide"  # 及时决定: decided within N working days of registration
    IMPLEMENT = "implement"  # 及时实施: implementation started within N working days of adoption


STAGE_OF: dict[SuggestionStatus, Stage] = {
    SuggestionStatus.SUBMITTED: Stage.REGISTER,
    SuggestionStatus.REGISTERED: Stage.DECIDE,
    SuggestionStatus.FIRST_REVIEWED: Stage.DECIDE,
    SuggestionStatus.PANEL_REVIEWED: Stage.DECIDE,
    SuggestionStatus.ADOPTED: Stage.IMPLEMENT,
}


class Award(StrEnum):
    GOLD = "gold"  # 金点子
    SILVER = "silver"  # 银点子
    ENCOURAGEMENT = "encouragement"  # 鼓励奖


AWARD_LABELS: dict[Award, str] = {
    Award.GOLD: N_("金点子"),
    Award.SILVER: N_("银点子"),
    Award.ENCOURAGEMENT: N_("鼓励奖"),
}


class Feasibility(StrEnum):
    FEASIBLE = "feasible"
    PARTLY = "partly"
    NOT_FEASIBLE = "not_feasible"


FEASIBILITY_LABELS: dict[Feasibility, str] = {
    Feasibility.FEASIBLE: N_("可行"),
    Feasibility.PARTLY: N_("基本可行"),
    Feasibility.NOT_FEASIBLE: N_("不可行"),
}


class EventKind(StrEnum):
    """One line of a suggestion's history; each is pushed to the proposer."""

    SUBMITTED = "submitted"
    REGISTERED = "registered"
    FIRST_REVIEW = "first_review"
    PANEL_REVIEW = "panel_review"
    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"
    IMPLEMENTATION_STARTED = "implementation_started"
    EFFECT_RECORDED = "effect_recorded"
    AWARDED = "awarded"
    MERGED = "merged"
    REPLIED = "replied"
    CLOSED = "closed"
    NAME_REVEALED = "name_revealed"


# Events the proposer is told about: the rest they did themselves.
PUSHED_EVENTS = frozenset(EventKind) - {EventKind.SUBMITTED, EventKind.NAME_REVEALED}


@dataclass(frozen=True)
class SuggestionPolicy:
    """The union's settings for suggestions.

    Attributes:
        categories: what a member files a suggestion under.
        register_days, decide_days, implement_days: the "三及时" deadlines in working days.
        anonymity_min_members: an anonymous suggestion is shown under no unit with fewer active
            members than this (:mod:`models.suggestions.anonymity`).
        award_requires_implementation: refuse an award to a suggestion not yet implemented,
            rather than only warn (:func:`models.suggestions.actions.award_suggestion`).
        zone: the union's time zone, for dates and periods.
    """

    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    register_days: int = 3
    decide_days: int = 15
    implement_days: int = 30
    anonymity_min_members: int = 20
    award_requires_implementation: bool = False
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def days(self, stage: Stage) -> int:
        return {
            Stage.REGISTER: self.register_days,
            Stage.DECIDE: self.decide_days,
            Stage.IMPLEMENT: self.implement_days,
        }[stage]

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()


class Suggestion(SQLModel, table=True):
    """One suggestion and where it stands; its history is rows of ``suggestion_event``.

    Amounts are in fen, as dues are, so sums are exact.
    """

    __tablename__ = "suggestion"
    __table_args__ = (sa.Index("ix_suggestion_status_due_on", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=24, unique=True)
    proposer_id: int = Field(foreign_key="member.id", index=True)
    # The proposer's unit when they submitted: the suggestion counts for it even if they move.
    unit_id: int = Field(foreign_key="unit.id", index=True)
    category: str = Field(max_length=40)
    title: str = Field(max_length=400)
    measure: str = Field(sa_type=sa.Text)
    benefit: str | None = Field(default=None, sa_type=sa.Text)
    benefit_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    anonymous: bool = Field(default=False)
    # The decision, kept when the suggestion moves on: adoption figures count closed ones too.
    adopted: bool | None = Field(default=None)
    status: SuggestionStatus = Field(
        default=SuggestionStatus.SUBMITTED, sa_type=string_enum(SuggestionStatus, 16)
    )
    version: int = Field(default=1)
    due_on: date | None = Field(default=None)
    department: str | None = Field(default=None, max_length=200)
    reviewer_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="suggestion.id")
    opinion: str | None = Field(default=None, sa_type=sa.Text)
    reply: str | None = Field(default=None, sa_type=sa.Text)
    value_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    award: Award | None = Field(default=None, sa_type=string_enum(Award, 16))
    prize_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    # Search terms of the title and measure (models.suggestions.similarity), kept so hints never re-segment.
    terms: str = Field(default="", sa_type=sa.Text)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    implementation_started_on: date | None = Field(default=None)
    implemented_on: date | None = Field(default=None)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    awarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def stage(self) -> Stage | None:
        return STAGE_OF.get(self.status)


class SuggestionPhoto(SQLModel, table=True):
    """A photo the proposer attached: the channel's stored file, in the order sent."""

    __tablename__ = "suggestion_photo"

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: int = Field(foreign_key="suggestion.id", index=True)
    position: int
    ref: str = Field(max_length=1000)
    mime_type: str | None = Field(default=None, max_length=64)


class SuggestionSupport(SQLModel, table=True):
    """A member who backs a suggestion (附议) instead of filing the same idea again."""

    __tablename__ = "suggestion_support"

    suggestion_id: int = Field(foreign_key="suggestion.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SuggestionEvent(SQLModel, table=True):
    """One step of a suggestion's history: who did what, with the opinion or reply written.

    ``params`` holds codes and amounts (feasibility, award, yuan), never text in a language.
    """

    __tablename__ = "suggestion_event"

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: int = Field(foreign_key="suggestion.id", index=True)
    kind: EventKind = Field(sa_type=string_enum(EventKind, 32))
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    status: SuggestionStatus = Field(sa_type=string_enum(SuggestionStatus, 16))
    text: str | None = Field(default=None, sa_type=sa.Text)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=MutableDict.as_mutable(sa.JSON()))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ----------------------------------------------------------------------------- values


def check_text(
    value: str | None, *, code: str, limit: int, empty: str | None, too_long: str, optional: bool = False
) -> None:
    """Refuse empty or over-long text, naming the limit: cutting it would lose what was written."""
    if value is None or not value.strip():
        if optional:
            return
        assert empty is not None
        raise InvalidInput(f"suggestion.{code}_empty", empty)
    if (count := visible_length(value)) > limit:
        raise InvalidInput(f"suggestion.{code}_too_long", too_long, limit=limit, count=count)


def check_amount(fen: int | None) -> None:
    """Refuse a negative or absurd yuan amount.

    Raises:
        InvalidInput: ``suggestion.amount``.
    """
    if fen is not None and not 0 <= fen <= AMOUNT_MAX_FEN:
        raise InvalidInput(
            "suggestion.amount", N_("金额请填 0 到 {maximum} 元之间的数。"), maximum=AMOUNT_MAX_FEN // 100
        )


# ----------------------------------------------------------------------------- numbers


def suggestion_number(year: int, serial: int) -> str:
    """The tracking number a member is given and quotes: ``JY-2026-000123`` (the year it was handed in)."""
    return f"{NUMBER_PREFIX}-{year}-{serial:06d}"


_DASH = r"[-_/.—–\s]"
_TYPED_NUMBER = re.compile(
    rf"(?:{NUMBER_PREFIX.lower()}\s*{_DASH}?\s*)?"
    rf"(?:(?P<year>\d{{4}})\s*{_DASH}+\s*(?P<serial>\d{{1,{SERIAL_DIGITS_MAX}}})"  # 2026-5, jy-2026-000005
    r"|(?P<joined_year>\d{4})(?P<joined_serial>\d{6})"  # jy2026000005
    rf"|(?P<short>\d{{1,{SERIAL_DIGITS_MAX}}}))"  # 5, 000005, jy5
    r"\s*[号號]?"
)


def parse_suggestion_number(text: str, *, year: int) -> str | None:
    """The tracking number a cadre or member means, in full, or None when the text is no number.

    People quote a number the short way within the year: ``5``, ``000005``,
    ``JY5``, ``jy-5``, ``5号`` all mean ``JY-<year>-000005``, ``year`` being the
    union's current one; ``2026-5`` and ``JY-2026-000005`` name the year
    themselves. Full-width characters and any case are forgiven. Whether a
    suggestion has that number is the caller's question.
    """
    said = unicodedata.normalize("NFKC", text).strip().casefold()
    match = _TYPED_NUMBER.fullmatch(said)
    if match is None:
        return None
    written_year = match["year"] or match["joined_year"]
    serial = int(match["serial"] or match["joined_serial"] or match["short"])
    if serial == 0:
        return None
    return suggestion_number(int(written_year) if written_year else year, serial)


# ----------------------------------------------------------------------------- lifecycle


def transition(suggestion: Suggestion, to: SuggestionStatus) -> None:
    """Move to ``to`` if the lifecycle allows it.

    Raises:
        InvalidInput: ``suggestion.wrong_stage``, saying where the suggestion stands.
    """
    check_transition(suggestion, to)
    suggestion.status = to


def check_transition(suggestion: Suggestion, to: SuggestionStatus) -> None:
    """Refuse a move the lifecycle does not allow, changing nothing.

    Raises:
        InvalidInput: ``suggestion.wrong_stage``, saying where the suggestion stands.
    """
    if to not in TRANSITIONS[suggestion.status]:
        raise wrong_stage(suggestion)


def wrong_stage(suggestion: Suggestion) -> InvalidInput:
    """The refusal of a step the suggestion's status does not allow, saying where it stands."""
    return InvalidInput(
        "suggestion.wrong_stage",
        N_("这条建议目前是“{status}”，不能进行这项操作。"),
        status=Label(STATUS_LABELS[suggestion.status]),
    )


def set_due(suggestion: Suggestion, policy: SuggestionPolicy, now: datetime) -> None:
    """Start the clock of the stage the suggestion is now in, counted in working days from today."""
    stage = suggestion.stage
    suggestion.due_on = add_workdays(policy.today(now), policy.days(stage)) if stage is not None else None


def expected_dates(suggestion: Suggestion, policy: SuggestionPolicy) -> dict[Stage, date]:
    """When the member may expect the next steps, if each stage takes its full time.

    Shown on the receipt: "登记前" and "作出决定前" dates set expectations that the
    reminders then hold the cadres to.
    """
    dates: dict[Stage, date] = {}
    stage = suggestion.stage
    if stage is None or suggestion.due_on is None:
        return dates
    order = list(Stage)
    day = suggestion.due_on
    dates[stage] = day
    for later in order[order.index(stage) + 1 :]:
        if later is Stage.IMPLEMENT:
            break  # depends on the decision; no date can be promised
        day = add_workdays(day, policy.days(later))
        dates[later] = day
    return dates


def record_event(
    session: Session,
    suggestion: Suggestion,
    *,
    kind: EventKind,
    actor: Member | None,
    now: datetime,
    text: str | None = None,
    **params: Any,
) -> SuggestionEvent:
    """Write the history line and, when the proposer should hear of it, queue the push, in one transaction.

    Only the package's own steps call this, after their rules passed; a cadre's step moves the
    version first (:mod:`models.suggestions.actions`).
    """
    assert suggestion.id is not None
    suggestion.updated_at = now
    session.add(suggestion)
    event = SuggestionEvent(
        suggestion_id=suggestion.id,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        status=suggestion.status,
        text=text,
        params=params,
        at=now,
    )
    session.add(event)
    session.flush()
    if kind in PUSHED_EVENTS:
        assert event.id is not None
        enqueue(
            session,
            [
                NewPush(
                    key=f"suggestion-event:{event.id}",
                    member_id=suggestion.proposer_id,
                    kind=PushKind.STATUS,
                    topic=UPDATE_TOPIC,
                    subject_id=suggestion.id,
                    params={"event": event.id},
                )
            ],
            now=now,
        )
    return event


# ----------------------------------------------------------------------------- dates


def local_date(moment: datetime, zone: tzinfo) -> date:
    """A stored UTC time as a calendar date in the union's zone."""
    return moment.astimezone(zone).date()


def utc_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant a local calendar day starts: period bounds for figures."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
