"""Activities (活动): what a cadre organises for their units, and who signs up.

"月月有比赛、人人都参与": a cadre with the activities permission sets out a
contest, a lecture or an outing — when, where, until when members may sign up,
how many places — for units of their subtree. Members of those units see it
while sign-up is open, sign up and may change their mind until the deadline;
the cadre sees who comes. Cancelling an activity tells everyone signed up,
through the outbox, in the same transaction.

A sign-up is one row per member and activity, whatever happens to it: its
status says where it stands (signed up, cancelled), so a member who cancels and
comes back keeps one row, and statuses still to come (waitlisted, drawn by
lottery, placed in a batch) are more values of the same column.

Places are counted under a lock on the activity's row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers
anyway), so two members taking the last place at the same moment cannot both
have it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.base import UTCDateTime, string_enum, utcnow, visible_length
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.facts import Fact
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.roles import Permission, has_permission, scope_units
from models.units import PATH_SEPARATOR, Unit, ordered_units, unit_path

TITLE_MAX = 40
# Under Telegram's 4,096-character message, with room for the title, time and place.
DESCRIPTION_MAX = 2000
PLACE_MAX = 100
# No union hall seats more; a larger number is a typo (an extra zero).
CAPACITY_MAX = 100_000
# Why an activity is off, in a sentence or two: it goes into the news to everyone signed up.
CANCEL_REASON_MAX = 100

CANCELLED_TOPIC = "activity_cancelled"
PROMOTED_TOPIC = "activity_promoted"


class ActivityStatus(StrEnum):
    OPEN = "open"  # members may sign up until the deadline
    CANCELLED = "cancelled"  # called off; those signed up were told


ACTIVITY_TRANSITIONS: dict[ActivityStatus, frozenset[ActivityStatus]] = {
    ActivityStatus.OPEN: frozenset({ActivityStatus.CANCELLED}),
    ActivityStatus.CANCELLED: frozenset(),
}


class SignupStatus(StrEnum):
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"  # the activity was full: in line for a place that frees
    CANCELLED = "cancelled"  # by the member, before the deadline


SIGNUP_TRANSITIONS: dict[SignupStatus, frozenset[SignupStatus]] = {
    SignupStatus.SIGNED_UP: frozenset({SignupStatus.CANCELLED}),
    # Moved in when a place frees, or out of the line by the member's own choice.
    SignupStatus.WAITLISTED: frozenset({SignupStatus.SIGNED_UP, SignupStatus.CANCELLED}),
    SignupStatus.CANCELLED: frozenset({SignupStatus.SIGNED_UP, SignupStatus.WAITLISTED}),
}


class SignupOutcome(StrEnum):
    """What :func:`sign_up` did: a second tap on 报名 is not an error, just already done."""

    SIGNED_UP = "signed_up"
    ALREADY_SIGNED_UP = "already_signed_up"
    WAITLISTED = "waitlisted"
    ALREADY_WAITLISTED = "already_waitlisted"


class Activity(SQLModel, table=True):
    """An activity as the cadre set it out; its eligible units are rows of ``activity_unit``."""

    __tablename__ = "activity"

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(foreign_key="member.id", index=True)
    status: ActivityStatus = Field(default=ActivityStatus.OPEN, sa_type=string_enum(ActivityStatus, 16))
    # Lengths are counted as members count characters; an emoji may take several code points.
    title: str = Field(max_length=400)
    description: str = Field(sa_type=sa.Text)
    place: str = Field(max_length=1000)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    signup_deadline: datetime = Field(sa_type=UTCDateTime, index=True)
    capacity: int | None = Field(default=None)  # None: as many as come
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it was called off, as the cadre wrote it, told to those signed up; None when not given.
    cancel_reason: str | None = Field(default=None, max_length=1000)


class ActivityUnit(SQLModel, table=True):
    """One unit whose subtree may sign up for an activity: "open to me" is then one indexed query."""

    __tablename__ = "activity_unit"

    activity_id: int = Field(foreign_key="activity.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, index=True)


class ActivitySignup(SQLModel, table=True):
    """One member's sign-up for one activity, and where it stands."""

    __tablename__ = "activity_signup"
    __table_args__ = (sa.UniqueConstraint("activity_id", "member_id", name="uq_activity_signup"),)

    id: int | None = Field(default=None, primary_key=True)
    # uq_activity_signup indexes activity_id as its first column.
    activity_id: int = Field(foreign_key="activity.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    status: SignupStatus = Field(default=SignupStatus.SIGNED_UP, sa_type=string_enum(SignupStatus, 16))
    signed_up_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The order requests were committed in, per activity (1, 2, …), taken under the activity's
    # lock: the waitlist is served in it. Two requests of one instant still get two numbers,
    # and a member who cancels and comes back joins the end of the line.
    queue_no: int = Field(default=0)


@dataclass(frozen=True)
class ActivityDraft:
    """What the cadre set out, not yet checked. Times are aware; ``capacity`` None means unlimited."""

    title: str
    description: str
    place: str
    starts_at: datetime
    signup_deadline: datetime
    capacity: int | None
    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class Attendee:
    """One member signed up, as the cadre's list shows them."""

    member: Member
    unit: str
    signed_up_at: datetime


# ----------------------------------------------------------------------------- checks


def _check_text(draft: ActivityDraft) -> None:
    """Refuse empty or over-long text, naming the limit: cutting it would lose what the cadre wrote."""
    fields = (
        (
            "title",
            draft.title,
            TITLE_MAX,
            N_("活动名称不能为空，请重新输入。"),
            N_("活动名称太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        ),
        (
            "description",
            draft.description,
            DESCRIPTION_MAX,
            N_("活动介绍不能为空，请重新输入。"),
            N_("活动介绍太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        ),
        (
            "place",
            draft.place,
            PLACE_MAX,
            N_("活动地点不能为空，请重新输入。"),
            N_("活动地点太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        ),
    )
    for name, text, limit, empty, too_long in fields:
        if not text.strip():
            raise InvalidInput(f"activity.{name}_empty", empty)
        if (count := visible_length(text)) > limit:
            raise InvalidInput(f"activity.{name}_too_long", too_long, limit=limit, count=count)


def check_start(starts_at: datetime, now: datetime) -> None:
    """Refuse a start that has passed: nobody can sign up for yesterday.

    Raises:
        InvalidInput: ``activity.start_past``.
    """
    if starts_at <= now:
        raise InvalidInput("activity.start_past", N_("这个活动时间已经过去了，请输入一个以后的时间。"))


def check_deadline(deadline: datetime, starts_at: datetime, now: datetime) -> None:
    """Refuse a sign-up deadline that has passed or comes after the activity starts.

    Raises:
        InvalidInput: ``activity.deadline_past`` or ``activity.deadline_after_start``.
    """
    if deadline <= now:
        raise InvalidInput("activity.deadline_past", N_("这个报名截止时间已经过去了，请输入一个以后的时间。"))
    if deadline > starts_at:
        raise InvalidInput(
            "activity.deadline_after_start", N_("报名截止时间不能晚于活动开始时间，请重新输入。")
        )


def check_capacity(capacity: int | None) -> None:
    """Refuse a number of places that is not a positive whole number, or absurdly large.

    Raises:
        InvalidInput: ``activity.capacity``.
    """
    if capacity is not None and not 1 <= capacity <= CAPACITY_MAX:
        raise InvalidInput(
            "activity.capacity", N_("名额请填 1 到 {maximum} 之间的整数。"), maximum=CAPACITY_MAX
        )


def activity_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees ``actor`` may organise activities for, highest first, nested ones left out.

    Raises:
        PermissionDenied: the actor may not organise activities anywhere.
    """
    units = scope_units(session, actor, Permission.MANAGE_ACTIVITIES) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied(
            "activity.not_allowed", N_("抱歉，只有负责组织活动的工会干部才能发起和管理活动。")
        )
    unique = {unit.id: unit for unit in tops}
    return sorted(unique.values(), key=lambda unit: unit.id_path)


def units_in_scope(session: Session, actor: Member) -> Sequence[Unit]:
    """Every unit the actor may open an activity to, in tree order: what a cadre picks from."""
    tops = activity_scope(session, actor)
    condition = sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in tops))
    return ordered_units(session, session.exec(select(Unit).where(condition)).all())


def check_units(session: Session, *, actor: Member, unit_ids: Collection[int]) -> list[Unit]:
    """The eligible units, each checked against the actor's scope, those inside another left out.

    Raises:
        PermissionDenied: the actor may not organise activities, or a unit lies outside their subtree.
        NotFound: no such unit.
        InvalidInput: ``activity.no_units``.
    """
    activity_scope(session, actor)
    if not unit_ids:
        raise InvalidInput("activity.no_units", N_("请至少选择一个单位。"))
    units = []
    for unit_id in dict.fromkeys(unit_ids):
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("unit.not_found", N_("找不到这个单位。"))
        if not has_permission(session, actor, Permission.MANAGE_ACTIVITIES, unit):
            raise PermissionDenied(
                "activity.out_of_scope",
                N_("“{unit}”不在您负责的范围内，活动只能面向您负责的单位。"),
                unit=unit_path(session, unit),
            )
        units.append(unit)
    # A unit inside another one chosen adds nobody: keep the list as short as what it means.
    return [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]


def check_activity(session: Session, *, actor: Member, draft: ActivityDraft, now: datetime) -> list[Unit]:
    """Check everything about a draft before anything is written; return its eligible units.

    Raises:
        PermissionDenied: not allowed to organise activities, or a unit outside the actor's subtree.
        InvalidInput: empty or over-long text, a start or deadline that has passed, a deadline
            after the start, a capacity that is not a positive number.
    """
    units = check_units(session, actor=actor, unit_ids=draft.unit_ids)
    _check_text(draft)
    check_start(draft.starts_at, now)
    check_deadline(draft.signup_deadline, draft.starts_at, now)
    check_capacity(draft.capacity)
    return units


# ------------------------------------------------------------------------- organising


def create_activity(session: Session, *, actor: Member, draft: ActivityDraft, now: datetime) -> Activity:
    """Record an activity, open for sign-up by the members of its units until the deadline.

    Raises:
        The errors of :func:`check_activity`; nothing is written then.
    """
    units = check_activity(session, actor=actor, draft=draft, now=now)
    assert actor.id is not None
    activity = Activity(
        organiser_id=actor.id,
        title=draft.title.strip(),
        description=draft.description.strip(),
        place=draft.place.strip(),
        starts_at=draft.starts_at,
        signup_deadline=draft.signup_deadline,
        capacity=draft.capacity,
        created_at=now,
    )
    session.add(activity)
    session.flush()
    assert activity.id is not None
    for unit in units:
        assert unit.id is not None
        session.add(ActivityUnit(activity_id=activity.id, unit_id=unit.id))
    session.flush()
    return activity


# Read for every push telling a signed-up member the activity is off: once per transaction.
_UNITS = Fact[int, tuple[Unit, ...]]("activity units", {ActivityUnit: None, Unit: ("id_path",)})


def activity_units(session: Session, activity_id: int) -> list[Unit]:
    """The units whose members may sign up, in tree order; read once per transaction (models.facts)."""

    def read() -> tuple[Unit, ...]:
        return tuple(
            session.exec(
                select(Unit)
                .join(ActivityUnit, col(ActivityUnit.unit_id) == col(Unit.id))
                .where(ActivityUnit.activity_id == activity_id)
                .order_by(col(Unit.id_path))
            ).all()
        )

    return list(_UNITS.recall(session, activity_id, read))


def _managed_condition(session: Session, actor: Member) -> sa.ColumnElement[bool]:
    """The activities the actor organised, or whose every unit lies in their subtree."""
    prefixes = [unit.id_path for unit in scope_units(session, actor, Permission.MANAGE_ACTIVITIES)]
    if not actor.is_active:
        return sa.false()
    mine = col(Activity.organiser_id) == actor.id
    if not prefixes:
        return mine
    outside = (
        select(ActivityUnit.unit_id)
        .join(Unit, col(Unit.id) == col(ActivityUnit.unit_id))
        .where(
            col(ActivityUnit.activity_id) == col(Activity.id),
            sa.not_(sa.or_(*(col(Unit.id_path).startswith(prefix) for prefix in prefixes))),
        )
    )
    return sa.or_(mine, ~outside.exists())


def managed_activity(session: Session, *, actor: Member, activity_id: int) -> Activity:
    """An activity the actor may see the sign-ups of and cancel: their own, or one within their scope.

    Raises:
        NotFound: no such activity.
        PermissionDenied: neither the organiser nor a cadre over all of its units.
    """
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("activity.not_found", N_("找不到这个活动。"))
    managed = session.exec(
        select(Activity.id).where(Activity.id == activity_id, _managed_condition(session, actor))
    ).first()
    if managed is None:
        raise PermissionDenied("activity.not_yours", N_("抱歉，这个活动不在您负责的范围内。"))
    return activity


def activities_managed_by(
    session: Session, *, actor: Member, offset: int = 0, limit: int | None = 5
) -> tuple[list[Activity], int]:
    """One page of the activities the actor may manage, newest first, and how many in all.

    Those they organised, and those of other organisers wholly within their subtree
    (a plant chair looks after the workshops' activities too).
    """
    managed = _managed_condition(session, actor)
    total = session.exec(select(func.count()).select_from(Activity).where(managed)).one()
    page = session.exec(
        select(Activity).where(managed).order_by(col(Activity.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(page), int(total)


def signups_of(
    session: Session, *, actor: Member, activity_id: int, status: SignupStatus = SignupStatus.SIGNED_UP
) -> list[Attendee]:
    """Who is signed up (or, by ``status``, waiting), in the order they asked, with 工号 and unit:
    the cadre's list.

    Raises:
        NotFound: no such activity.
        PermissionDenied: neither the organiser nor a cadre over all of its units.
    """
    managed_activity(session, actor=actor, activity_id=activity_id)
    rows = session.exec(
        select(ActivitySignup, Member)
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == status)
        .order_by(col(ActivitySignup.queue_no), col(ActivitySignup.id))
    ).all()
    units = {unit.id: unit for unit in session.exec(select(Unit))}
    paths = {unit_id: _path(units, unit) for unit_id, unit in units.items()}
    return [Attendee(member, paths[member.unit_id], signup.signed_up_at) for signup, member in rows]


def _path(units: dict[int | None, Unit], unit: Unit) -> str:
    ids = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    return PATH_SEPARATOR.join(units[i].name for i in ids)


def signed_up_members(session: Session, activity_id: int, *, waiting_too: bool = False) -> list[int]:
    """The active members signed up now (and those waiting, when asked), by id: whom news reaches."""
    statuses = [SignupStatus.SIGNED_UP, *([SignupStatus.WAITLISTED] if waiting_too else [])]
    rows = session.exec(
        select(ActivitySignup.member_id)
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(
            ActivitySignup.activity_id == activity_id,
            col(ActivitySignup.status).in_(statuses),
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(col(ActivitySignup.member_id))
    )
    return list(rows)


def cancelled_key(activity_id: int, member_id: int) -> str:
    return f"activity:{activity_id}:cancelled:member:{member_id}"


def transition(activity: Activity, to: ActivityStatus) -> None:
    if to not in ACTIVITY_TRANSITIONS[activity.status]:
        raise ValueError(f"a {activity.status} activity cannot become {to}")
    activity.status = to


def transition_signup(signup: ActivitySignup, to: SignupStatus) -> None:
    if to not in SIGNUP_TRANSITIONS[signup.status]:
        raise ValueError(f"a {signup.status} sign-up cannot become {to}")
    signup.status = to


def check_cancel_reason(reason: str | None) -> str | None:
    """The reason as it will be told, trimmed; None for none. Refused, naming the limit, when too long.

    Raises:
        InvalidInput: ``activity.reason_too_long``.
    """
    if reason is None or not reason.strip():
        return None
    if (count := visible_length(reason.strip())) > CANCEL_REASON_MAX:
        raise InvalidInput(
            "activity.reason_too_long",
            N_("取消原因太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
            limit=CANCEL_REASON_MAX,
            count=count,
        )
    return reason.strip()


def cancel_activity(
    session: Session, *, actor: Member, activity_id: int, now: datetime, reason: str | None = None
) -> int:
    """Call an activity off and queue the news to everyone signed up, with the reason, in one transaction.

    Returns:
        How many members will be told.

    Raises:
        NotFound: no such activity.
        PermissionDenied: neither the organiser nor a cadre over all of its units.
        InvalidInput: ``activity.already_cancelled``, ``activity.already_started`` or
            ``activity.reason_too_long``.
    """
    activity = _locked(session, managed_activity(session, actor=actor, activity_id=activity_id).id)
    reason = check_cancel_reason(reason)
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.already_cancelled", N_("这个活动已经取消了。"))
    if activity.starts_at <= now:
        raise InvalidInput("activity.already_started", N_("这个活动已经开始了，不能再取消。"))
    transition(activity, ActivityStatus.CANCELLED)
    activity.cancelled_at = now
    activity.cancel_reason = reason
    session.add(activity)
    members = signed_up_members(session, activity_id, waiting_too=True)
    enqueue(
        session,
        [
            NewPush(
                key=cancelled_key(activity_id, member_id),
                member_id=member_id,
                kind=PushKind.STATUS,
                topic=CANCELLED_TOPIC,
                subject_id=activity_id,
            )
            for member_id in members
        ],
        now=now,
    )
    session.flush()
    return len(members)


# ------------------------------------------------------------------------------ members


def _ancestor_ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def _eligible(session: Session, member: Member) -> sa.ColumnElement[bool]:
    """The condition for the activities open to a member's unit: one of its units is at or above it."""
    unit = session.get(Unit, member.unit_id)
    if unit is None or not member.is_active:
        return sa.false()
    return (
        select(ActivityUnit.activity_id)
        .where(
            col(ActivityUnit.activity_id) == col(Activity.id),
            col(ActivityUnit.unit_id).in_(_ancestor_ids(unit)),
        )
        .exists()
    )


def _soonest_first(
    session: Session, condition: sa.ColumnElement[bool], *, offset: int, limit: int | None
) -> tuple[list[Activity], int]:
    """One page of the activities meeting ``condition``, soonest first, and how many in all."""
    total = session.exec(select(func.count()).select_from(Activity).where(condition)).one()
    page = session.exec(
        select(Activity)
        .where(condition)
        .order_by(col(Activity.starts_at), col(Activity.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(page), int(total)


def open_activities_for(
    session: Session, *, member: Member, now: datetime, offset: int = 0, limit: int | None = 5
) -> tuple[list[Activity], int]:
    """One page of the activities a member may sign up for now, soonest first, and how many in all."""
    condition = sa.and_(
        _eligible(session, member),
        col(Activity.status) == ActivityStatus.OPEN,
        col(Activity.signup_deadline) > now,
    )
    return _soonest_first(session, condition, offset=offset, limit=limit)


def signups_for(
    session: Session, *, member: Member, now: datetime, offset: int = 0, limit: int | None = 5
) -> tuple[list[Activity], int]:
    """One page of the activities a member is signed up or waiting for that have not started, soonest first.

    Cancelled activities stay in the list until their time, so the member sees why they are off.
    """
    condition = sa.and_(
        col(Activity.id).in_(
            select(ActivitySignup.activity_id).where(
                ActivitySignup.member_id == member.id,
                col(ActivitySignup.status).in_([SignupStatus.SIGNED_UP, SignupStatus.WAITLISTED]),
            )
        ),
        col(Activity.starts_at) > now,
    )
    return _soonest_first(session, condition, offset=offset, limit=limit)


def signup_counts(
    session: Session, activity_ids: Collection[int], status: SignupStatus = SignupStatus.SIGNED_UP
) -> dict[int, int]:
    """How many are signed up for (or waiting for) each activity; activities with none are left out."""
    if not activity_ids:
        return {}
    rows = session.exec(
        select(ActivitySignup.activity_id, func.count())
        .where(col(ActivitySignup.activity_id).in_(list(activity_ids)), ActivitySignup.status == status)
        .group_by(col(ActivitySignup.activity_id))
    ).all()
    return dict(rows)


def waitlist_counts(session: Session, activity_ids: Collection[int]) -> dict[int, int]:
    """How many wait for a place in each activity; activities with nobody waiting are left out."""
    return signup_counts(session, activity_ids, SignupStatus.WAITLISTED)


def _signup(session: Session, activity_id: int, member_id: int | None) -> ActivitySignup | None:
    return session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.member_id == member_id
        )
    ).first()


def is_signed_up(session: Session, *, member: Member, activity_id: int) -> bool:
    signup = _signup(session, activity_id, member.id)
    return signup is not None and signup.status is SignupStatus.SIGNED_UP


def waitlist_position(session: Session, *, member: Member, activity_id: int) -> int | None:
    """Where the member stands in the activity's waitlist (1 is next in), or None when not waiting."""
    signup = _signup(session, activity_id, member.id)
    if signup is None or signup.status is not SignupStatus.WAITLISTED:
        return None
    ahead = session.exec(
        select(func.count())
        .select_from(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.status == SignupStatus.WAITLISTED,
            col(ActivitySignup.queue_no) < signup.queue_no,
        )
    ).one()
    return int(ahead) + 1


def waitlist_positions(session: Session, *, member: Member, activity_ids: Collection[int]) -> dict[int, int]:
    """The member's place in each of these activities' waitlists, where they wait: for a list of them."""
    if not activity_ids:
        return {}
    mine = (
        select(ActivitySignup.activity_id, ActivitySignup.queue_no)
        .where(
            col(ActivitySignup.activity_id).in_(list(activity_ids)),
            ActivitySignup.member_id == member.id,
            ActivitySignup.status == SignupStatus.WAITLISTED,
        )
        .subquery()
    )
    rows = session.exec(
        select(mine.c.activity_id, func.count())
        .select_from(mine)
        .join(
            ActivitySignup,
            sa.and_(
                col(ActivitySignup.activity_id) == mine.c.activity_id,
                col(ActivitySignup.status) == SignupStatus.WAITLISTED,
                col(ActivitySignup.queue_no) <= mine.c.queue_no,
            ),
        )
        .group_by(mine.c.activity_id)
    ).all()
    return {int(activity_id): int(position) for activity_id, position in rows}


def member_activity(session: Session, *, member: Member, activity_id: int) -> Activity:
    """An activity a member may look at: one open to their unit, or one they signed up for.

    Raises:
        NotFound: no such activity, or one the member has nothing to do with.
    """
    activity = session.exec(
        select(Activity).where(
            Activity.id == activity_id,
            sa.or_(
                _eligible(session, member),
                col(Activity.id).in_(
                    select(ActivitySignup.activity_id).where(ActivitySignup.member_id == member.id)
                ),
            ),
        )
    ).first()
    if activity is None:
        raise NotFound("activity.not_found", N_("找不到这个活动。"))
    return activity


def _locked(session: Session, activity_id: int | None) -> Activity:
    """The activity's row, locked until the transaction ends, read afresh."""
    activity = session.exec(
        select(Activity)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if activity is None:
        raise NotFound("activity.not_found", N_("找不到这个活动。"))
    return activity


def _check_open(activity: Activity, now: datetime) -> None:
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    if activity.signup_deadline <= now:
        raise InvalidInput("activity.deadline_passed", N_("这个活动的报名已经截止了。"))


def _next_queue_no(session: Session, activity_id: int) -> int:
    """The next number in the activity's order of requests; only read under the activity's lock."""
    last = session.exec(
        select(func.max(ActivitySignup.queue_no)).where(ActivitySignup.activity_id == activity_id)
    ).one()
    return int(last or 0) + 1


def sign_up(
    session: Session, *, actor: Member, activity_id: int, now: datetime, waitlist: bool = False
) -> SignupOutcome:
    """Sign the actor up, if the activity is open to them and has a place left; else, if they
    asked to (``waitlist``), put them at the end of its waitlist.

    The activity's row stays locked until the caller commits, so the count of
    places, the order of requests and the new sign-up cannot interleave with
    another member's: of two requests for the last place, the one committed
    first has it and the other waits behind everyone already waiting.

    Returns:
        ``SIGNED_UP`` or ``WAITLISTED``; ``ALREADY_SIGNED_UP`` or ``ALREADY_WAITLISTED``
        when they were (nothing changes).

    Raises:
        NotFound: no such activity.
        PermissionDenied: ``activity.not_eligible``, not open to the member's unit.
        InvalidInput: ``activity.cancelled``, ``activity.deadline_passed``, or ``activity.full``
            when there is no place and ``waitlist`` was not asked for.
    """
    activity = _locked(session, activity_id)
    signup = _signup(session, activity_id, actor.id)
    if signup is not None and signup.status is SignupStatus.SIGNED_UP:
        return SignupOutcome.ALREADY_SIGNED_UP
    if signup is not None and signup.status is SignupStatus.WAITLISTED:
        return SignupOutcome.ALREADY_WAITLISTED
    eligible = session.exec(
        select(Activity.id).where(Activity.id == activity_id, _eligible(session, actor))
    ).first()
    if eligible is None:
        raise PermissionDenied("activity.not_eligible", N_("抱歉，这个活动不面向您所在的单位。"))
    _check_open(activity, now)
    # A place freed goes to the first in line in the same transaction (cancel_signup), so
    # a newcomer never finds a free place while others wait for one.
    full = activity.capacity is not None and (
        signup_counts(session, [activity_id]).get(activity_id, 0) >= activity.capacity
    )
    if full and not waitlist:
        raise InvalidInput(
            "activity.full",
            N_("很抱歉，名额已满（共 {capacity} 个名额）。可以排队候补，有人取消时按顺序递补。"),
            capacity=activity.capacity,
        )
    status = SignupStatus.WAITLISTED if full else SignupStatus.SIGNED_UP
    assert actor.id is not None
    if signup is None:
        signup = ActivitySignup(activity_id=activity_id, member_id=actor.id, status=status)
    else:
        transition_signup(signup, status)
    signup.signed_up_at, signup.cancelled_at = now, None
    signup.queue_no = _next_queue_no(session, activity_id)
    session.add(signup)
    session.flush()
    return SignupOutcome.WAITLISTED if full else SignupOutcome.SIGNED_UP


def promoted_key(activity_id: int, member_id: int, queue_no: int) -> str:
    # The queue number tells apart two promotions of one member (they declined, then waited again).
    return f"activity:{activity_id}:promoted:member:{member_id}:{queue_no}"


def _promote_waiting(session: Session, activity: Activity, now: datetime) -> int | None:
    """Move the first in line into a freed place and queue the news to them; their id, or None.

    Called under the activity's lock, in the transaction that freed the place, so
    the place goes to exactly one member even while others cancel at once.
    """
    assert activity.id is not None
    if activity.capacity is not None and (
        signup_counts(session, [activity.id]).get(activity.id, 0) >= activity.capacity
    ):
        return None
    first = session.exec(
        select(ActivitySignup)
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.status == SignupStatus.WAITLISTED,
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(col(ActivitySignup.queue_no))
        .limit(1)
    ).first()
    if first is None:
        return None
    transition_signup(first, SignupStatus.SIGNED_UP)
    session.add(first)
    enqueue(
        session,
        [
            NewPush(
                key=promoted_key(activity.id, first.member_id, first.queue_no),
                member_id=first.member_id,
                kind=PushKind.STATUS,
                topic=PROMOTED_TOPIC,
                subject_id=activity.id,
            )
        ],
        now=now,
    )
    return first.member_id


def cancel_signup(session: Session, *, actor: Member, activity_id: int, now: datetime) -> None:
    """Withdraw the actor's sign-up, or take them out of the waitlist; allowed until the deadline,
    after which the organiser plans on them.

    A place freed goes at once, in the same transaction, to the first member
    waiting, who is told; declining it is cancelling in turn, which passes it on.

    Raises:
        NotFound: no such activity.
        InvalidInput: ``activity.not_signed_up``, ``activity.cancelled`` or ``activity.cancel_too_late``.
    """
    activity = _locked(session, activity_id)
    signup = _signup(session, activity_id, actor.id)
    if signup is None or signup.status is SignupStatus.CANCELLED:
        raise InvalidInput("activity.not_signed_up", N_("您没有报名这个活动。"))
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    if activity.signup_deadline <= now:
        raise InvalidInput(
            "activity.cancel_too_late", N_("报名已经截止，不能再取消了。如果去不了，请联系活动组织人。")
        )
    freed = signup.status is SignupStatus.SIGNED_UP
    transition_signup(signup, SignupStatus.CANCELLED)
    signup.cancelled_at = now
    session.add(signup)
    session.flush()
    if freed:
        _promote_waiting(session, activity, now)
        session.flush()
