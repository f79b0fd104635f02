"""The member's side: what is open to them, signing up, the waitlist, cancelling."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.activities.lottery import in_priority, offer_next
from models.activities.tables import (
    ANSWER_MAX,
    PROMOTED_TOPIC,
    Activity,
    ActivityBatch,
    ActivitySignup,
    ActivityStatus,
    ActivityUnit,
    Allocation,
    SignupOutcome,
    SignupStatus,
    batches_of,
    choices_of,
    locked_activity,
    transition_signup,
)
from models.base import visible_length
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.units import PATH_SEPARATOR, Unit

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


# Sign-ups still in play, shown in 我的报名 until the activity: signed up, waiting, or in a draw.
IN_PLAY = (
    SignupStatus.SIGNED_UP,
    SignupStatus.WAITLISTED,
    SignupStatus.ENTERED,
    SignupStatus.OFFERED,
    SignupStatus.NOT_DRAWN,
)

# How long an activity stays in 我的报名 after it took place: long enough to see one was counted.
RECENTLY = timedelta(days=7)


def _soonest_first(
    session: Session,
    condition: sa.ColumnElement[bool],
    *,
    offset: int,
    limit: int | None,
    now: datetime | None = None,
) -> tuple[list[Activity], int]:
    """One page of the activities meeting ``condition``, soonest first, and how many in all.

    With ``now``, those still to come come first, then those past, the latest first.
    """
    total = session.exec(select(func.count()).select_from(Activity).where(condition)).one()
    order: list[Any] = [col(Activity.starts_at), col(Activity.id)]
    if now is not None:
        starts = col(Activity.starts_at)
        order = [
            sa.case((starts <= now, 1), else_=0),  # what is to come, then what is past
            sa.case((starts > now, starts)),  # to come: the soonest first
            sa.case((starts <= now, starts)).desc(),  # past: the latest first
            col(Activity.id),
        ]
    page = session.exec(select(Activity).where(condition).order_by(*order).offset(offset).limit(limit)).all()
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
    """One page of what a member signed up or waits for: what is still to come, soonest first, then
    what they signed up for in the last week, the latest first, so they see whether they were
    counted as there.

    Cancelled activities stay in the list until their time, so the member sees why they are off.
    """
    condition = sa.or_(
        sa.and_(
            col(Activity.id).in_(
                select(ActivitySignup.activity_id).where(
                    ActivitySignup.member_id == member.id,
                    col(ActivitySignup.status).in_(IN_PLAY),
                )
            ),
            col(Activity.starts_at) > now,
        ),
        sa.and_(
            col(Activity.id).in_(
                select(ActivitySignup.activity_id).where(
                    ActivitySignup.member_id == member.id, ActivitySignup.status == SignupStatus.SIGNED_UP
                )
            ),
            col(Activity.status) == ActivityStatus.OPEN,
            col(Activity.starts_at) <= now,
            col(Activity.starts_at) > now - RECENTLY,
        ),
    )
    return _soonest_first(session, condition, offset=offset, limit=limit, now=now)


def attended(session: Session, *, member: Member, activity_ids: Collection[int]) -> frozenset[int]:
    """Which of these activities the member was counted as at."""
    if not activity_ids:
        return frozenset()
    rows = session.exec(
        select(ActivitySignup.activity_id).where(
            ActivitySignup.member_id == member.id,
            col(ActivitySignup.activity_id).in_(list(activity_ids)),
            col(ActivitySignup.attended_at).is_not(None),
        )
    )
    return frozenset(rows)


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


def signup_of(session: Session, *, member: Member, activity_id: int) -> ActivitySignup | None:
    """The member's sign-up row for the activity, whatever its status."""
    return _signup(session, activity_id, member.id)


def entered_count(session: Session, activity_id: int) -> int:
    """How many are in a lottery's draw (before it), or were drawn (after)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(ActivitySignup)
            .where(
                ActivitySignup.activity_id == activity_id,
                col(ActivitySignup.status).in_(
                    [
                        SignupStatus.ENTERED,
                        SignupStatus.OFFERED,
                        SignupStatus.NOT_DRAWN,
                        SignupStatus.SIGNED_UP,
                    ]
                ),
            )
        ).one()
    )


def answer_of(session: Session, *, member: Member, activity_id: int) -> str | None:
    """What the member answered to the activity's question when signing up."""
    signup = _signup(session, activity_id, member.id)
    return signup.answer if signup is not None else None


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


