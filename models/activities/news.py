"""Telling members about an activity: announcing it to those who may join, and a change of time or place.

Both go through the outbox, one row per member, in the transaction that made
the news; each change is its own push (the activity's revision is in the key),
and one superseded before it left says nothing, since the next says it all.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from models.activities.organise import check_start, managed_activity, signed_up_members
from models.activities.tables import (
    ANNOUNCED_TOPIC,
    CHANGED_TOPIC,
    PLACE_MAX,
    ActivityStatus,
    ActivityUnit,
    locked_activity,
)
from models.base import visible_length
from models.errors import N_, InvalidInput
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.units import Unit


def _members_of(session: Session, unit_ids: Collection[int]) -> SelectOfScalar[int]:
    """The active members of these units' subtrees, by id."""
    paths = session.exec(select(Unit.id_path).where(col(Unit.id).in_(list(unit_ids)))).all()
    inside = select(Unit.id).where(
        sa.or_(sa.false(), *(col(Unit.id_path).startswith(path) for path in paths))
    )
    query = select(Member.id).where(Member.status == MemberStatus.ACTIVE, col(Member.unit_id).in_(inside))
    return query  # type: ignore[return-value]


def count_members_in(session: Session, unit_ids: Collection[int]) -> int:
    """How many active members the units' subtrees hold: who an announcement would reach."""
    if not unit_ids:
        return 0
    return int(
        session.exec(select(func.count()).select_from(_members_of(session, unit_ids).subquery())).one()
    )


def announced_key(activity_id: int, member_id: int) -> str:
    return f"activity:{activity_id}:announced:member:{member_id}"


def announce_activity(session: Session, *, actor: Member, activity_id: int, now: datetime) -> int:
    """Tell every active member who may sign up that the activity is open; twice tells nobody twice.

    Returns:
        How many pushes were new.

    Raises:
        NotFound, PermissionDenied: as :func:`managed_activity`.
    """
    activity = managed_activity(session, actor=actor, activity_id=activity_id)
    units = list(session.exec(select(ActivityUnit.unit_id).where(ActivityUnit.activity_id == activity_id)))
    members = list(session.exec(_members_of(session, units)))
    pushes = [
        NewPush(
            key=announced_key(activity_id, member_id),
            member_id=member_id,
            kind=PushKind.NOTICE,
            topic=ANNOUNCED_TOPIC,
            subject_id=activity.id,
        )
        for member_id in members
    ]
    return enqueue(session, pushes, now=now) if pushes else 0


def changed_key(activity_id: int, revision: int, member_id: int) -> str:
    return f"activity:{activity_id}:changed:{revision}:member:{member_id}"


def change_activity(
    session: Session, *, actor: Member, activity_id: int, starts_at: datetime, place: str, now: datetime
) -> int:
    """Move an activity to another time or place and tell everyone signed up or waiting.

    Returns:
        How many members will be told.

    Raises:
        NotFound, PermissionDenied: as :func:`managed_activity`.
        InvalidInput: ``activity.cancelled``, ``activity.already_started``, a start past or before the
            sign-up deadline, a place empty or too long, ``activity.unchanged``.
    """
    activity = locked_activity(session, managed_activity(session, actor=actor, activity_id=activity_id).id)
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    if activity.starts_at <= now:
        raise InvalidInput("activity.already_started", N_("这个活动已经开始了，不能再改时间地点。"))
    check_start(starts_at, now)
    if activity.signup_deadline > starts_at:
        raise InvalidInput(
            "activity.deadline_after_start", N_("新的开始时间早于报名截止时间，请选报名截止之后的时间。")
        )
    place = place.strip()
    count = visible_length(place)
    if not count:
        raise InvalidInput("activity.place_empty", N_("活动地点不能为空，请重新输入。"))
    if count > PLACE_MAX:
        raise InvalidInput(
            "activity.place_too_long",
            N_("活动地点太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
            limit=PLACE_MAX,
            count=count,
        )
    if starts_at == activity.starts_at and place == activity.place:
        raise InvalidInput("activity.unchanged", N_("时间和地点都没有变，不用通知大家。"))
    if activity.ends_at is not None:
        activity.ends_at = starts_at + (activity.ends_at - activity.starts_at)
    activity.starts_at, activity.place = starts_at, place
    activity.revision += 1
    session.add(activity)
    assert activity.id is not None
    members = signed_up_members(session, activity.id, waiting_too=True)
    enqueue(
        session,
        [
            NewPush(
                key=changed_key(activity.id, activity.revision, member_id),
                member_id=member_id,
                kind=PushKind.STATUS,
                topic=CHANGED_TOPIC,
                subject_id=activity.id,
                params={"revision": activity.revision},
            )
            for member_id in members
        ],
        now=now,
    )
    session.flush()
    return len(members)
