"""Suggestions (合理化建议, 金点子): from a member's idea to a decision, an answer and an award.

The rules unions hold themselves to live here, so no handler can skip them:

* "五有": every suggestion has a measure, a registration, a classification, a
  handling opinion and a reply to the proposer. A suggestion is closed only
  when it has an opinion and a reply, and a rejection must give its reason.
* "三及时": each stage has a deadline in working days (register, decide, start
  implementing); :attr:`Suggestion.due_on` holds the current one, set whenever
  the stage changes, so the deadline job and the overdue-first queue read one
  indexed column.
* Anonymous suggestions (匿名): cadres handle them without ever learning who
  wrote them — :class:`CadreView` has no proposer for them — and the answer
  still reaches the proposer, who may reveal their name later.
* A cadre acts only within their subtree (``REVIEW_SUGGESTIONS``); a member
  acts only on their own suggestions, and may support others'.
* Two cadres acting on one suggestion at once cannot both win: every action
  names the version the cadre saw and bumps it with a guarded ``UPDATE``
  (optimistic locking), so the second is refused and sees the new state.

Every status change, opinion and reply is an event in the suggestion's history
and a push to the proposer, queued in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.base import UTCDateTime, string_enum, utcnow, visible_length
from models.errors import N_, DomainError, InvalidInput, Label, NotFound, PermissionDenied
from models.members import Member
from models.outbox import NewPush, PushKind, enqueue
from models.roles import ROLE_PERMISSIONS, Permission, RoleGrant, has_permission, scope_units
from models.suggestions import similarity
from models.units import PATH_SEPARATOR, Unit
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
    """The union's settings for suggestions: categories and the "三及时" deadlines in working days."""

    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    register_days: int = 3
    decide_days: int = 15
    implement_days: int = 30
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


@dataclass(frozen=True)
class PhotoRef:
    """A photo as the form kept it: the stored file and its type."""

    ref: str
    mime_type: str | None = None


@dataclass(frozen=True)
class SuggestionDraft:
    """What the member wrote, not yet checked."""

    category: str
    title: str
    measure: str
    benefit: str | None = None
    benefit_fen: int | None = None
    anonymous: bool = False
    photos: tuple[PhotoRef, ...] = ()


@dataclass(frozen=True)
class CadreView:
    """A suggestion as a cadre sees it: ``proposer`` is None when it was handed in anonymously."""

    suggestion: Suggestion
    proposer: Member | None
    unit: Unit
    supporters: int
    photos: tuple[SuggestionPhoto, ...]
    events: tuple[SuggestionEvent, ...]
    reviewer: Member | None


@dataclass(frozen=True)
class Similar:
    """A suggestion like the one being written, as a member may see it: never who wrote it."""

    id: int
    number: str
    title: str
    status: SuggestionStatus
    supporters: int
    score: float


class SupportOutcome(StrEnum):
    SUPPORTED = "supported"
    ALREADY = "already"


class Conflict(DomainError):
    """Someone else changed the suggestion since the actor opened it."""


# ----------------------------------------------------------------------------- checks


