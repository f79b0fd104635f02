"""The reminders before an activity in words, and the job that queues them every few minutes."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from sqlmodel import Session

from handlers.activities.render import local_time
from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.module import Job, JobContext
from handlers.core.pushes import Push
from models.activities import Activity, ActivityBatch, ActivityPolicy, ActivityStatus, is_signed_up, signup_of
from models.activities.reminders import enqueue_activity_reminders
from models.members import Member
from models.outbox import PushRow

log = logging.getLogger(__name__)


def render_reminder(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The reminder, if it still holds when sent: the activity on, at that time, the member signed up."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    member = session.get(Member, row.member_id)
    if activity is None or member is None or activity.status is not ActivityStatus.OPEN:
        return None
    assert activity.id is not None
    starts = activity.starts_at
    signup = signup_of(session, member=member, activity_id=activity.id)
    if signup is not None and signup.batch_id is not None:
        batch = session.get(ActivityBatch, signup.batch_id)
        starts = batch.starts_at if batch is not None else starts
    if starts.isoformat() != row.params.get("starts_at"):
        return None  # moved: the reminder for the new time says it
    if not is_signed_up(session, member=member, activity_id=activity.id):
        return None
    title = t("活动提醒")
    text = t("您报名的活动“{title}”将于 {time} 在{place}举行，请准时参加。").format(
        title=activity.title, time=local_time(starts, zone), place=activity.place
    )
    text += "\n" + t("如果去不了，请回复“我的报名”取消报名，把名额让给别人。")
    return Push(title=title, reply=Reply(t("【{title}】").format(title=title) + text), body=text)


def queue_activity_reminders(context: JobContext) -> int:
    """Queue the reminders whose time has come (models.activities.reminders)."""
    now: datetime = context.clock()
    with context.sessions() as session:
        added = enqueue_activity_reminders(
            session, now=now, remind_before=context.policy(ActivityPolicy).remind_before
        )
    log.info("activity reminders: %d queued", added)
    return added


# Every five minutes: an hour-before reminder is at most five minutes late.
REMINDERS_JOB = Job(id="activity_reminders", run=queue_activity_reminders, schedule="*/5 * * * *")
