"""How an activity reads wherever it is shown, and the news to those signed up that it is off."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session

from handlers.core.i18n import Translator
from handlers.core.messages import Button, Reply
from handlers.core.pushes import Push
from models.activities import Activity, ActivityStatus, activity_units, is_signed_up
from models.base import utcnow
from models.members import Member
from models.outbox import PushRow
from models.units import unit_path


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored UTC time as the union reads it, in its own zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def time_span(starts_at: datetime, ends_at: datetime | None, zone: tzinfo) -> str:
    """ "2026-11-28 14:00", or with its end: "2026-11-28 14:00 至 17:00" (the end's date when another day)."""
    start = local_time(starts_at, zone)
    if ends_at is None:
        return start
    end = ends_at.astimezone(zone)
    same_day = end.date() == starts_at.astimezone(zone).date()
    return f"{start} - {end.strftime('%H:%M') if same_day else local_time(ends_at, zone)}"


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


def _open_button(t: Translator, activity: Activity) -> Button:
    """Opens the activity itself (Telegram); WeChat shows it as text with the way to it."""
    return Button(t("查看活动"), f"go:activities:{activity.id}")


def unit_of(session: Session, activity: Activity) -> str | None:
    """The first unit an activity is open to, as a template's sender field names it."""
    assert activity.id is not None
    units = activity_units(session, activity.id)
    return unit_path(session, units[0]) if units else None


def render_announced(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """A new activity, to every member who may sign up, with the way to it; nothing once it is off
    or sign-up has closed."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    if activity is None or activity.status is not ActivityStatus.OPEN or activity.signup_deadline <= utcnow():
        return None
    title = t("新活动：{title}").format(title=activity.title)
    text = "\n".join(
        [
            t("“{title}”开始报名了：{time}，{place}。").format(
                title=activity.title, time=local_time(activity.starts_at, zone), place=activity.place
            ),
            activity.description,
            t("报名截止：{time}。回复“活动 {number}”查看并报名。").format(
                time=local_time(activity.signup_deadline, zone), number=activity.id
            ),
        ]
    )
    reply = Reply(text, buttons=(_open_button(t, activity),))
    return Push(title=title, reply=reply, body=text, unit=unit_of(session, activity))


def render_changed(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """A change of time or place, to those signed up or waiting; a change overtaken by a later one
    says nothing (the later one says it all)."""
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    if activity is None or activity.status is not ActivityStatus.OPEN:
        return None
    if activity.revision != row.params.get("revision"):
        return None
    text = t("您报名的活动“{title}”有变动，现在改为：{time}，在{place}举行。请留意。").format(
        title=activity.title, time=local_time(activity.starts_at, zone), place=activity.place
    )
    reply = Reply(text, buttons=(_open_button(t, activity),))
    return Push(title=t("活动变动通知"), reply=reply, body=text, unit=unit_of(session, activity))
