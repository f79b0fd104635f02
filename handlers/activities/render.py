"""How an activity reads wherever it is shown, and the news to those signed up that it is off."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.pushes import Push
from models.activities import Activity, ActivityStatus, activity_units, is_signed_up
from models.members import Member
from models.outbox import PushRow
from models.units import unit_path


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored UTC time as the union reads it, in its own zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def units_text(session: Session, activity_id: int) -> str:
    """The units whose members may sign up, as one line."""
    return "、".join(unit_path(session, unit) for unit in activity_units(session, activity_id))


def render_cancelled(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The news to a member signed up that the activity is off, and why when the cadre said."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    if activity is None or activity.status is not ActivityStatus.CANCELLED:
        return None
    assert activity.id is not None
    units = activity_units(session, activity.id)
    text = t("很抱歉，您报名的活动“{title}”（{time}，{place}）已取消。").format(
        title=activity.title, time=local_time(activity.starts_at, zone), place=activity.place
    )
    if activity.cancel_reason:
        text += "\n" + t("取消原因：{reason}").format(reason=activity.cancel_reason)
    return Push(
        title=t("活动取消通知"),
        reply=Reply(text),
        body=text,
        unit=unit_path(session, units[0]) if units else None,
    )


def render_promoted(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The news to a member who waited that a place freed and is now theirs, and how to pass it on.

    Nothing is sent when it no longer holds by the time it leaves (they cancelled
    meanwhile, or the activity was called off and that news went instead).
    """
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    member = session.get(Member, row.member_id)
    if activity is None or member is None or activity.status is not ActivityStatus.OPEN:
        return None
    assert activity.id is not None
    if not is_signed_up(session, member=member, activity_id=activity.id):
        return None
    text = "\n".join(
        [
            t("好消息！您候补的活动“{title}”有空位了，已为您报名成功：{time}，{place}。").format(
                title=activity.title, time=local_time(activity.starts_at, zone), place=activity.place
            ),
            t("如果去不了，请回复“我的报名”，选中这个活动后取消报名，名额会让给下一位候补的会员。"),
        ]
    )
    units = activity_units(session, activity.id)
    return Push(
        title=t("候补成功通知"),
        reply=Reply(text),
        body=text,
        unit=unit_path(session, units[0]) if units else None,
    )