def _check_text(
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


def check_draft(draft: SuggestionDraft, policy: SuggestionPolicy) -> None:
    """Every rule a new suggestion must meet, so nothing half-checked reaches the database.

    Raises:
        InvalidInput: an unknown category, empty or over-long text, a bad amount or too many photos.
    """
    if draft.category not in policy.categories:
        raise InvalidInput("suggestion.category", N_("请从列出的类别中选择一个。"))
    _check_text(
        draft.title,
        code="title",
        limit=TITLE_MAX,
        empty=N_("建议标题不能为空，请重新输入。"),
        too_long=N_("建议标题太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    _check_text(
        draft.measure,
        code="measure",
        limit=MEASURE_MAX,
        empty=N_("问题和建议措施不能为空，请重新输入。"),
        too_long=N_("问题和建议措施太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    _check_text(
        draft.benefit,
        code="benefit",
        limit=BENEFIT_MAX,
        empty=None,
        too_long=N_("预期效益太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        optional=True,
    )
    check_amount(draft.benefit_fen)
    if len(draft.photos) > PHOTOS_MAX:
        raise InvalidInput("suggestion.photos", N_("最多可以附 {limit} 张照片。"), limit=PHOTOS_MAX)


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
        raise InvalidInput(
            "suggestion.wrong_stage",
            N_("这条建议目前是“{status}”，不能进行这项操作。"),
            status=Label(STATUS_LABELS[suggestion.status]),
        )


def _set_due(suggestion: Suggestion, policy: SuggestionPolicy, now: datetime) -> None:
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


# ----------------------------------------------------------------------------- scope


def review_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees ``actor`` reviews suggestions for, highest first, nested ones left out.

    Raises:
        PermissionDenied: the actor reviews suggestions nowhere.
    """
    units = scope_units(session, actor, Permission.REVIEW_SUGGESTIONS) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied(
            "suggestion.not_reviewer", N_("抱歉，只有负责合理化建议的工会干部才能处理建议。")
        )
    unique = {unit.id: unit for unit in tops}
    return sorted(unique.values(), key=lambda unit: unit.id_path)


def reviews_suggestions(session: Session, member: Member) -> bool:
    """Whether ``member`` reviews suggestions anywhere: who is offered 建议办理 and 建议统计."""
    return member.is_active and bool(scope_units(session, member, Permission.REVIEW_SUGGESTIONS))


def _in_units(units: Sequence[Unit]) -> sa.ColumnElement[bool]:
    """Suggestions of units in the subtrees of ``units`` (joined with Unit on the suggestion's unit)."""
    return sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in units))


def _suggestion(session: Session, suggestion_id: int) -> Suggestion:
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    return suggestion


def _require_reviewer(session: Session, actor: Member, suggestion: Suggestion) -> Unit:
    unit = session.get(Unit, suggestion.unit_id)
    assert unit is not None
    if not has_permission(session, actor, Permission.REVIEW_SUGGESTIONS, unit):
        raise PermissionDenied(
            "suggestion.out_of_scope", N_("抱歉，这条建议不在您负责的单位范围内，不能处理。")
        )
    return unit


def _claim(session: Session, *, actor: Member, suggestion_id: int, expected_version: int) -> Suggestion:
    """The suggestion as it stands, checked against the actor's scope and the version they saw.

    Nothing is written here: the version is bumped by :func:`_record`, once every
    rule of the action has passed, so a refused action leaves no trace that would
    make the cadre's next try look like someone else's change.

    Raises:
        NotFound: no such suggestion.
        PermissionDenied: it lies outside the actor's subtree.
        Conflict: someone changed it since the actor opened it.
    """
    current = _suggestion(session, suggestion_id)
    session.refresh(current)
    _require_reviewer(session, actor, current)
    if current.version != expected_version:
        raise _conflict(current)
    return current


def _conflict(suggestion: Suggestion) -> Conflict:
    return Conflict(
        "suggestion.conflict",
        N_("这条建议刚刚被其他干部处理过（现在是“{status}”），请重新打开查看最新情况。"),
        status=Label(STATUS_LABELS[suggestion.status]),
    )


def _bump_version(session: Session, suggestion: Suggestion, expected_version: int) -> None:
    """Move the version on from the one the cadre saw, or refuse if it moved meanwhile.

    The guarded ``UPDATE`` also waits, on PostgreSQL, for a concurrent action on
    the same row to finish; if that one committed, the row no longer matches
    and this action is refused instead of overwriting it.

    Raises:
        Conflict: someone changed it since the actor opened it.
    """
    with session.no_autoflush:
        bumped = session.execute(
            sa.update(Suggestion)
            .where(col(Suggestion.id) == suggestion.id, col(Suggestion.version) == expected_version)
            .values(version=expected_version + 1)
            .execution_options(synchronize_session=False)
        )
    if getattr(bumped, "rowcount", 0) != 1:
        session.refresh(suggestion)
        raise _conflict(suggestion)
    suggestion.version = expected_version + 1


def _record(
    session: Session,
    suggestion: Suggestion,
    *,
    kind: EventKind,
    actor: Member | None,
    now: datetime,
    text: str | None = None,
    expected_version: int | None = None,
    **params: Any,
) -> SuggestionEvent:
    """Write the history line and, when the proposer should hear of it, queue the push, in one transaction.

    A cadre's action passes the version they saw: it is bumped here, last, after every rule passed.
    """
    assert suggestion.id is not None
    if expected_version is not None:
        _bump_version(session, suggestion, expected_version)
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


# ----------------------------------------------------------------------------- members


def submit_suggestion(
    session: Session, *, actor: Member, draft: SuggestionDraft, policy: SuggestionPolicy, now: datetime
) -> Suggestion:
    """Register a member's suggestion under a tracking number, with the clock of its first stage started.

    Raises:
        PermissionDenied: the member is not active.
        InvalidInput: the draft breaks a rule (see :func:`check_draft`).
    """
    if not actor.is_active:
        raise PermissionDenied("suggestion.inactive", N_("抱歉，只有在册会员才能提合理化建议。"))
    check_draft(draft, policy)
    assert actor.id is not None
    suggestion = Suggestion(
        proposer_id=actor.id,
        unit_id=actor.unit_id,
        category=draft.category,
        title=draft.title.strip(),
        measure=draft.measure.strip(),
        benefit=draft.benefit.strip() if draft.benefit and draft.benefit.strip() else None,
        benefit_fen=draft.benefit_fen,
        anonymous=draft.anonymous,
        terms=similarity.index_terms(draft.title, draft.measure),
        submitted_at=now,
        updated_at=now,
    )
    _set_due(suggestion, policy, now)
    session.add(suggestion)
    session.flush()
    assert suggestion.id is not None
    # From the id, not a count per year: two members submitting at once can never get one number.
    suggestion.number = f"{NUMBER_PREFIX}-{policy.today(now).year}-{suggestion.id:06d}"
    for position, photo in enumerate(draft.photos, start=1):
        session.add(
            SuggestionPhoto(
                suggestion_id=suggestion.id, position=position, ref=photo.ref, mime_type=photo.mime_type
            )
        )
    _record(session, suggestion, kind=EventKind.SUBMITTED, actor=actor, now=now)
    return suggestion


def suggestions_of(
    session: Session, *, member: Member, offset: int = 0, limit: int = 5
) -> tuple[int, Sequence[Suggestion]]:
    """A member's own suggestions, newest first, with their count."""
    condition = col(Suggestion.proposer_id) == member.id
    total = session.exec(select(func.count()).select_from(Suggestion).where(condition)).one()
    rows = session.exec(
        select(Suggestion).where(condition).order_by(col(Suggestion.id).desc()).offset(offset).limit(limit)
    ).all()
    return total, rows


def own_suggestion(session: Session, *, member: Member, suggestion_id: int) -> Suggestion:
    """One of the member's own suggestions.

    Raises:
        NotFound: no such suggestion, or it is someone else's (a member may not learn whose).
    """
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.proposer_id != member.id:
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    return suggestion


def history(session: Session, suggestion_id: int) -> Sequence[SuggestionEvent]:
    """Every event of a suggestion, oldest first."""
    return session.exec(
        select(SuggestionEvent)
        .where(SuggestionEvent.suggestion_id == suggestion_id)
        .order_by(col(SuggestionEvent.at), col(SuggestionEvent.id))
    ).all()


def photos_of(session: Session, suggestion_id: int) -> Sequence[SuggestionPhoto]:
    return session.exec(
        select(SuggestionPhoto)
        .where(SuggestionPhoto.suggestion_id == suggestion_id)
        .order_by(col(SuggestionPhoto.position))
    ).all()


def supporter_count(session: Session, suggestion_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(SuggestionSupport)
        .where(SuggestionSupport.suggestion_id == suggestion_id)
    ).one()


def reveal_name(session: Session, *, actor: Member, suggestion_id: int, now: datetime) -> Suggestion:
    """The proposer of an anonymous suggestion lets the reviewers see their name; there is no way back.

    Raises:
        NotFound: not the actor's suggestion.
        InvalidInput: ``suggestion.not_anonymous``.
    """
    suggestion = own_suggestion(session, member=actor, suggestion_id=suggestion_id)
    if not suggestion.anonymous:
        raise InvalidInput("suggestion.not_anonymous", N_("这条建议本来就是实名提交的。"))
    # Not a handling step: the version a cadre's open form holds stays valid.
    suggestion.anonymous = False
    _record(session, suggestion, kind=EventKind.NAME_REVEALED, actor=actor, now=now)
    return suggestion


def _union_root(session: Session, member: Member) -> Unit:
    unit = session.get(Unit, member.unit_id)
    assert unit is not None
    root_id = int(unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[0])
    root = session.get(Unit, root_id)
    assert root is not None
    return root


def similar_suggestions(session: Session, *, actor: Member, text: str, limit: int = 3) -> list[Similar]:
    """Up to ``limit`` suggestions of the actor's union like ``text``, best first, none the actor's own.

    Only suggestions the member could still back are offered: a merged one's supporters moved on, and
    one already decided against or closed can no longer gather support.
    """
    query = similarity.terms(text)
    if not query:
        return []
    root = _union_root(session, actor)
    rows = session.exec(
        select(Suggestion.id, Suggestion.terms)
        .join(Unit, col(Unit.id) == Suggestion.unit_id)
        .where(
            col(Unit.id_path).startswith(root.id_path),
            col(Suggestion.status).in_(SUPPORTABLE_STATUSES),
            col(Suggestion.proposer_id) != actor.id,
        )
    ).all()
    ranked = similarity.rank(
        query, ((row_id, terms) for row_id, terms in rows if row_id is not None), limit=limit
    )
    found = []
    for suggestion_id, score in ranked:
        suggestion = session.get(Suggestion, suggestion_id)
        assert suggestion is not None
        assert suggestion.number is not None
        found.append(
            Similar(
                id=suggestion_id,
                number=suggestion.number,
                title=suggestion.title,
                status=suggestion.status,
                supporters=supporter_count(session, suggestion_id),
                score=score,
            )
        )
    return found


def support_suggestion(
    session: Session, *, actor: Member, suggestion_id: int, now: datetime
) -> SupportOutcome:
    """Add the actor's support (附议) to a suggestion of their union.

    Raises:
        NotFound: no such suggestion in the actor's union.
        InvalidInput: it is the actor's own, or it is no longer open.
    """
    suggestion = session.get(Suggestion, suggestion_id)
    root = _union_root(session, actor)
    unit = session.get(Unit, suggestion.unit_id) if suggestion is not None else None
    if suggestion is None or unit is None or not root.contains(unit):
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    if suggestion.proposer_id == actor.id:
        raise InvalidInput("suggestion.support_own", N_("这是您自己提的建议，不用再附议。"))
    if suggestion.status not in SUPPORTABLE_STATUSES:
        raise InvalidInput(
            "suggestion.support_closed",
            N_("这条建议已经“{status}”，不能再附议了。"),
            status=Label(STATUS_LABELS[suggestion.status]),
        )
    assert actor.id is not None
    if session.get(SuggestionSupport, (suggestion_id, actor.id)) is not None:
        return SupportOutcome.ALREADY
    session.add(SuggestionSupport(suggestion_id=suggestion_id, member_id=actor.id, created_at=now))
    session.flush()
    return SupportOutcome.SUPPORTED


# ----------------------------------------------------------------------------- cadres


def review_queue(
    session: Session,
    *,
    actor: Member,
    today: date,
    statuses: Sequence[SuggestionStatus] | None = None,
    category: str | None = None,
    offset: int = 0,
    limit: int = 5,
) -> tuple[int, Sequence[Suggestion]]:
    """Open suggestions of the actor's subtree: overdue first, then by deadline, then oldest.

    Raises:
        PermissionDenied: the actor reviews suggestions nowhere.
    """
    units = review_scope(session, actor)
    wanted = statuses or [status for status in SuggestionStatus if status in OPEN_STATUSES]
    conditions = [_in_units(units), col(Suggestion.status).in_(wanted)]
    if category is not None:
        conditions.append(col(Suggestion.category) == category)
    base = select(Suggestion).join(Unit, col(Unit.id) == Suggestion.unit_id).where(*conditions)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    overdue = sa.case((col(Suggestion.due_on) < today, 0), else_=1)
    no_deadline = sa.case((col(Suggestion.due_on).is_(None), 1), else_=0)
    rows = session.exec(
        base.order_by(overdue, no_deadline, col(Suggestion.due_on), col(Suggestion.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return total, rows


def cadre_view(session: Session, *, actor: Member, suggestion_id: int) -> CadreView:
    """A suggestion in full for a cadre of its subtree; an anonymous proposer stays unknown.

    Raises:
        NotFound: no such suggestion.
        PermissionDenied: it lies outside the actor's subtree.
    """
    suggestion = _suggestion(session, suggestion_id)
    unit = _require_reviewer(session, actor, suggestion)
    assert suggestion.id is not None
    proposer = None if suggestion.anonymous else session.get(Member, suggestion.proposer_id)
    events = tuple(history(session, suggestion.id))
    if suggestion.anonymous:
        # The history must not give away what the row hides: the proposer's own steps lose their actor.
        events = tuple(
            SuggestionEvent.model_validate(
                {**event.model_dump(), "actor_id": None}
                if event.actor_id == suggestion.proposer_id
                else event.model_dump()
            )
            for event in events
        )
    reviewer = session.get(Member, suggestion.reviewer_id) if suggestion.reviewer_id else None
    return CadreView(
        suggestion=suggestion,
        proposer=proposer,
        unit=unit,
        supporters=supporter_count(session, suggestion.id),
        photos=tuple(photos_of(session, suggestion.id)),
        events=events,
        reviewer=reviewer,
    )


def reviewers_for(session: Session, *, actor: Member, suggestion_id: int) -> list[Member]:
    """Cadres who may be named to handle a suggestion: active, reviewing its unit, the actor first."""
    suggestion = _suggestion(session, suggestion_id)
    unit = _require_reviewer(session, actor, suggestion)
    # Only grants on the unit or above it can cover it: one indexed query, however many cadres.
    ancestors = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    rows = session.exec(
        select(Member, RoleGrant, Unit)
        .join(RoleGrant, col(RoleGrant.member_id) == Member.id)
        .join(Unit, col(Unit.id) == RoleGrant.unit_id)
        .where(col(RoleGrant.unit_id).in_(ancestors))
        .order_by(col(Member.id))
    ).all()
    found: dict[int, Member] = {}
    for member, grant, grant_unit in rows:
        if (
            member.is_active
            and Permission.REVIEW_SUGGESTIONS in ROLE_PERMISSIONS[grant.role]
            and grant_unit.contains(unit)
            and member.id is not None
        ):
            found[member.id] = member
    ordered = sorted(found.values(), key=lambda member: (member.id != actor.id, member.id))
    return ordered


def register_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    category: str,
    department: str,
    reviewer_id: int | None,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """登记、分类: confirm the category, name who handles it (department, cadre); the decision clock starts.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, an unknown category, a missing or over-long department, a reviewer
            who cannot review this unit.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if category not in policy.categories:
        raise InvalidInput("suggestion.category", N_("请从列出的类别中选择一个。"))
    _check_text(
        department,
        code="department",
        limit=DEPARTMENT_MAX,
        empty=N_("承办部门不能为空，请重新输入。"),
        too_long=N_("承办部门太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    if reviewer_id is not None:
        reviewer = session.get(Member, reviewer_id)
        unit = session.get(Unit, suggestion.unit_id)
        assert unit is not None
        if reviewer is None or not has_permission(session, reviewer, Permission.REVIEW_SUGGESTIONS, unit):
            raise InvalidInput("suggestion.reviewer", N_("这位干部不负责这个单位的合理化建议，请另选一位。"))
    transition(suggestion, SuggestionStatus.REGISTERED)
    suggestion.category = category
    suggestion.department = department.strip()
    suggestion.reviewer_id = reviewer_id if reviewer_id is not None else actor.id
    suggestion.registered_at = now
    _set_due(suggestion, policy, now)
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.REGISTERED,
        actor=actor,
        now=now,
        category=category,
        department=suggestion.department,
    )
    return suggestion


def _check_opinion(text: str, *, empty: str) -> None:
    _check_text(
        text,
        code="opinion",
        limit=OPINION_MAX,
        empty=empty,
        too_long=N_("意见太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )


def first_review(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    opinion: str,
    now: datetime,
) -> Suggestion:
    """初评: the handling cadre's first opinion; a panel review or the decision comes next.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, an empty or over-long opinion.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    _check_opinion(opinion, empty=N_("请写下初评意见。"))
    transition(suggestion, SuggestionStatus.FIRST_REVIEWED)
    suggestion.opinion = opinion.strip()
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.FIRST_REVIEW,
        actor=actor,
        now=now,
        text=suggestion.opinion,
    )
    return suggestion


def panel_review(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    feasibility: Feasibility,
    cost_fen: int | None,
    benefit_fen: int | None,
    opinion: str,
    now: datetime,
) -> Suggestion:
    """评审: the panel's view of feasibility, cost and benefit, before the decision.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, a bad amount, an empty or over-long opinion.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    check_amount(cost_fen)
    check_amount(benefit_fen)
    _check_opinion(opinion, empty=N_("请写下评审意见。"))
    transition(suggestion, SuggestionStatus.PANEL_REVIEWED)
    suggestion.opinion = opinion.strip()
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.PANEL_REVIEW,
        actor=actor,
        now=now,
        text=suggestion.opinion,
        feasibility=feasibility.value,
        cost_fen=cost_fen,
        benefit_fen=benefit_fen,
    )
    return suggestion


def decide_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    adopted: bool,
    reason: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """采纳 or 不采纳, always with a reason: a rejected idea gets its reason ("五有").

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage (a first review must come first), a missing or over-long reason.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    _check_text(
        reason,
        code="reason",
        limit=OPINION_MAX,
        empty=N_("请写明采纳或不采纳的理由：提出人有权知道。"),
        too_long=N_("理由太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    transition(suggestion, SuggestionStatus.ADOPTED if adopted else SuggestionStatus.NOT_ADOPTED)
    suggestion.opinion = reason.strip()
    suggestion.adopted = adopted
    suggestion.decided_at = now
    _set_due(suggestion, policy, now)
    kind = EventKind.ADOPTED if adopted else EventKind.NOT_ADOPTED
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=kind,
        actor=actor,
        now=now,
        text=suggestion.opinion,
    )
    return suggestion


def start_implementation(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    started_on: date,
    notes: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """实施: the adopted idea is being put into practice.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, a start in the future, empty or over-long notes.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if started_on > policy.today(now):
        raise InvalidInput("suggestion.future_date", N_("日期不能晚于今天。"))
    _check_text(
        notes,
        code="notes",
        limit=OPINION_MAX,
        empty=N_("请简单写下实施情况。"),
        too_long=N_("说明太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    transition(suggestion, SuggestionStatus.IMPLEMENTING)
    suggestion.implementation_started_on = started_on
    _set_due(suggestion, policy, now)
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.IMPLEMENTATION_STARTED,
        actor=actor,
        now=now,
        text=notes.strip(),
        on=started_on.isoformat(),
    )
    return suggestion


def record_effect(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    value_fen: int,
    implemented_on: date,
    notes: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """实施效果: what the idea created (in yuan) once in place — the figure units are compared on.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, a bad amount, a date before the start or in the future, bad notes.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    check_amount(value_fen)
    if implemented_on > policy.today(now):
        raise InvalidInput("suggestion.future_date", N_("日期不能晚于今天。"))
    started = suggestion.implementation_started_on
    if started is not None and implemented_on < started:
        raise InvalidInput(
            "suggestion.before_start", N_("完成日期不能早于开始实施的日期 {date}。"), date=started.isoformat()
        )
    _check_text(
        notes,
        code="notes",
        limit=OPINION_MAX,
        empty=N_("请简单写下实施效果。"),
        too_long=N_("说明太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    transition(suggestion, SuggestionStatus.IMPLEMENTED)
    suggestion.value_fen = value_fen
    suggestion.implemented_on = implemented_on
    _set_due(suggestion, policy, now)
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.EFFECT_RECORDED,
        actor=actor,
        now=now,
        text=notes.strip(),
        value_fen=value_fen,
        on=implemented_on.isoformat(),
    )
    return suggestion


def may_award(session: Session, actor: Member, suggestion: Suggestion) -> bool:
    """Whether ``actor`` may give this suggestion an award: prize money is the chair's call (季评比)."""
    unit = session.get(Unit, suggestion.unit_id)
    assert unit is not None
    return has_permission(session, actor, Permission.APPRAISE_SUGGESTIONS, unit)


def award_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    award: Award,
    prize_fen: int,
    now: datetime,
) -> Suggestion:
    """金点子, 银点子 or 鼓励奖 with the prize money, for an adopted suggestion; given once.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        PermissionDenied: the actor reviews the suggestion but may not give awards (a committee member).
        InvalidInput: not adopted, already awarded, or a bad amount.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if not may_award(session, actor, suggestion):
        raise PermissionDenied("suggestion.award_not_allowed", N_("抱歉，评奖和奖金由工会主席决定。"))
    if not suggestion.adopted or suggestion.status is SuggestionStatus.MERGED:
        raise InvalidInput("suggestion.award_not_adopted", N_("只有被采纳的建议才能评奖。"))
    if suggestion.award is not None:
        raise InvalidInput(
            "suggestion.already_awarded",
            N_("这条建议已经评为“{award}”了。"),
            award=Label(AWARD_LABELS[suggestion.award]),
        )
    check_amount(prize_fen)
    suggestion.award = award
    suggestion.prize_fen = prize_fen
    suggestion.awarded_at = now
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.AWARDED,
        actor=actor,
        now=now,
        award=award.value,
        prize_fen=prize_fen,
    )
    return suggestion


def reply_to_proposer(
    session: Session, *, actor: Member, suggestion_id: int, expected_version: int, text: str, now: datetime
) -> Suggestion:
    """答复: a message to the proposer, which reaches them even when nobody knows who they are.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: empty or over-long, or the suggestion was merged into another.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if suggestion.status is SuggestionStatus.MERGED:
        raise InvalidInput(
            "suggestion.wrong_stage",
            N_("这条建议目前是“{status}”，不能进行这项操作。"),
            status=Label(STATUS_LABELS[suggestion.status]),
        )
    _check_text(
        text,
        code="reply",
        limit=REPLY_MAX,
        empty=N_("答复内容不能为空，请重新输入。"),
        too_long=N_("答复太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    suggestion.reply = text.strip()
    if suggestion.answered_at is None:
        suggestion.answered_at = now
    _record(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.REPLIED,
        actor=actor,
        now=now,
        text=suggestion.reply,
    )
    return suggestion


def close_suggestion(
    session: Session, *, actor: Member, suggestion_id: int, expected_version: int, now: datetime
) -> Suggestion:
    """办结: only with a handling opinion and a reply to the proposer ("五有").

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, or no opinion or no reply yet.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if SuggestionStatus.CLOSED in TRANSITIONS[suggestion.status]:
        if not suggestion.opinion:
            raise InvalidInput("suggestion.no_opinion", N_("还没有处理意见，不能办结。"))
        if not suggestion.reply:
            raise InvalidInput(
                "suggestion.no_reply", N_("还没有答复提出人，不能办结。请先选择“答复提出人”。")
            )
    transition(suggestion, SuggestionStatus.CLOSED)
    suggestion.closed_at = now
    _record(
        session, suggestion, expected_version=expected_version, kind=EventKind.CLOSED, actor=actor, now=now
    )
    return suggestion


# Where a duplicate may not go: its supporters would land on a suggestion nobody handles any more.
_CLOSED_TARGETS = frozenset({SuggestionStatus.MERGED, SuggestionStatus.CLOSED, SuggestionStatus.NOT_ADOPTED})


def merge_target(session: Session, *, actor: Member, suggestion_id: int, number: str) -> Suggestion:
    """The suggestion numbered ``number``, if ``suggestion_id`` may be merged into it.

    The merge form asks this as soon as the number is typed, so a typo is asked
    again instead of ending the form; :func:`merge_suggestion` asks it again.

    Raises:
        NotFound: no suggestion has that number.
        PermissionDenied: it lies outside the actor's subtree.
        InvalidInput: it is the same suggestion, or it is merged, closed or not adopted.
    """
    wanted = number.strip().upper().replace("－", "-")
    target = session.exec(select(Suggestion).where(Suggestion.number == wanted)).first()
    if target is None:
        raise NotFound("suggestion.merge_target", N_("找不到编号为 {number} 的建议。"), number=number.strip())
    _require_reviewer(session, actor, target)
    if target.id == suggestion_id:
        raise InvalidInput("suggestion.merge_self", N_("不能把建议合并到它自己。"))
    if target.status in _CLOSED_TARGETS:
        raise InvalidInput(
            "suggestion.merge_closed",
            N_("{number} 已经“{status}”，请合并到一条仍在办理的建议。"),
            number=target.number,
            status=Label(STATUS_LABELS[target.status]),
        )
    return target


def merge_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    into_number: str,
    note: str,
    now: datetime,
) -> Suggestion:
    """合并: fold a duplicate into another; its proposer and supporters become the other's supporters.

    The note is both the handling opinion and the reply the proposer receives,
    so a merged suggestion closes with both ("五有").

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`; the target is unknown or out of scope.
        InvalidInput: a wrong stage, the same suggestion, a target that is merged or closed, an empty note.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    assert suggestion.id is not None
    target = merge_target(session, actor=actor, suggestion_id=suggestion.id, number=into_number)
    _check_text(
        note,
        code="note",
        limit=REPLY_MAX,
        empty=N_("请写一句合并说明，提出人会收到。"),
        too_long=N_("说明太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    check_transition(suggestion, SuggestionStatus.MERGED)
    # Every rule has passed: claim the version now, before the supporters are written, so a
    # colleague's change in the meantime leaves nothing of this merge behind.
    _bump_version(session, suggestion, expected_version)
    transition(suggestion, SuggestionStatus.MERGED)
    assert target.id is not None
    assert suggestion.id is not None
    supporters = set(
        session.exec(
            select(SuggestionSupport.member_id).where(SuggestionSupport.suggestion_id == suggestion.id)
        ).all()
    )
    supporters.add(suggestion.proposer_id)
    supporters.discard(target.proposer_id)
    already = set(
        session.exec(
            select(SuggestionSupport.member_id).where(SuggestionSupport.suggestion_id == target.id)
        ).all()
    )
    for member_id in sorted(supporters - already):
        session.add(SuggestionSupport(suggestion_id=target.id, member_id=member_id, created_at=now))
    suggestion.merged_into_id = target.id
    suggestion.opinion = note.strip()
    suggestion.reply = note.strip()
    suggestion.answered_at = suggestion.answered_at or now
    suggestion.closed_at = now
    suggestion.due_on = None
    _record(
        session,
        suggestion,
        kind=EventKind.MERGED,
        actor=actor,
        now=now,
        text=note.strip(),
        into=target.number,
    )
    return suggestion


def local_date(moment: datetime, zone: tzinfo) -> date:
    """A stored UTC time as a calendar date in the union's zone."""
    return moment.astimezone(zone).date()


def utc_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant a local calendar day starts: period bounds for figures."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
