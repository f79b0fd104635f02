"""The activities' tables, statuses and the rules on how they change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_, NotFound
from models.members import Member

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
REMOVED_TOPIC = "activity_signup_removed"
ANNOUNCED_TOPIC = "activity_announced"
CHANGED_TOPIC = "activity_changed"
DRAWN_TOPIC = "activity_drawn"
OFFERED_TOPIC = "activity_offered"
REMINDER_TOPIC = "activity_reminder"


class ActivityKind(StrEnum):
    """What sort of activity: how unions report them ("文体、技能比武、培训…")."""

    SPORTS_CULTURE = "sports_culture"  # 文体
    SKILLS = "skills"  # 技能比武
    TRAINING = "training"  # 培训讲座
    RETREAT = "retreat"  # 疗养
    VOLUNTEER = "volunteer"  # 志愿服务
    OTHER = "other"  # 其他


KIND_LABELS: dict[ActivityKind, str] = {
    ActivityKind.SPORTS_CULTURE: N_("文体"),
    ActivityKind.SKILLS: N_("技能比武"),
    ActivityKind.TRAINING: N_("培训讲座"),
    ActivityKind.RETREAT: N_("疗养"),
    ActivityKind.VOLUNTEER: N_("志愿服务"),
    ActivityKind.OTHER: N_("其他"),
}

# A question asked at sign-up (衣服尺码, 参赛项目): short, with at most a handful of short choices.
QUESTION_MAX = 30
BATCHES_MAX = 10
CHOICE_MAX = 20
CHOICES_MAX = 10
ANSWER_MAX = 100


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
    REMOVED = "removed"  # by the organiser, with a reason the member was told
    # A lottery (allocation LOTTERY): in the draw until the deadline, then offered a place to
    # confirm, or kept in reserve in draw order; an offer not confirmed in time lapses.
    ENTERED = "entered"
    OFFERED = "offered"
    NOT_DRAWN = "not_drawn"
    LAPSED = "lapsed"


SIGNUP_TRANSITIONS: dict[SignupStatus, frozenset[SignupStatus]] = {
    SignupStatus.SIGNED_UP: frozenset({SignupStatus.CANCELLED, SignupStatus.REMOVED}),
    SignupStatus.ENTERED: frozenset(
        {SignupStatus.OFFERED, SignupStatus.NOT_DRAWN, SignupStatus.CANCELLED, SignupStatus.REMOVED}
    ),
    SignupStatus.OFFERED: frozenset(
        {SignupStatus.SIGNED_UP, SignupStatus.LAPSED, SignupStatus.CANCELLED, SignupStatus.REMOVED}
    ),
    SignupStatus.NOT_DRAWN: frozenset({SignupStatus.OFFERED, SignupStatus.CANCELLED, SignupStatus.REMOVED}),
    SignupStatus.LAPSED: frozenset(),
    # Moved in when a place frees, or out of the line by the member's own choice.
    SignupStatus.WAITLISTED: frozenset(
        {SignupStatus.SIGNED_UP, SignupStatus.CANCELLED, SignupStatus.REMOVED}
    ),
    SignupStatus.CANCELLED: frozenset(
        {SignupStatus.SIGNED_UP, SignupStatus.WAITLISTED, SignupStatus.ENTERED}
    ),
    # The organiser's decision stands: the member asks them, rather than signing up again.
    SignupStatus.REMOVED: frozenset(),
}


class SignupOutcome(StrEnum):
    """What :func:`sign_up` did: a second tap on 报名 is not an error, just already done."""

    SIGNED_UP = "signed_up"
    ALREADY_SIGNED_UP = "already_signed_up"
    WAITLISTED = "waitlisted"
    ALREADY_WAITLISTED = "already_waitlisted"
    ENTERED = "entered"  # in a lottery's draw
    ALREADY_ENTERED = "already_entered"


class Allocation(StrEnum):
    """How places are given: in the order members ask, or by a draw at the deadline."""

    FIRST_COME = "first_come"
    LOTTERY = "lottery"


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
    kind: ActivityKind = Field(default=ActivityKind.OTHER, sa_type=string_enum(ActivityKind, 20))
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Asked of each member signing up; with choices ("S、M、L") the answer is one of them.
    question: str | None = Field(default=None, max_length=200)
    choices: str | None = Field(default=None, max_length=400)  # "、"-separated
    # Bumped when its time or place changes: the news of each change is its own push.
    revision: int = Field(default=0)
    allocation: Allocation = Field(default=Allocation.FIRST_COME, sa_type=string_enum(Allocation, 16))
    # Members holding this role, or on the activity's priority list, come first until this moment:
    # alone may sign up (first come), or are drawn first (lottery).
    priority_role: str | None = Field(default=None, max_length=32)
    priority_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The draw: when, and the seed anyone can re-run it from (models.activities.lottery).
    drawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    draw_seed: str | None = Field(default=None, max_length=64)
    confirm_hours: int = Field(default=48)  # a winner confirms within this, or the place passes on
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it was called off, as the cadre wrote it, told to those signed up; None when not given.
    cancel_reason: str | None = Field(default=None, max_length=1000)
    # The key its daily check-in codes are derived from (models.activities.attendance); set when
    # the first code is asked for, so the codes of two activities never coincide by design.
    checkin_secret: str | None = Field(default=None, max_length=64)


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
    # When the member was there: checked in with the day's code, or marked by a cadre (who, then).
    attended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attendance_marked_by: int | None = Field(default=None, foreign_key="member.id")
    # Why the organiser removed the sign-up, as told to the member.
    removed_reason: str | None = Field(default=None, max_length=1000)
    answer: str | None = Field(default=None, max_length=400)  # to the activity's question
    batch_id: int | None = Field(default=None, foreign_key="activity_batch.id")  # the date chosen
    # The lottery: the place in the draw's order, whether drawn among the priority group, and
    # until when an offered place waits for the member's confirmation.
    draw_rank: int | None = Field(default=None)
    drawn_with_priority: bool = Field(default=False)
    offer_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ActivityBatch(SQLModel, table=True):
    """One of several dates sharing one sign-up (疗养 in batches), each with its own places."""

    __tablename__ = "activity_batch"
    __table_args__ = (sa.UniqueConstraint("activity_id", "number", name="uq_activity_batch_number"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    number: int  # 第1批, 第2批…, in the order they start
    starts_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int


class ActivityPriority(SQLModel, table=True):
    """A member on an activity's priority list (劳模, 先进 — imported from a spreadsheet)."""

    __tablename__ = "activity_priority"

    activity_id: int = Field(foreign_key="activity.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)


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
    kind: ActivityKind = ActivityKind.OTHER
    ends_at: datetime | None = None
    question: str | None = None
    choices: tuple[str, ...] = ()
    allocation: Allocation = Allocation.FIRST_COME
    priority_role: str | None = None
    priority_until: datetime | None = None
    # Several dates sharing one sign-up: (start, places) each; ``starts_at`` is then the first.
    batches: tuple[tuple[datetime, int], ...] = ()
    confirm_hours: int = 48  # a lottery's: the union's setting when it is set out


@dataclass(frozen=True)
class Attendee:
    """One member signed up, as the cadre's list shows them."""

    member: Member
    unit: str
    signed_up_at: datetime
    attended_at: datetime | None = None
    answer: str | None = None
    batch: int | None = None  # 第几批, for an activity held in batches


def transition(activity: Activity, to: ActivityStatus) -> None:
    if to not in ACTIVITY_TRANSITIONS[activity.status]:
        raise ValueError(f"a {activity.status} activity cannot become {to}")
    activity.status = to


def transition_signup(signup: ActivitySignup, to: SignupStatus) -> None:
    if to not in SIGNUP_TRANSITIONS[signup.status]:
        raise ValueError(f"a {signup.status} sign-up cannot become {to}")
    signup.status = to


def locked_activity(session: Session, activity_id: int | None) -> Activity:
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


@dataclass(frozen=True)
class ActivityPolicy:
    """The union's settings for activities.

    Attributes:
        remind_before: how long before an activity starts its reminders go to those signed up,
            longest first (a day, then an hour, by default); empty sends none.
        confirm_hours: how long a member drawn in a lottery has to confirm the place, after
            which it passes to the next drawn; kept with each activity when it is set out.
    """

    remind_before: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    confirm_hours: int = 48


def choices_of(activity: Activity) -> tuple[str, ...]:
    """The answers a member picks from, in the organiser's order; empty for a free answer."""
    return tuple(part for part in (activity.choices or "").split("、") if part)


def batches_of(session: Session, activity_id: int) -> list[ActivityBatch]:
    """An activity's batches in order; empty for one held once."""
    return list(
        session.exec(
            select(ActivityBatch)
            .where(ActivityBatch.activity_id == activity_id)
            .order_by(col(ActivityBatch.number))
        )
    )
