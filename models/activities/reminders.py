"""Reminders before an activity: a day before and an hour before (settings), to those still signed up.

A job runs every few minutes and queues, for each activity whose reminder time
has come and which has not started, one outbox row per member signed up, keyed
by the activity, the reminder and the start time. Running twice, or after a
restart, queues nothing twice; an activity moved to another time gets reminders
for its new time. A reminder whose time has passed while the bot was down still
goes out once, unless the next, shorter one is already due: a member is not
told "tomorrow" an hour before, nor reminded of what they signed up for a
moment ago. Whether the member is still signed up is
checked again when the reminder is sent (the renderer), so one who cancelled
in between hears nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models.activities.tables import (
    REMINDER_TOPIC,
    Activity,
    ActivityBatch,
    ActivitySignup,
    ActivityStatus,
    SignupStatus,
)
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue


def reminder_key(activity_id: int, lead: timedelta, starts_at: datetime, member_id: int) -> str:
    minutes = int(lead.total_seconds() // 60)
    return f"activity:{activity_id}:reminder:{minutes}m:{starts_at.isoformat()}:member:{member_id}"


def _sessions(
    session: Session, *, now: datetime, horizon: timedelta
) -> list[tuple[Activity, int | None, datetime]]:
    """What starts within the horizon and has not started: activities held once, and batches."""
    held_once = session.exec(
        select(Activity).where(
            Activity.status == ActivityStatus.OPEN,
            col(Activity.starts_at) > now,
            col(Activity.starts_at) <= now + horizon,
            col(Activity.id).not_in(select(ActivityBatch.activity_id)),
        )
    ).all()
    batches = session.exec(
        select(Activity, ActivityBatch)
        .join(ActivityBatch, col(ActivityBatch.activity_id) == col(Activity.id))
        .where(
            Activity.status == ActivityStatus.OPEN,
            col(ActivityBatch.starts_at) > now,
            col(ActivityBatch.starts_at) <= now + horizon,
        )
    ).all()
    return [(activity, None, activity.starts_at) for activity in held_once] + [
        (activity, batch.id, batch.starts_at) for activity, batch in batches
    ]


def enqueue_activity_reminders(session: Session, *, now: datetime, remind_before: Sequence[timedelta]) -> int:
    """Queue the reminders whose time has come, in the caller's transaction.

    Args:
        remind_before: the leads, in any order; each is sent once per start time (per batch).

    Returns:
        How many pushes were new.
    """
    leads = sorted(remind_before, reverse=True)
    if not leads:
        return 0
    pushes: list[NewPush] = []
    for activity, batch_id, starts_at in _sessions(session, now=now, horizon=leads[0]):
        assert activity.id is not None
        left = starts_at - now
        # The shortest lead already reached is the one that speaks now; the longer ones are moot.
        lead = [lead for lead in leads if left <= lead][-1]
        # Who signed up after this reminder's moment has just read the time: no reminder yet.
        members = session.exec(
            select(ActivitySignup.member_id)
            .join(Member, col(Member.id) == col(ActivitySignup.member_id))
            .where(
                ActivitySignup.activity_id == activity.id,
                ActivitySignup.status == SignupStatus.SIGNED_UP,
                ActivitySignup.batch_id == batch_id,
                col(ActivitySignup.signed_up_at) <= starts_at - lead,
                Member.status == MemberStatus.ACTIVE,
            )
        ).all()
        for member_id in members:
            pushes.append(
                NewPush(
                    key=reminder_key(activity.id, lead, starts_at, member_id),
                    member_id=member_id,
                    kind=PushKind.REMINDER,
                    topic=REMINDER_TOPIC,
                    subject_id=activity.id,
                    params={
                        "starts_at": starts_at.isoformat(),
                        "lead_minutes": int(lead.total_seconds() // 60),
                    },
                )
            )
    return enqueue(session, pushes, now=now) if pushes else 0