def check_answer(activity: Activity, answer: str | None) -> str | None:
    """The answer as kept: one of the choices, or free text within its limit; None with no question.

    Raises:
        InvalidInput: ``activity.answer_missing``, ``activity.answer_not_a_choice`` or
            ``activity.answer_too_long``.
    """
    if activity.question is None:
        return None
    said = (answer or "").strip()
    if not said:
        raise InvalidInput(
            "activity.answer_missing", N_("报名需要回答：{question}"), question=activity.question
        )
    choices = choices_of(activity)
    if choices and said not in choices:
        raise InvalidInput(
            "activity.answer_not_a_choice", N_("请从这些选项中选一个：{choices}"), choices="、".join(choices)
        )
    count = visible_length(said)
    if count > ANSWER_MAX:
        raise InvalidInput(
            "activity.answer_too_long",
            N_("回答太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
            limit=ANSWER_MAX,
            count=count,
        )
    return said


def sign_up(
    session: Session,
    *,
    actor: Member,
    activity_id: int,
    now: datetime,
    waitlist: bool = False,
    answer: str | None = None,
    batch_id: int | None = None,
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
    activity = locked_activity(session, activity_id)
    signup = _signup(session, activity_id, actor.id)
    if signup is not None and signup.status is SignupStatus.SIGNED_UP:
        return SignupOutcome.ALREADY_SIGNED_UP
    if signup is not None and signup.status is SignupStatus.WAITLISTED:
        return SignupOutcome.ALREADY_WAITLISTED
    if signup is not None and signup.status is SignupStatus.ENTERED:
        return SignupOutcome.ALREADY_ENTERED
    if signup is not None and signup.status is SignupStatus.REMOVED:
        raise PermissionDenied(
            "activity.removed", N_("您的报名已被活动组织人移除，不能再报名。如有疑问请联系组织人。")
        )
    eligible = session.exec(
        select(Activity.id).where(Activity.id == activity_id, _eligible(session, actor))
    ).first()
    if eligible is None:
        raise PermissionDenied("activity.not_eligible", N_("抱歉，这个活动不面向您所在的单位。"))
    _check_open(activity, now)
    kept = check_answer(activity, answer)
    assert actor.id is not None
    in_priority_period = activity.priority_until is not None and now < activity.priority_until
    if in_priority_period and not in_priority(session, activity, actor.id):
        raise PermissionDenied(
            "activity.priority_only",
            N_("现在是优先报名时间，只有优先人员可以报名；优先期过后对所有会员开放，请到时再来。"),
        )
    if activity.allocation is Allocation.LOTTERY:
        # Everyone enters until the deadline; the draw decides, so nobody is told "full".
        return _enter(session, activity, signup, actor.id, kept, now)
    batch = _batch(session, activity, batch_id)
    capacity = batch.capacity if batch is not None else activity.capacity
    # A place freed goes to the first in line in the same transaction (cancel_signup), so
    # a newcomer never finds a free place while others wait for one.
    full = capacity is not None and _taken(session, activity_id, batch) >= capacity
    if full and not waitlist:
        raise InvalidInput(
            "activity.full",
            N_("很抱歉，名额已满（共 {capacity} 个名额）。可以排队候补，有人取消时按顺序递补。"),
            capacity=capacity,
        )
    status = SignupStatus.WAITLISTED if full else SignupStatus.SIGNED_UP
    assert actor.id is not None
    if signup is None:
        signup = ActivitySignup(activity_id=activity_id, member_id=actor.id, status=status)
    else:
        transition_signup(signup, status)
    signup.signed_up_at, signup.cancelled_at, signup.answer = now, None, kept
    signup.batch_id = batch.id if batch is not None else None
    signup.queue_no = _next_queue_no(session, activity_id)
    session.add(signup)
    session.flush()
    return SignupOutcome.WAITLISTED if full else SignupOutcome.SIGNED_UP


def _batch(session: Session, activity: Activity, batch_id: int | None) -> ActivityBatch | None:
    """The batch a member picked, which an activity held in batches needs.

    Raises:
        InvalidInput: ``activity.batch_missing``, or ``activity.batch_unknown`` (not this activity's).
    """
    assert activity.id is not None
    batches = batches_of(session, activity.id)
    if not batches:
        return None
    if batch_id is None:
        raise InvalidInput("activity.batch_missing", N_("这个活动分批举行，请先选一批。"))
    for batch in batches:
        if batch.id == batch_id:
            return batch
    raise InvalidInput("activity.batch_unknown", N_("没有这一批，请重新选择。"))


def _taken(session: Session, activity_id: int, batch: ActivityBatch | None) -> int:
    """Places taken in the activity, or in one of its batches."""
    query = (
        select(func.count())
        .select_from(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == SignupStatus.SIGNED_UP)
    )
    if batch is not None:
        query = query.where(ActivitySignup.batch_id == batch.id)
    return int(session.exec(query).one())


def batch_counts(session: Session, activity_id: int) -> dict[int, tuple[int, int]]:
    """Per batch of an activity: (signed up, waiting)."""
    rows = session.exec(
        select(ActivitySignup.batch_id, ActivitySignup.status, func.count())
        .where(
            ActivitySignup.activity_id == activity_id,
            col(ActivitySignup.status).in_([SignupStatus.SIGNED_UP, SignupStatus.WAITLISTED]),
            col(ActivitySignup.batch_id).is_not(None),
        )
        .group_by(col(ActivitySignup.batch_id), col(ActivitySignup.status))
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    for batch_id, status, count in rows:
        assert batch_id is not None
        signed, waiting = counts.get(batch_id, (0, 0))
        if SignupStatus(status) is SignupStatus.SIGNED_UP:
            signed = count
        else:
            waiting = count
        counts[batch_id] = (signed, waiting)
    return counts


def _enter(
    session: Session,
    activity: Activity,
    signup: ActivitySignup | None,
    member_id: int,
    answer: str | None,
    now: datetime,
) -> SignupOutcome:
    assert activity.id is not None
    if signup is None:
        signup = ActivitySignup(activity_id=activity.id, member_id=member_id, status=SignupStatus.ENTERED)
    else:
        transition_signup(signup, SignupStatus.ENTERED)
    signup.signed_up_at, signup.cancelled_at, signup.answer = now, None, answer
    signup.queue_no = _next_queue_no(session, activity.id)
    session.add(signup)
    session.flush()
    return SignupOutcome.ENTERED


def promoted_key(activity_id: int, member_id: int, queue_no: int) -> str:
    # The queue number tells apart two promotions of one member (they declined, then waited again).
    return f"activity:{activity_id}:promoted:member:{member_id}:{queue_no}"


def promote_waiting(
    session: Session, activity: Activity, now: datetime, batch_id: int | None = None
) -> int | None:
    """Move the first in line into a freed place and queue the news to them; their id, or None.

    Called under the activity's lock, in the transaction that freed the place, so
    the place goes to exactly one member even while others cancel at once.
    """
    assert activity.id is not None
    batch = next((b for b in batches_of(session, activity.id) if b.id == batch_id), None)
    capacity = batch.capacity if batch is not None else activity.capacity
    if capacity is not None and _taken(session, activity.id, batch) >= capacity:
        return None
    first = session.exec(
        select(ActivitySignup)
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.status == SignupStatus.WAITLISTED,
            ActivitySignup.batch_id == batch_id,
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
    activity = locked_activity(session, activity_id)
    signup = _signup(session, activity_id, actor.id)
    if signup is None or signup.status in (SignupStatus.CANCELLED, SignupStatus.REMOVED):
        raise InvalidInput("activity.not_signed_up", N_("您没有报名这个活动。"))
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    drawn_place = signup.status is SignupStatus.OFFERED or (
        activity.allocation is Allocation.LOTTERY and signup.status is SignupStatus.SIGNED_UP
    )
    if drawn_place:
        # Giving up a place the draw gave passes it on to the next drawn, until the start.
        if activity.starts_at <= now:
            raise InvalidInput("activity.already_started", N_("这个活动已经开始了。"))
        transition_signup(signup, SignupStatus.CANCELLED)
        signup.cancelled_at = now
        session.add(signup)
        session.flush()
        offer_next(session, activity=activity, now=now)
        return
    if signup.status in (SignupStatus.NOT_DRAWN, SignupStatus.LAPSED):
        raise InvalidInput("activity.not_signed_up", N_("您没有报名这个活动。"))
    if activity.signup_deadline <= now:
        raise InvalidInput(
            "activity.cancel_too_late", N_("报名已经截止，不能再取消了。如果去不了，请联系活动组织人。")
        )
    freed = signup.status is SignupStatus.SIGNED_UP and activity.allocation is Allocation.FIRST_COME
    transition_signup(signup, SignupStatus.CANCELLED)
    signup.cancelled_at = now
    session.add(signup)
    session.flush()
    if freed:
        promote_waiting(session, activity, now, signup.batch_id)
        session.flush()
